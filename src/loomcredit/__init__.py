"""Loom: a big-data credit platform for small and micro enterprises (小微企业大数据信贷)."""

__version__ = "0.1.0"
