"""Jinja2 environment and the `render` helper: full pages, or one named block for htmx."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from fastapi import Request
from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context, select_autoescape
from jinja2.runtime import Context
from jinja2_fragments import render_block
from markupsafe import Markup
from starlette.responses import HTMLResponse

from app import i18n
from app.config import PROJECT_ROOT
from app.db import utcnow
from app.errors import DomainError
from app.markdown import render_markdown
from app.web import flash
from app.web.auth import current_auth
from app.web.csrf import token_for
from app.web.idempotency import form_field as idempotency_field
from app.web.language import request_language
from app.web.urls import path_for

TEMPLATES = PROJECT_ROOT / "templates"
STATIC = PROJECT_ROOT / "static"


@cache
def _static_version(path: str) -> str:
    """A short content hash, so that browsers may cache static files for a long time."""
    file = STATIC / path
    return hashlib.sha256(file.read_bytes()).hexdigest()[:10] if file.is_file() else "0"


def _static_url(path: str) -> str:
    return f"/static/{path}?v={_static_version(path)}"


@pass_context
def _url_for(context: Context, name: str, /, **params: Any) -> str:
    return path_for(context["request"], name, **params)


@pass_context
def _csrf_field(context: Context) -> Markup:
    """The hidden CSRF input; a global, so blocks rendered alone for htmx have it too."""
    return Markup('<input type="hidden" name="csrf_token" value="{}">').format(
        context["csrf_token"]
    )


def _language_options(chosen: str) -> Markup:
    """The `<option>`s of a "Written in" select: a thread page has one per reply form."""
    # Only a known code is remembered as chosen: a refused form may send back anything.
    return _options_in(i18n.current(), chosen if chosen in i18n.CONTENT_LANGUAGES else "")


@cache
def _options_in(reader: str, chosen: str) -> Markup:
    option = Markup('<option value="{}"{}>{}</option>')
    return Markup("").join(
        option.format(code, Markup(" selected") if code == chosen else "", name)
        for code, name in i18n.content_language_choices()
    )


def _datetime(value: datetime | None) -> str:
    return i18n.date_time(value) if value else ""


def _date(value: datetime | None) -> str:
    return i18n.date(value) if value else ""


def _ago(value: datetime | None) -> str:
    return i18n.relative(utcnow(), value) if value is not None else ""


def _time_tag(value: datetime | None) -> Markup:
    if value is None:
        return Markup("")
    return Markup('<time datetime="{}" title="{}">{}</time>').format(
        value.astimezone(UTC).isoformat(), _datetime(value), _ago(value)
    )


def make_environment(templates: Path = TEMPLATES) -> Environment:
    env = Environment(
        loader=FileSystemLoader(templates),
        extensions=["jinja2.ext.i18n"],
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    # New-style gettext: `_("Hello %(name)s", name=x)` escapes `x` and formats once.
    env.install_gettext_callables(  # type: ignore[attr-defined]
        **i18n.template_callables(), newstyle=True
    )
    env.globals.update(
        url_for=_url_for,
        static_url=_static_url,
        csrf_field=_csrf_field,
        idempotency_field=idempotency_field,
        # What content is written in: the choices of a form, and labels in the reader's words.
        content_language_choices=i18n.content_language_choices,
        language_options=_language_options,
        language_name=i18n.language_name,
        reader_language=i18n.current,
    )
    env.filters.update(
        markdown=render_markdown, datetime=_datetime, date=_date, ago=_ago, time_tag=_time_tag
    )
    return env


def is_htmx(request: Request) -> bool:
    """A partial update from htmx (history restores need the whole page)."""
    return (
        request.headers.get("hx-request") == "true"
        and request.headers.get("hx-history-restore-request") != "true"
    )


def _full_context(request: Request, context: dict[str, Any] | None) -> dict[str, Any]:
    try:
        user = current_auth(request).user
    except DomainError:
        user = None
    language = request_language(request, user)
    i18n.set_language(language)
    return {
        "request": request,
        "current_user": user,
        "language": language,
        "languages": i18n.LANGUAGES,
        "csrf_token": token_for(request),
        "flashes": flash.pending(request),
        **(context or {}),
    }


def render_string(request: Request, template: str, context: dict[str, Any]) -> str:
    """A template rendered for this request's viewer, as text (e.g. for a live event)."""
    env: Environment = request.app.state.templates
    return env.get_template(template).render(_full_context(request, context))


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    block: str | None = None,
) -> HTMLResponse:
    """Render a page, or only its `block` when htmx asks for a partial update."""
    env: Environment = request.app.state.templates
    full_context = _full_context(request, context)
    partial = block is not None and is_htmx(request)
    if block is not None and partial:
        html = render_block(env, template, block, **full_context)
    else:
        html = env.get_template(template).render(full_context)
    response = HTMLResponse(html, status_code=status_code)
    response.headers["Vary"] = "HX-Request, Accept-Language"
    if not partial:
        flash.consume(request, response)
    return response
