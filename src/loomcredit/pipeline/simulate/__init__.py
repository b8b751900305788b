"""The Keqiao textile-cluster simulator: every raw source of the data contract, plus the truth.

>>> from loomcredit.pipeline.simulate import SimulationConfig, simulate
>>> # simulate(SimulationConfig(enterprises=300, months=24, seed=1), Path("/tmp/lake"))
"""

from __future__ import annotations

from loomcredit.pipeline.simulate.config import SimulationConfig, SimulationSummary
from loomcredit.pipeline.simulate.run import simulate

__all__ = ["SimulationConfig", "SimulationSummary", "simulate"]
