"""The service layer: a store kept current and scored, shared by every edge (API, pages, demo, advisor)."""

from chiso766.service.scoreboard import DataState, Scoreboard, system_clock, tracked_periods

__all__ = ["DataState", "Scoreboard", "system_clock", "tracked_periods"]
