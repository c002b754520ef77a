"""HTML pages of notifications: the list, preferences, unsubscribe links."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["notifications"])
