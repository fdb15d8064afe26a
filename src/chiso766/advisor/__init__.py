"""Improvement advisor and early warning: exact actions, warnings, forecast, what-if, documents and alerts."""
