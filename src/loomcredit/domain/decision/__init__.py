"""Credit decision policy (授信决策): screening rules, pricing, limits, plans, bands and records.

Pure values and functions; the use case that wires them with a scorer and a feature source is
``loomcredit.service_layer.decisioning``.
"""
