"""The peer: django-machina, a well-known Python forum engine, under the same load.

It is installed from PyPI into a throwaway virtual environment in a temporary folder (never
the project's), with a Django project written there programmatically: settings, URLs and a
seed script. Each database gets a topic of 10,000 posts (bulk_create, with the rendered HTML
machina's pre_save signal would have stored), and its first page, as machina paginates it by
default (15 posts), is measured with the same wrk load as the app's pages.

It is served by gunicorn with as many sync workers as the app has uvicorn workers: sync
workers are gunicorn's default and what Django's deployment guide starts with; a Django view
and its ORM are synchronous, so an ASGI server would only run them in a thread pool.
"""

from __future__ import annotations

import os
import secrets
import sys
from dataclasses import dataclass
from pathlib import Path

from bench.load import procs

#: What is installed: machina's last release, the Django release it runs on, gunicorn, and
#: the PostgreSQL driver Django supports.
REQUIREMENTS = ["django-machina==1.3.1", "django>=4.2,<5.3", "gunicorn", "psycopg[binary]>=3.1"]
POSTS = 10_000

SETTINGS = '''\
"""Settings of the peer forum (written by bench/load/peer.py): production-like, DEBUG off."""

import json
import os
from pathlib import Path

from machina import MACHINA_MAIN_STATIC_DIR, MACHINA_MAIN_TEMPLATE_DIR

BASE_DIR = Path(__file__).resolve().parent.parent
SECRET_KEY = os.environ["PEER_SECRET_KEY"]
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
DATABASES = {"default": json.loads(os.environ["PEER_DATABASE"])}
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
USE_TZ = True
ROOT_URLCONF = "peer_site.urls"
WSGI_APPLICATION = "peer_site.wsgi.application"
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "mptt",
    "haystack",
    "widget_tweaks",
    "machina",
    "machina.apps.forum",
    "machina.apps.forum_conversation",
    "machina.apps.forum_conversation.forum_attachments",
    "machina.apps.forum_conversation.forum_polls",
    "machina.apps.forum_feeds",
    "machina.apps.forum_moderation",
    "machina.apps.forum_search",
    "machina.apps.forum_tracking",
    "machina.apps.forum_member",
    "machina.apps.forum_permission",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "machina.apps.forum_permission.middleware.ForumPermissionMiddleware",
]
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [MACHINA_MAIN_TEMPLATE_DIR],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "machina.core.context_processors.metadata",
            ],
        },
    },
]
STATIC_URL = "/static/"
STATICFILES_DIRS = [MACHINA_MAIN_STATIC_DIR]
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "machina_attachments": {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": str(BASE_DIR / "attachments-cache"),
    },
}
HAYSTACK_CONNECTIONS = {"default": {"ENGINE": "haystack.backends.simple_backend.SimpleEngine"}}
'''

URLS = """\
from django.urls import include, path

urlpatterns = [path("forum/", include("machina.urls"))]
"""

WSGI = """\
from django.core.wsgi import get_wsgi_application

application = get_wsgi_application()
"""

SEED = '''\
"""Seed the peer forum: members, a forum anonymous visitors may read, a topic of N posts."""

import sys

import django

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import transaction  # noqa: E402
from django.urls import reverse  # noqa: E402
from machina.apps.forum.models import Forum  # noqa: E402
from machina.apps.forum_conversation.models import Post, Topic  # noqa: E402
from machina.apps.forum_permission.models import ForumPermission, UserForumPermission  # noqa: E402

BODIES = {bodies!r}
posts = int(sys.argv[1])
User = get_user_model()
with transaction.atomic():
    users = User.objects.bulk_create(
        [
            User(username=f"member{{n}}", email=f"member{{n}}@example.org", password="!")
            for n in range(1, 41)
        ]
    )
    forum = Forum.objects.create(name="Fan art", type=Forum.FORUM_POST)
    for codename in ("can_see_forum", "can_read_forum"):
        UserForumPermission.objects.create(
            permission=ForumPermission.objects.get(codename=codename),
            anonymous_user=True,
            has_perm=True,
        )
    topic = Topic.objects.create(
        forum=forum,
        subject="Fan art of canon characters",
        poster=users[0],
        type=Topic.TOPIC_POST,
        status=Topic.TOPIC_UNLOCKED,
        approved=True,
    )
    Post.objects.create(topic=topic, poster=users[0], subject=topic.subject, content=BODIES[0])
    content = Post._meta.get_field("content")
    batch = []
    for n in range(1, posts):
        post = Post(
            topic=topic,
            poster=users[n * 7 % len(users)],
            subject="Re: " + topic.subject,
            content=BODIES[n % len(BODIES)],
        )
        # bulk_create sends no pre_save signal, where machina renders the Markdown.
        content.render_data(signal=None, sender=Post, instance=post)
        batch.append(post)
    Post.objects.bulk_create(batch, batch_size=1000)
    topic.update_trackers()
print(
    reverse(
        "forum_conversation:topic",
        kwargs={{
            "forum_slug": forum.slug, "forum_pk": forum.pk, "slug": topic.slug, "pk": topic.pk
        }},
    )
)
'''


