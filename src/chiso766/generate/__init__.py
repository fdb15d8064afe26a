"""Synthetic national records for demos and benchmarks (issue 5): real units, realistic flows, calibrated.

See ``docs/generator.md``. Entry points: :func:`generate` (records folder), :func:`demo_now` (the demo's
"now"), and :mod:`chiso766.generate.live` (a stream of new events posted to the HTTP ingest API).
"""

from chiso766.generate.core import FIXED_DEMO_NOW, KINDS, GenerateConfig, GenerateReport, demo_now, generate

__all__ = ["FIXED_DEMO_NOW", "KINDS", "GenerateConfig", "GenerateReport", "demo_now", "generate"]
