"""Advisor pages (filled by their owner)."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

router = APIRouter()


def setup(app: FastAPI) -> None:
    """Create this feature's state on ``app`` (called once by ``create_app``)."""