@dataclass
class Peer:
    """The installed peer: its folder (venv and project)."""

    folder: Path

    @property
    def python(self) -> Path:
        return self.folder / "venv" / "bin" / "python"

    @property
    def site(self) -> Path:
        return self.folder / "site"


def install(folder: Path) -> Peer:
    """A fresh venv with machina and gunicorn, and the Django project written beside it."""
    from bench import thread as bench_thread

    peer = Peer(folder)
    folder.mkdir(parents=True, exist_ok=True)
    env = _clean_env()
    procs.run(
        [sys.executable, "-m", "venv", str(folder / "venv")], env=env, cwd=folder, what="venv"
    )
    procs.run(
        [str(peer.python), "-m", "pip", "install", "--quiet", "--no-input", *REQUIREMENTS],
        env=env,
        cwd=folder,
        what="pip install of the peer (django-machina)",
    )
    package = peer.site / "peer_site"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "settings.py").write_text(SETTINGS)
    (package / "urls.py").write_text(URLS)
    (package / "wsgi.py").write_text(WSGI)
    (peer.site / "seed.py").write_text(SEED.format(bodies=bench_thread.BODIES))
    return peer


def _clean_env() -> dict[str, str]:
    """The environment without the project's venv or settings leaking into the peer."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("NORMSFORUM_", "PYTHON", "VIRTUAL_ENV", "DJANGO_"))
    }
    venv = os.environ.get("VIRTUAL_ENV")
    if venv:
        env["PATH"] = os.pathsep.join(
            p for p in env.get("PATH", "").split(os.pathsep) if not p.startswith(venv)
        )
    return env


def database_settings(url: str, folder: Path) -> str:
    """Django's DATABASES entry (JSON) for the run's database kind."""
    import json

    if url.startswith("sqlite"):
        return json.dumps({"ENGINE": "django.db.backends.sqlite3", "NAME": str(folder / "peer.db")})
    # postgresql+psycopg://user@host:port/name
    rest = url.split("://", 1)[1]
    credentials, _, location = rest.rpartition("@")
    hostport, _, name = location.partition("/")
    host, _, port = hostport.partition(":")
    return json.dumps(
        {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": name,
            "USER": credentials.split(":")[0] or "postgres",
            "HOST": host,
            "PORT": port,
            "CONN_MAX_AGE": 600,
        }
    )


def prepare(peer: Peer, database: str) -> tuple[dict[str, str], str]:
    """Migrate and seed the peer on `database` (Django's DATABASES entry as JSON); returns
    the environment to serve it with and the topic's path."""
    env = _clean_env() | {
        "DJANGO_SETTINGS_MODULE": "peer_site.settings",
        "PYTHONPATH": str(peer.site),
        "PEER_SECRET_KEY": secrets.token_urlsafe(48),
        "PEER_DATABASE": database,
    }
    admin = str(peer.folder / "venv" / "bin" / "django-admin")
    procs.run([admin, "migrate", "--noinput"], env=env, cwd=peer.site, what="peer migrate")
    out = procs.run(
        [str(peer.python), "seed.py", str(POSTS)], env=env, cwd=peer.site, what="peer seed"
    )
    return env, out.strip().splitlines()[-1]


def command(peer: Peer, port: int, workers: int) -> list[str]:
    return [
        str(peer.folder / "venv" / "bin" / "gunicorn"),
        "peer_site.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--worker-class",
        "sync",
        # Each request is logged to the server's output, as uvicorn logs the app's (the
        # bench also watches that log to know when the server has gone idle).
        "--access-logfile",
        "-",
    ]
