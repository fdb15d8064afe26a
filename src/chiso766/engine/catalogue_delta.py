"""Catalogue counters moved by the catalogue fact rows that changed, instead of recounted (``LiveIndex``).

A catalogue counter of (period P, unit a, indicator I) counts DISTINCT items (METHODOLOGY §2 General rules,
"union of … TTHC"), so it is not a sum over fact rows; but it is a sum over *items*: each item i adds
``[i is in a's subtree in P]`` to the denominator and ``[i is a hit there]`` to the numerator, and both depend
only on i's own rows (its static ``'*'`` rows and its P rows). :func:`catalogue_delta_sql` therefore takes
the old and the new P rows of the items an update recomputed and returns, per (P, a, I), the new contribution
minus the old one of the items whose rows changed — the same numbers as (new full count − old full count) of
:func:`chiso766.engine.facts_catalogue.catalogue_counts_sql`, for work that follows the changed rows, not the
periods' catalogue size. The classes and combine units are that function's (see its docstring):

- *at unit* (1.1, 1.2, 1.3, 3.1, 4.5a) and *one-unit items* (3.2): an item counts at the unit of its row, so
  only the changed (P, I, unit, item) keys themselves move; 3.2's per-unit moves are then summed over
  ``unit_closure`` ancestors, as its counts are;
- *pooled* (3.5, 3.5b): an item counts at every ancestor of a unit with a row (OR of hits), so the changed
  keys move their ancestors, judged from all of that item's P rows in each side (every row of a recomputed
  (P, I, item) is in both sides).

The static contribution of an item is read from the materialised static items (``catalogue_static_sql``'s
``static_items``, at the same combine units), so an item that is static at a unit and gains or loses its
P row there moves the numerator only (|S ∪ D| = |S| + |D ∖ S|).
"""

from __future__ import annotations

from collections.abc import Sequence

from chiso766.engine.facts_catalogue import _AT_UNIT, _ONE_UNIT_ITEMS

__all__ = ["catalogue_delta_sql"]


def _sql_strings(values: Sequence[str]) -> str:
    """A SQL list of string literals (quotes doubled); ``''`` when empty so ``IN (...)`` stays valid."""
    return ", ".join("'" + v.replace("'", "''") + "'" for v in values) or "''"


def _check_table_name(name: str) -> None:
    if not name.replace("_", "").isalnum():
        raise ValueError(f"not a plain table name: {name!r}")


