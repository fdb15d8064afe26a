"""Routes of this feature (see the module owner's docstring once filled)."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

router = APIRouter()


def setup(app: FastAPI) -> None:
    """Create this feature's tables and state on ``app`` (called once by ``create_app``)."""
