"""Shaping numbers, dates and labels for people (vi-VN first, English available); shared by every edge."""

from chiso766.presentation.format import NULL, fmt_count, fmt_date, fmt_points, fmt_rate

__all__ = ["NULL", "fmt_count", "fmt_date", "fmt_points", "fmt_rate"]
