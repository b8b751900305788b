"""Engine selection (计算引擎): the same Ibis expressions on DuckDB (default) or PySpark.

DuckDB runs in-process and is the default for one machine. Spark runs the same expressions in local
mode (``local[2]``) or against a cluster URL; it needs Java and pyspark, and says so clearly when
either is missing.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import shutil
from typing import Any, Literal

from loomcredit.domain.errors import LoomError

log = logging.getLogger(__name__)

EngineName = Literal["duckdb", "spark"]
ENGINES: tuple[EngineName, ...] = ("duckdb", "spark")


class EngineUnavailableError(LoomError, RuntimeError):
    """The requested compute engine cannot run here (missing Java, pyspark, or unknown name)."""


def check_engine(name: str) -> EngineName:
    """Validate an engine name and that its runtime is present.

    Args:
        name: ``duckdb`` or ``spark``.

    Returns:
        The name, typed.

    Raises:
        EngineUnavailableError: Unknown engine, or Spark without pyspark or Java.
    """
    if name == "duckdb":
        return "duckdb"
    if name != "spark":
        raise EngineUnavailableError(
            f"Unknown engine {name!r}; choose one of: {', '.join(ENGINES)}."
        )
    if importlib.util.find_spec("pyspark") is None:
        raise EngineUnavailableError("Engine 'spark' needs pyspark, which is not installed.")
    java_home = os.environ.get("JAVA_HOME")
    has_java = shutil.which("java") is not None or (
        java_home is not None and os.path.exists(os.path.join(java_home, "bin", "java"))
    )
    if not has_java:
        raise EngineUnavailableError(
            "Engine 'spark' needs Java (set JAVA_HOME or put java on PATH)."
        )
    return "spark"


def connect(name: str, *, spark_master: str = "local[2]", spark: Any = None) -> Any:
    """An Ibis connection on the named engine.

    Args:
        name: ``duckdb`` or ``spark``.
        spark_master: Spark master URL when a new session is started.
        spark: An existing SparkSession to reuse (tests keep one per module).

    Returns:
        The Ibis backend.
    """
    import ibis

    engine = check_engine(name)
    if engine == "duckdb":
        return ibis.duckdb.connect()
    if spark is None:
        spark = spark_session(spark_master)
    return ibis.pyspark.connect(spark)


def spark_session(master: str = "local[2]") -> Any:
    """A Spark session tuned for small local runs (few shuffle partitions, no UI)."""
    check_engine("spark")
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master(master)
        .appName("loom-features")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    return session
