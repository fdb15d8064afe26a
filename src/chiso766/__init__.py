"""chiso766 — open computation of the Decision 766/QĐ-TTg index ("chỉ số 766").

Layers (one folder each, data flows one way):

- ``methodology``: the index rules as versioned data (YAML) and their validating loader.
- ``scoring``: counters → indicator points → group points → total, with the portal's rounding.
- ``domain``: periods (kỳ) and the administrative unit tree (đơn vị).
- ``reference``: shipped reference data (provinces, communes, example counters).
- ``cli``: the ``chiso766`` command line (thin: parse, call, shape the output).
"""

__version__ = "0.1.0"
