"""The same feature expressions on DuckDB and PySpark give the same snapshot (float tolerance)."""

from __future__ import annotations

import math

import ibis
import pytest

from loomcredit.pipeline.features.engines import EngineUnavailableError, check_engine
from loomcredit.pipeline.features.snapshot import compute_snapshot
from loomcredit.pipeline.features.tables import tables_from_arrow

from .feature_fixtures import AS_OF, tables

pytestmark = [pytest.mark.integration, pytest.mark.spark, pytest.mark.slow]

DATES = (AS_OF,)  # the date with hand-computed answers: parity there also checks Spark by hand


@pytest.fixture(scope="module")
def spark():
    """One local Spark session for the whole module."""
    try:
        check_engine("spark")
    except EngineUnavailableError as exc:
        pytest.skip(str(exc))
    from loomcredit.pipeline.features.engines import spark_session

    session = spark_session("local[1]")
    yield session
    session.stop()


def _rows(table):
    return {row["uscc"]: row for row in table.to_pylist()}


def test_duckdb_and_spark_agree(spark, tmp_path):
    """Every feature of every enterprise is equal on both engines (floats to 1e-9)."""
    data = tables()
    duck = ibis.duckdb.connect()
    duck_tables = tables_from_arrow(duck, data)
    sc = ibis.pyspark.connect(spark)
    spark_tables = tables_from_arrow(sc, data, empty_dir=tmp_path)
    for as_of in DATES:
        on_duck = _rows(compute_snapshot(duck, duck_tables, as_of=as_of))
        on_spark = _rows(compute_snapshot(sc, spark_tables, as_of=as_of))
        assert on_duck.keys() == on_spark.keys()
        for uscc, row in on_duck.items():
            for name, value in row.items():
                other = on_spark[uscc][name]
                if isinstance(value, float):
                    assert isinstance(other, float), (as_of, uscc, name)
                    assert math.isclose(value, other, rel_tol=1e-9, abs_tol=1e-12), (
                        as_of, uscc, name
                    )  # fmt: skip
                else:
                    assert value == other, (as_of, uscc, name)


def test_unknown_engine_is_a_clear_error():
    """An unknown engine name is refused with the list of engines."""
    with pytest.raises(EngineUnavailableError, match="duckdb, spark"):
        check_engine("flink")