def catalogue_delta_sql(
    rows: tuple[str, str], changed_rows: tuple[str, str], static_items: str, indicators: Sequence[str]
) -> str:
    """One SELECT of ``(period_id, unit_code, indicator_code, numerator, denominator)`` deltas (BIGINT).

    ``rows`` = (old, new): tables of catalogue fact rows (the columns of ``catalogue_facts_sql``) holding,
    before and after an update, *every* dated row of each recomputed (period, indicator, item); keys outside
    them must not have changed. ``changed_rows`` = (gone, added): the rows of old not in new and of new not in
    old (small; of ``rows`` only the rows of the changed pooled items are read). ``static_items`` is the
    materialised ``static_items`` of :func:`chiso766.engine.facts_catalogue.catalogue_static_sql`. Only
    ``indicators`` are counted. Rows may be zero (a changed row whose item stays counted, e.g. static at that
    unit, or a changed reason): the caller drops 0/0 deltas. Reads ``unit_closure``.
    """
    old_rows, new_rows = rows
    gone, added = changed_rows
    for name in (old_rows, new_rows, gone, added, static_items):
        _check_table_name(name)
    local = _sql_strings(_AT_UNIT + _ONE_UNIT_ITEMS)
    one_unit = _sql_strings(_ONE_UNIT_ITEMS)
    chosen = _sql_strings(indicators)
    return f"""
WITH
-- keys present on one side only, or with another hit or reason
changed AS (
    SELECT period_id, indicator_code, unit_code, item_code FROM {gone} WHERE indicator_code IN ({chosen})
    UNION
    SELECT period_id, indicator_code, unit_code, item_code FROM {added} WHERE indicator_code IN ({chosen})
),
-- combine keys whose contribution can move: the changed key (at-unit, one-unit) or its ancestors (pooled)
moved AS (
    SELECT period_id, indicator_code, unit_code, item_code FROM changed WHERE indicator_code IN ({local})
    UNION
    SELECT ch.period_id, ch.indicator_code, c.ancestor AS unit_code, ch.item_code
    FROM changed ch JOIN unit_closure c ON c.descendant = ch.unit_code
    WHERE ch.indicator_code NOT IN ({local})
),
pooled_items AS (
    SELECT DISTINCT period_id, indicator_code, item_code FROM changed WHERE indicator_code NOT IN ({local})
),
-- each side's rows that can move a count: at a changed key of an at-unit / one-unit indicator the old row is
-- its gone row and the new one its added row (a key missing from one of them has no row on that side); a
-- pooled item's rows are all read (rows of other units under an ancestor still count there)
sides AS (
    SELECT 1 AS w, period_id, indicator_code, unit_code, item_code, hit
    FROM {added} WHERE indicator_code IN ({local}) AND indicator_code IN ({chosen})
    UNION ALL
    SELECT -1 AS w, period_id, indicator_code, unit_code, item_code, hit
    FROM {gone} WHERE indicator_code IN ({local}) AND indicator_code IN ({chosen})
    UNION ALL
    SELECT 1 AS w, f.period_id, f.indicator_code, f.unit_code, f.item_code, f.hit
    FROM {new_rows} f JOIN pooled_items i
      ON i.period_id = f.period_id AND i.indicator_code = f.indicator_code AND i.item_code = f.item_code
    UNION ALL
    SELECT -1 AS w, f.period_id, f.indicator_code, f.unit_code, f.item_code, f.hit
    FROM {old_rows} f JOIN pooled_items i
      ON i.period_id = f.period_id AND i.indicator_code = f.indicator_code AND i.item_code = f.item_code
),
-- each side's items at their combine units (pooled: every ancestor, OR of the subtree's hits)
side_items AS (
    SELECT w, period_id, indicator_code, unit_code, item_code, CASE WHEN hit THEN 1 ELSE 0 END AS hit
    FROM sides WHERE indicator_code IN ({local})
    UNION ALL
    SELECT s.w, s.period_id, s.indicator_code, c.ancestor AS unit_code, s.item_code,
           MAX(CASE WHEN s.hit THEN 1 ELSE 0 END) AS hit
    FROM sides s JOIN unit_closure c ON c.descendant = s.unit_code
    WHERE s.indicator_code NOT IN ({local})
    GROUP BY s.w, s.period_id, s.indicator_code, c.ancestor, s.item_code
),
-- per moved key and side: is the item counted (static or dated row) and is it a hit there
contributions AS (
    SELECT m.period_id, m.unit_code, m.indicator_code, sg.w,
           CASE WHEN x.item_code IS NOT NULL OR st.item_code IS NOT NULL THEN 1 ELSE 0 END AS den,
           CASE WHEN COALESCE(x.hit, 0) = 1 OR COALESCE(st.hit, 0) = 1 THEN 1 ELSE 0 END AS num
    FROM moved m
    CROSS JOIN (SELECT 1 AS w UNION ALL SELECT -1 AS w) sg
    LEFT JOIN side_items x
      ON x.w = sg.w AND x.period_id = m.period_id AND x.indicator_code = m.indicator_code
     AND x.unit_code = m.unit_code AND x.item_code = m.item_code
    LEFT JOIN {static_items} st
      ON st.unit_code = m.unit_code AND st.indicator_code = m.indicator_code AND st.item_code = m.item_code
),
per_combine AS (
    SELECT period_id, unit_code, indicator_code,
           CAST(SUM(w * num) AS BIGINT) AS numerator, CAST(SUM(w * den) AS BIGINT) AS denominator
    FROM contributions
    GROUP BY period_id, unit_code, indicator_code
)
SELECT period_id, unit_code, indicator_code, numerator, denominator
FROM per_combine WHERE indicator_code NOT IN ({one_unit})
UNION ALL
SELECT p.period_id, c.ancestor AS unit_code, p.indicator_code,
       CAST(SUM(p.numerator) AS BIGINT) AS numerator, CAST(SUM(p.denominator) AS BIGINT) AS denominator
FROM per_combine p JOIN unit_closure c ON c.descendant = p.unit_code
WHERE p.indicator_code IN ({one_unit})
GROUP BY p.period_id, c.ancestor, p.indicator_code
"""
