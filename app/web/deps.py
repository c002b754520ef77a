"""Typed dependency aliases that keep route signatures short."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.config import Settings
from app.web.auth import optional_user, required_user


def get_db(request: Request) -> Session:
    session: Session = request.state.db
    # Services that apply operator settings (new-account limits) find them on the session.
    session.info[Settings] = request.app.state.settings
    return session


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


SessionDep = Annotated[Session, Depends(get_db)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
OptionalUser = Annotated[User | None, Depends(optional_user)]
CurrentUser = Annotated[User, Depends(required_user)]
ClientIP = Annotated[str, Depends(client_ip)]
