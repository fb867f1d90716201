"""The data lake and the distributed mart refresh: raw tables as Parquet partitioned by
month (export.py), the marts built from them on Apache Spark (spark_refresh.py, running the
builders of data_seed/mart_builds.py through spark_runner.py), and the marts published into
the serving warehouse (publish.py). See docs/lake.md."""
