"""JSON API of notifications."""

from __future__ import annotations

from fastapi import APIRouter

from app.web.api import COMMON_ERRORS

router = APIRouter(tags=["notifications"], responses=COMMON_ERRORS)
