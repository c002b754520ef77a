"""The admins' outbox page: the mail the site wrote, sent or waiting (in development, where it
goes to the log, this is where to read it)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from app.mail import service
from app.web.deps import CurrentUser, SessionDep
from app.web.templating import render

router = APIRouter(tags=["mail"])


@router.get("/admin/outbox", name="outbox")
def outbox(request: Request, db: SessionDep, user: CurrentUser) -> Response:
    return render(request, "mail/outbox.html", {"mails": service.recent(db, actor=user)})
