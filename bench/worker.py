"""One warehouse, measured in its own process: `python -m bench.worker URL OUT.json [options]`.

Its own process so that the peak resident memory it reports is that of a dashboard
process that rendered every page (AppTest runs the pages in-process), not the
benchmark's or the generator's.
"""

import argparse
import json
import logging
import resource
import sys
import time

from bench.config import REPEATS, pages, variants
from bench.lists import measure_lists
from bench.recording import demo_users_dir, render
from bench.timing import cold, warm
from queries.marts import use_marts

SLOWEST_SHOWN = 3


def measure(url: str, repeats: int, only_pages: set[str] | None, only_variants: set[str] | None, log) -> list[dict]:
    results = []
    for path, page_file in pages():
        if only_pages and path not in only_pages:
            continue
        for variant in variants():
            if only_variants and variant.name not in only_variants:
                continue
            quiet_streamlit()  # AppTest sets Streamlit's log levels again on every run
            rendered = render(url, path, variant, page_file)
            selects = [statement.select for statement in rendered.statements]
            cold_timing = cold(url, selects, repeats)
            warm_timing, per_select = warm(url, selects, repeats)
            slowest = sorted(zip(per_select, rendered.statements, strict=True), key=lambda pair: -pair[0])
            results.append(
                {
                    "page": path,
                    "variant": variant.name,
                    "params": variant.params,
                    "render_s": rendered.seconds,
                    "errors": rendered.errors,
                    "statements": len(selects),
                    "rows": sum(statement.rows for statement in rendered.statements),
                    "cold": cold_timing.as_dict(),
                    "warm": warm_timing.as_dict(),
                    "slowest": [
                        {"warm_p50": seconds, "rows": statement.rows, "sql": statement.sql}
                        for seconds, statement in slowest[:SLOWEST_SHOWN]
                    ],
                    "all": [
                        {
                            "warm_p50": seconds,
                            "first_s": statement.seconds,
                            "rows": statement.rows,
                            "sql": statement.sql,
                        }
                        for seconds, statement in zip(per_select, rendered.statements, strict=True)
                    ],
                }
            )
            log(
                f"  {path:<11} {variant.name:<10} {len(selects):>3} selects  render {rendered.seconds:6.2f} s  "
                f"cold p95 {cold_timing.p95:6.3f} s  warm p95 {warm_timing.p95:6.3f} s"
                + (f"  ERRORS {rendered.errors}" if rendered.errors else "")
            )
    return results


def log(line: str) -> None:
    print(line, flush=True)


def quiet_streamlit() -> None:
    """AppTest runs pages outside a server: Streamlit warns about the missing run context on
    every cached call. Keep the benchmark's output to its numbers."""
    for name in list(logging.root.manager.loggerDict):
        if name.startswith("streamlit"):
            logging.getLogger(name).setLevel(logging.ERROR)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.worker")
    parser.add_argument("url")
    parser.add_argument("out")
    parser.add_argument("--repeats", type=int, default=REPEATS)
    parser.add_argument("--pages", nargs="*")
    parser.add_argument("--variants", nargs="*")
    parser.add_argument("--raw", action="store_true", help="answer every measure from the raw tables (no marts)")
    arguments = parser.parse_args(argv)
    if arguments.raw:
        use_marts(False)
    demo_users_dir()
    started = time.perf_counter()
    results = measure(
        arguments.url,
        arguments.repeats,
        set(arguments.pages or ()),
        set(arguments.variants or ()),
        log,
    )
    # The Customers page's drill-down list opens on demand, so no page render runs it.
    wanted = not arguments.pages or "customers" in arguments.pages
    lists = measure_lists(arguments.url, arguments.repeats, log) if wanted else []
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with open(arguments.out, "w", encoding="utf-8") as handle:
        json.dump(
            {
                "pages": results,
                "lists": lists,
                "peak_rss_mb": peak_kb / 1024,
                "seconds": time.perf_counter() - started,
                "raw": arguments.raw,
            },
            handle,
            indent=1,
            default=str,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
