"""How the builders' statements read in Spark SQL (compiled only: no Spark needed here; the
cluster runs them in tests_spark/)."""

from datetime import date

import pytest
from sqlalchemy import select

from lake.spark_dialect import SparkDialect, spark_schema
from lake.spark_runner import _month_from
from queries.marts import mart_customer_month, mart_refresh
from queries.sql_functions import days_between, hours_between
from queries.tables import campaign_targets, complaints, customers


def spark_sql(statement) -> str:
    return str(statement.compile(dialect=SparkDialect(), compile_kwargs={"render_postcompile": True}))


def test_date_differences_use_sparks_own_functions():
    k = complaints.c
    sql = spark_sql(select(hours_between(k.opened_at, k.resolved_at), days_between(k.opened_at, k.resolved_at)))
    assert "timestampdiff(MICROSECOND, complaints.opened_at, complaints.resolved_at)" in sql
    assert "datediff(CAST(complaints.resolved_at AS DATE), CAST(complaints.opened_at AS DATE))" in sql


def test_booleans_are_native_and_values_are_named_parameters():
    t = campaign_targets.c
    sql = spark_sql(select(t.customer_id).where(t.churned_within_90d, t.targeted_on >= date(2026, 1, 1)))
    assert "campaign_targets.churned_within_90d AND campaign_targets.targeted_on >= :targeted_on_1" in sql
    assert "= 1" not in sql


def test_column_types_have_sparks_names():
    assert spark_schema([customers.c.customer_key, complaints.c.opened_at, customers.c.customer_id]) == (
        "`customer_key` STRING, `opened_at` TIMESTAMP_NTZ, `customer_id` BIGINT"
    )


def test_a_month_mart_is_deleted_by_whole_months_only():
    assert _month_from(mart_customer_month.c.month >= date(2026, 6, 1), mart_customer_month) == date(2026, 6, 1)
    with pytest.raises(ValueError, match="deletes whole months from one month on"):
        _month_from(mart_customer_month.c.month == date(2026, 6, 1), mart_customer_month)
    with pytest.raises(ValueError, match="deletes whole months"):
        _month_from(mart_refresh.c.key == "x", mart_customer_month)
