"""The speed benchmark: `python -m bench` (not part of `make test`).

For each warehouse (DuckDB and PostgreSQL, 1 M and 10 M customers, 36 months), it
renders every page headless (Streamlit AppTest) for a few filter variants, records
every select the page runs through `queries.run` (the one door to the warehouse),
then re-times exactly those selects cold (a fresh engine) and warm, p50/p95 over
repeats; it also reports the rows returned and the peak memory of the process that
rendered the pages. A real-browser timing of a filter change comes last. Results go
to bench_results/<timestamp>.json and a table on stdout.

| module | job |
|---|---|
| `config.py` | sizes, filter variants, paths, repeats |
| `warehouses.py` | seed or reuse the benchmark warehouses (var/bench/, crm_bench_* databases) |
| `recording.py` | render a page with AppTest and record the selects it runs |
| `timing.py` | re-time recorded selects cold and warm |
| `worker.py` | one warehouse in its own process (so its peak memory is its own) |
| `browser.py` | Chromium: time a filter change until every chart has redrawn |
| `report.py` | the printed table and the JSON file |
"""
