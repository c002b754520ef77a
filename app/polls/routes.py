"""HTML pages of polls: the poll and its results, ballots, objections, the policy page."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["polls"])
