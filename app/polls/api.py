"""JSON API of polls: open, ballots, objections and rulings, close, results, export, policy."""

from __future__ import annotations

from fastapi import APIRouter

from app.web.api import COMMON_ERRORS

router = APIRouter(tags=["polls"], responses=COMMON_ERRORS)
