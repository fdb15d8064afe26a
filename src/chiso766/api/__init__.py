"""HTTP edge: the FastAPI application (JSON API under ``/api/v1``, pages at ``/``), one JSON error shape."""

from chiso766.api.app import AppSettings, create_app

__all__ = ["AppSettings", "create_app"]
