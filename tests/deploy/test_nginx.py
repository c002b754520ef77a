"""The sample nginx site, deploy/nginx/normsforum.conf, in front of two app processes.

nginx runs the shipped file itself, included in a small main config of the test's own (pid,
logs and temporary files in a temporary folder). Only the lines the sample marks `# EDIT:`
change, and on them only the values `deployment_values` lists (app ports, listen ports,
certificate, domain, static folder): `localize` fails if a marked line keeps its value or a
value is found on no marked line, and leaves every other line as it is. So the file tested is
the file shipped.

The two app processes run `normsforum serve` as production does (NORMSFORUM_ENVIRONMENT=
production, an https NORMSFORUM_BASE_URL) on one database of the kind under test (`--db`).
Everything goes over loopback, on free ports, with a certificate for localhost made here.

Skipped when nginx is not installed, unless NORMSFORUM_REQUIRE_NGINX=1 (as CI sets it).
"""

from __future__ import annotations

import datetime as dt
import io
import ipaddress
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import migrate
from app.accounts import service as accounts_service
from app.communities.models import Role
from app.config import PROJECT_ROOT
from app.db import create_db_engine, utcnow
from app.proposals import service as proposals_service
from app.ratelimit import RateLimitHit
from app.web import caching
from app.web.templating import STATIC
from app.works import images
from app.works import service as works_service
from tests.conftest import TEST_SECRET, form_token_in, required
from tests.factories import PASSWORD, add_member, make_community, make_user
from tests.support.live import free_port, wait_until_up

SAMPLE = PROJECT_ROOT / "deploy" / "nginx" / "normsforum.conf"
MARKER = "# EDIT:"
DOMAIN = "localhost"
SLUG = "miku"
USERNAME = "rin"
#: What `client_max_body_size 3m` lets through.
BODY_LIMIT = 3 * 1024 * 1024


# --- The sample, localized -------------------------------------------------------------------


@dataclass(frozen=True)
class Ports:
    http: int
    https: int
    apps: tuple[int, int]


def distinct_free_ports(count: int) -> list[int]:
    ports: list[int] = []
    while len(ports) < count:
        port = free_port()
        if port not in ports:
            ports.append(port)
    return ports


def deployment_values(ports: Ports, tls: Path) -> list[tuple[str, str]]:
    """The sample's deployment-specific values and what they are here, in the order applied."""
    return [
        ("server 127.0.0.1:8000 ", f"server 127.0.0.1:{ports.apps[0]} "),
        ("server 127.0.0.1:8001 ", f"server 127.0.0.1:{ports.apps[1]} "),
        ("listen 80;", f"listen 127.0.0.1:{ports.http};"),
        ("listen 80 default_server;", f"listen 127.0.0.1:{ports.http} default_server;"),
        ("listen 443 ", f"listen 127.0.0.1:{ports.https} "),
        ("server_name norms.example.org;", f"server_name {DOMAIN};"),
        ("/etc/letsencrypt/live/norms.example.org/fullchain.pem", str(tls / "cert.pem")),
        ("/etc/letsencrypt/live/norms.example.org/privkey.pem", str(tls / "key.pem")),
        ("alias /srv/normsforum/static/;", f"alias {STATIC}/;"),
    ]


def is_marked(line: str) -> bool:
    """A directive that ends in `# EDIT: ...` (not a comment that mentions the marker)."""
    return MARKER in line and not line.lstrip().startswith("#")


def localize(sample: str, values: list[tuple[str, str]]) -> str:
    """`sample` with `values` replaced on the lines marked `# EDIT:` and nowhere else."""
    used = dict.fromkeys((old for old, _ in values), 0)
    lines = []
    for number, line in enumerate(sample.splitlines(), 1):
        if is_marked(line):
            code, marker, note = line.partition(MARKER)
            changed = code
            for old, new in values:
                used[old] += changed.count(old)
                changed = changed.replace(old, new)
            assert changed != code, f"line {number} is marked {MARKER} but keeps its value: {line}"
            line = changed + marker + note
        lines.append(line)
    missing = [old for old, count in used.items() if count == 0]
    assert not missing, f"on no {MARKER} line of {SAMPLE.name}: {missing}"
    return "\n".join(lines) + "\n"


def test_only_the_marked_lines_change(tmp_path):
    ports = Ports(http=1080, https=1443, apps=(18000, 18001))
    sample = SAMPLE.read_text()
    localized = localize(sample, deployment_values(ports, tmp_path))
    changed = [
        old
        for old, new in zip(sample.splitlines(), localized.splitlines(), strict=True)
        if old != new
    ]
    assert changed == [line for line in sample.splitlines() if is_marked(line)]
    assert "norms.example.org" not in "".join(line.split("#")[0] for line in localized.split("\n"))


# --- Certificates, nginx and the app processes -------------------------------------------------


def make_certificate(folder: Path) -> None:
    """ca.pem, and cert.pem/key.pem that it signs, for localhost and 127.0.0.1."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Norms Forum test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, DOMAIN)]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName(DOMAIN), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    (folder / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


def find_nginx() -> str | None:
    return shutil.which("nginx") or next(
        (path for path in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(path, os.X_OK)),
        None,
    )


#: For an nginx without a mime.types file; what the site's static files need.
TYPES = """types {
        text/html html;
        text/css css;
        application/javascript js;
        image/svg+xml svg;
        image/png png;
        font/woff2 woff2;
        application/json json;
    }"""


def mime_types(nginx: str) -> str:
    """Include the mime.types next to nginx's own nginx.conf, or the types the site needs."""
    built = subprocess.run([nginx, "-V"], capture_output=True, text=True, check=True).stderr
    conf = re.search(r"--conf-path=(\S+)", built)
    for candidate in (
        Path(conf.group(1)).parent / "mime.types" if conf else None,
        Path("/etc/nginx/mime.types"),
    ):
        if candidate is not None and candidate.is_file():
            return f"include {candidate};"
    return TYPES


def main_config(folder: Path, nginx: str) -> str:
    """nginx.conf around the sample: everything in `folder`; the log names the upstream used."""
    # As root, nginx runs its workers as `nobody`, who could not read the temporary folder.
    user = "user root root;\n" if os.geteuid() == 0 else ""
    return f"""{user}worker_processes 2;
pid {folder}/nginx.pid;
error_log {folder}/error.log info;
events {{
    worker_connections 256;
}}
http {{
    {mime_types(nginx)}
    types_hash_max_size 2048;
    default_type application/octet-stream;
    log_format upstreams '$request_method $request_uri $status $upstream_addr';
    access_log {folder}/access.log upstreams;
    client_body_temp_path {folder}/client_body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
    include {folder}/normsforum.conf;
}}
"""


def launch_app(
    port: int, *, base_url: str, database_url: str, poll: str, log: Path
) -> subprocess.Popen[bytes]:
    """`normsforum serve` on `port`, configured as in production but for cheap password hashes."""
    env = {name: value for name, value in os.environ.items() if name != "FORWARDED_ALLOW_IPS"}
    env.update(
        NORMSFORUM_ENVIRONMENT="production",
        NORMSFORUM_SECRET_KEY=TEST_SECRET,
        NORMSFORUM_BASE_URL=base_url,
        NORMSFORUM_DATABASE_URL=database_url,
        NORMSFORUM_ARGON2_TIME_COST="1",
        NORMSFORUM_ARGON2_MEMORY_COST_KIB="8",
        NORMSFORUM_ARGON2_PARALLELISM="1",
        NORMSFORUM_LIVE_POLL_SECONDS=poll,
        NORMSFORUM_SWEEP_INTERVAL_SECONDS="0",
    )
    command = [sys.executable, "-c", "from app.cli import main; main()", "serve"]
    with log.open("ab") as out:
        return subprocess.Popen(
            [*command, "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            cwd=PROJECT_ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_for_tls(port: int, process: subprocess.Popen[bytes], timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("nginx did not start")
        time.sleep(0.05)


@dataclass(frozen=True)
class Seeded:
    proposal_id: int
    work_id: int
    token: str


def seed(url: str) -> Seeded:
    """A member "rin" (the factories' password) of "miku", with a published proposal, an image
    work and a write token."""
    engine = create_db_engine(url)
    try:
        with Session(engine, expire_on_commit=False) as db:
            community = make_community(db, SLUG)
            member = make_user(db, USERNAME)
            add_member(db, community, member, Role.fan, joined_at=utcnow() - dt.timedelta(days=30))
            long_ago = utcnow() - dt.timedelta(days=5)
            proposal = proposals_service.create_proposal(
                db,
                actor=member,
                community=community,
                values=proposals_service.ProposalDraft(
                    title="Credit the illustrator", norm_text="Credit the illustrator."
                ),
                now=long_ago,
            )
            proposals_service.publish(db, actor=member, proposal=proposal, now=long_ago)
            work = works_service.create_work(
                db,
                actor=member,
                community=community,
                values=works_service.WorkDraft(
                    title="Rin's sketch",
                    creator_name="Len",
                    url="https://example.org/sketch",
                    medium="image",
                    license="CC BY 4.0",
                ),
                now=utcnow(),
            )
            _, token = accounts_service.create_token(
                db, actor=member, name="nginx", scope="write", now=utcnow()
            )
            db.commit()
            return Seeded(proposal_id=proposal.id, work_id=work.id, token=token)
    finally:
        engine.dispose()


@dataclass
class Site:
    """nginx with the sample on https://localhost:<port>, two app processes behind it."""

    folder: Path
    ports: Ports
    database_url: str
    seeded: Seeded
    apps: dict[int, subprocess.Popen[bytes]]
    poll: str

    @property
    def base(self) -> str:
        return f"https://{DOMAIN}:{self.ports.https}"

    @property
    def thread(self) -> str:
        return f"/c/{SLUG}/proposals/{self.seeded.proposal_id}"

    @property
    def bearer(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.seeded.token}"}

    def tls(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.folder / "ca.pem")

    def client(self, **options) -> httpx.Client:
        options.setdefault("verify", self.tls())
        options.setdefault("timeout", 15)
        return httpx.Client(base_url=self.base, follow_redirects=False, **options)

    def start_apps(self, *ports: int) -> None:
        for port in ports:
            self.apps[port] = launch_app(
                port,
                base_url=self.base,
                database_url=self.database_url,
                poll=self.poll,
                log=self.folder / f"app-{port}.log",
            )
        for port in ports:
            try:
                # Generous: on a loaded machine two processes importing the app take a while.
                wait_until_up(f"http://127.0.0.1:{port}", self.apps[port], timeout=120)
            except RuntimeError:
                log = (self.folder / f"app-{port}.log").read_text()[-3000:]
                raise RuntimeError(f"the app on port {port} did not start:\n{log}") from None

    def stop_app(self, port: int) -> None:
        stop(self.apps[port])

    def served(self, method: str, target: str) -> str:
        """Which app process(es) nginx passed `method target` to, from its access log: "-" for
        none, "127.0.0.1:<port>", or several when it tried the next. `target` must be unique
        in the log; nginx writes the entry just after its answer, so this waits for it."""
        path = self.folder / "access.log"
        deadline = time.monotonic() + 5
        while True:
            for line in path.read_text().splitlines() if path.exists() else []:
                logged_method, logged_target, _, upstream = line.split(" ", 3)
                if (logged_method, logged_target) == (method, target):
                    return upstream
            assert time.monotonic() < deadline, f"{method} {target} is not in nginx's log"
            time.sleep(0.02)

    def upstream(self, port: int) -> str:
        return f"127.0.0.1:{port}"


@pytest.fixture(scope="module")
def nginx() -> str:
    found = find_nginx()
    if found is None:
        if required("NORMSFORUM_REQUIRE_NGINX"):
            pytest.fail("nginx is required but not installed (apt-get install nginx).")
        pytest.skip("nginx is not installed; CI installs it and requires these tests")
    return found


@pytest.fixture(scope="module")
def site(nginx, make_database_url, db_kind, tmp_path_factory) -> Iterator[Site]:
    folder = tmp_path_factory.mktemp("nginx")
    url = make_database_url("nginx")
    migrate.upgrade(url)
    http, https, first, second = distinct_free_ports(4)
    ports = Ports(http=http, https=https, apps=(first, second))
    make_certificate(folder)
    sample = localize(SAMPLE.read_text(), deployment_values(ports, folder))
    (folder / "normsforum.conf").write_text(sample)
    (folder / "nginx.conf").write_text(main_config(folder, nginx))
    # On PostgreSQL the streams look in the database only every minute, so a live event that
    # arrives within seconds was pushed (by the process that took the post, to the other by
    # LISTEN/NOTIFY); SQLite has no such channel and the streams look every second.
    poll = "60" if db_kind == "postgresql" else "1"
    site = Site(folder=folder, ports=ports, database_url=url, seeded=seed(url), apps={}, poll=poll)
    server = None
    try:
        site.start_apps(*ports.apps)
        command = [nginx, "-p", str(folder), "-c", str(folder / "nginx.conf")]
        checked = subprocess.run([*command, "-t"], capture_output=True, text=True)
        assert checked.returncode == 0, checked.stderr
        # nginx 1.25.1 and later accept the sample's `listen ... http2` with a deprecation note.
        warnings = [
            line
            for line in checked.stderr.splitlines()
            if "[warn]" in line and "listen ... http2" not in line
        ]
        assert not warnings, checked.stderr
        with (folder / "nginx.out").open("ab") as out:
            server = subprocess.Popen(
                [*command, "-g", "daemon off;"], stdout=out, stderr=subprocess.STDOUT
            )
        wait_for_tls(ports.https, server)
        yield site
    finally:
        # nginx first: it closes any stream still open, which would hold an app process up.
        if server is not None:
            stop(server)
        for process in site.apps.values():
            stop(process)


def sign_in(site: Site, client: httpx.Client) -> httpx.Response:
    token = form_token_in(client.get("/login").text)
    return client.post(
        "/login",
        data={"csrf_token": token, "login": USERNAME, "password": PASSWORD},
        headers={"Origin": site.base},
    )


def set_cookies(response: httpx.Response) -> dict[str, list[str]]:
    """The cookies a response sets: name -> its attributes, lower-cased."""
    found = {}
    for header in response.headers.get_list("set-cookie"):
        first, *attributes = (part.strip() for part in header.split(";"))
        found[first.split("=", 1)[0]] = [attribute.lower() for attribute in attributes]
    return found


# --- What the proxy must do right ------------------------------------------------------------


def test_https_with_http2(site):
    context = site.tls()
    context.set_alpn_protocols(["h2", "http/1.1"])
    with (
        socket.create_connection(("127.0.0.1", site.ports.https), timeout=5) as raw,
        context.wrap_socket(raw, server_hostname=DOMAIN) as tls,
    ):
        assert tls.selected_alpn_protocol() == "h2"
        assert tls.version() in ("TLSv1.2", "TLSv1.3")


def test_a_page_loads_with_secure_host_only_cookies(site):
    with site.client() as client:
        response = client.get("/login")
        signed_in = sign_in(site, client)
    assert response.status_code == 200
    assert signed_in.status_code == 303, signed_in.text
    cookies = {**set_cookies(response), **set_cookies(signed_in)}
    assert {"__Host-nf_csrf", "__Host-nf_session"} <= set(cookies)
    for name, attributes in cookies.items():
        assert name.startswith("__Host-"), name
        assert "secure" in attributes, (name, attributes)
        assert "path=/" in attributes, (name, attributes)
        assert not [a for a in attributes if a.startswith("domain=")], (name, attributes)
    # nginx's header and the app's own both reach the browser.
    assert response.headers["strict-transport-security"] == "max-age=31536000"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


def test_plain_http_is_redirected_to_https(site):
    response = httpx.get(
        f"http://127.0.0.1:{site.ports.http}/c/{SLUG}?sort=new",
        headers={"Host": DOMAIN},
        timeout=10,
    )
    assert response.status_code == 301
    # To the standard https port (443): what the sample does in production.
    assert response.headers["location"] == f"https://{DOMAIN}/c/{SLUG}?sort=new"


def test_other_names_get_no_answer(site):
    # Pages and feeds hold absolute links built from the Host header: only the site's name
    # is served, on either port.
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.get(
            f"http://127.0.0.1:{site.ports.http}/", headers={"Host": "evil.example"}, timeout=10
        )
    with site.client() as client, pytest.raises(httpx.RemoteProtocolError):
        client.get(f"/c/{SLUG}/guidelines.atom", headers={"Host": "evil.example"})
    with (
        socket.create_connection(("127.0.0.1", site.ports.https), timeout=5) as raw,
        pytest.raises(ssl.SSLError),
    ):
        site.tls().wrap_socket(raw, server_hostname="evil.example")


def test_forms_post_through_the_proxy_and_another_origin_is_refused(site):
    body = f"Posted by form through nginx {uuid.uuid4().hex}"
    with site.client() as client:
        assert sign_in(site, client).status_code == 303
        token = form_token_in(client.get(site.thread).text)
        form = {"csrf_token": token, "body": body}
        refused = client.post(
            f"{site.thread}/comments",
            data={**form, "idempotency_key": uuid.uuid4().hex},
            headers={"Origin": "https://evil.example"},
        )
        posted = client.post(
            f"{site.thread}/comments",
            data={**form, "idempotency_key": uuid.uuid4().hex},
            headers={"Origin": site.base},
        )
        page = client.get(site.thread)
    assert refused.status_code == 403
    assert posted.status_code == 303, posted.text
    assert body in page.text


def test_the_app_sees_https_and_the_clients_own_address(site):
    with site.client() as client:
        community = client.get(f"/api/v1/communities/{SLUG}")
    assert community.status_code == 200, community.text
    # Built by the app from the forwarded scheme and Host (the sample passes $host: no port).
    url = urlsplit(community.json()["url"])
    assert (url.scheme, url.hostname, url.path) == ("https", DOMAIN, f"/c/{SLUG}")

    # A client (on loopback address 127.0.0.2) that names another address in X-Forwarded-For:
    # the app counts its failed sign-in against the address nginx saw.
    transport = httpx.HTTPTransport(local_address="127.0.0.2", verify=site.tls())
    with site.client(transport=transport) as client:
        token = form_token_in(client.get("/login").text)
        failed = client.post(
            "/login",
            data={"csrf_token": token, "login": USERNAME, "password": "not the password"},
            headers={"Origin": site.base, "X-Forwarded-For": "203.0.113.9"},
        )
    assert failed.status_code == 400
    engine = create_db_engine(site.database_url)
    try:
        with Session(engine) as db:
            counted = set(
                db.scalars(select(RateLimitHit.key).where(RateLimitHit.bucket == "login-ip"))
            )
    finally:
        engine.dispose()
    assert "127.0.0.2" in counted
    assert "203.0.113.9" not in counted


def test_a_live_comment_arrives_through_nginx_at_once(site):
    body = f"Live through nginx {uuid.uuid4().hex}"
    received: list[str] = []
    connected = threading.Event()
    arrived = threading.Event()

    def watch() -> None:
        with (
            site.client(timeout=httpx.Timeout(15, read=120)) as viewer,
            viewer.stream("GET", f"{site.thread}/events") as response,
        ):
            for line in response.iter_lines():
                connected.set()
                received.append(line)
                if body in line:
                    arrived.set()
                    return

    viewer = threading.Thread(target=watch, daemon=True)
    viewer.start()
    # The stream's first line ("retry: ...") comes through at once: nothing buffers it.
    assert connected.wait(5), "the stream did not start"
    with site.client() as client:
        posted = client.post(
            f"/api/v1/proposals/{site.seeded.proposal_id}/comments",
            json={"body": body},
            headers=site.bearer,
        )
    assert posted.status_code == 201, posted.text
    started = time.monotonic()
    assert arrived.wait(10), received
    assert time.monotonic() - started < 3, received
    assert "event: comment" in received
    viewer.join(5)


def test_the_unread_count_streams_through_nginx(site):
    lines: list[str] = []
    with site.client(timeout=httpx.Timeout(15, read=5)) as client:
        assert sign_in(site, client).status_code == 303
        started = time.monotonic()
        with client.stream("GET", "/notifications/events") as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            for line in response.iter_lines():
                lines.append(line)
                if line == "event: unread":
                    break
    assert "event: unread" in lines
    assert time.monotonic() - started < 3


def test_both_processes_serve_and_either_may_stop(site):
    first, second = site.ports.apps
    comments = f"/api/v1/proposals/{site.seeded.proposal_id}/comments"

    def probe(client: httpx.Client, path: str = "/healthz") -> str:
        """GET `path` (made unique in the log), expect 200; the process that answered."""
        target = f"{path}?probe={uuid.uuid4().hex}"
        assert client.get(target).status_code == 200
        upstream: str = site.served("GET", target)
        return upstream

    with site.client() as client:
        served = {probe(client) for _ in range(6)}
    assert served == {site.upstream(first), site.upstream(second)}

    site.stop_app(first)
    try:
        with site.client() as client:
            # Two in a row: the round robin picks the stopped process for one of them. Its
            # connection is refused, nothing was sent, so even a POST goes to the other.
            posted = []
            for n in range(2):
                target = f"{comments}?attempt={uuid.uuid4().hex}"
                response = client.post(
                    target,
                    json={"body": f"Posted while one process is down ({n})."},
                    headers=site.bearer,
                )
                assert response.status_code == 201, response.text
                posted.append(site.served("POST", target))
            pages = [probe(client, f"/c/{SLUG}") for _ in range(4)]
        tried_both = f"{site.upstream(first)}, {site.upstream(second)}"
        assert tried_both in posted, posted
        assert all(upstream.endswith(site.upstream(second)) for upstream in posted + pages)
    finally:
        site.start_apps(first)

    # Back: nginx tries it again once its fail_timeout has passed.
    deadline = time.monotonic() + 20
    with site.client() as client:
        while probe(client) != site.upstream(first):
            assert time.monotonic() < deadline, "nginx never went back to the restarted process"
            time.sleep(0.2)


def noise_png(at_most: int) -> bytes:
    """A PNG of random pixels (which do not compress) of almost `at_most` bytes."""
    side = int((at_most * 0.98 / 3) ** 0.5)
    out = io.BytesIO()
    Image.frombytes("RGB", (side, side), os.urandom(side * side * 3)).save(out, "PNG")
    data = out.getvalue()
    assert at_most - 128 * 1024 < len(data) <= at_most
    return data


def test_uploads_up_to_2_mb_pass_and_over_3_mb_nginx_refuses(site):
    preview = f"/api/v1/works/{site.seeded.work_id}/preview"
    with site.client() as client:
        largest = client.put(
            f"{preview}?size=largest",
            files={"file": ("sketch.png", noise_png(images.MAX_BYTES), "image/png")},
            headers=site.bearer,
        )
        too_large = client.put(
            f"{preview}?size=too-large",
            files={"file": ("huge.png", bytes(BODY_LIMIT), "image/png")},
            headers=site.bearer,
        )
    assert largest.status_code == 200, largest.text
    assert too_large.status_code == 413
    apps = {site.upstream(port) for port in site.ports.apps}
    assert site.served("PUT", f"{preview}?size=largest") in apps
    # nginx answered alone: no app process saw the request.
    assert site.served("PUT", f"{preview}?size=too-large") == "-"


#: What nginx may call each kind of static file.
STATIC_TYPES = {
    ".css": {"text/css"},
    ".js": {"application/javascript", "text/javascript"},
    ".svg": {"image/svg+xml"},
}


def test_static_files_come_from_nginx_with_the_apps_cache_control(site):
    with site.client() as client:
        page = client.get("/login").text
        assets = sorted(set(re.findall(r"/static/[^\"'?\s]+\?v=[^\"'\s&]+", page)))
        assert any(asset.split("?")[0].endswith(".css") for asset in assets), page
        hashed = {asset: client.get(asset) for asset in assets}
        plain = {asset: client.get(asset.split("?")[0]) for asset in assets}
    # Served by nginx itself: no app process saw these requests.
    for asset in assets:
        assert site.served("GET", asset) == "-"
        assert site.served("GET", asset.split("?")[0]) == "-"
    app = f"http://127.0.0.1:{site.ports.apps[0]}"
    for asset, response in hashed.items():
        path = asset.split("?")[0]
        assert response.status_code == 200, asset
        assert response.content == (STATIC / path.removeprefix("/static/")).read_bytes()
        kind = response.headers["content-type"].split(";")[0]
        assert kind in STATIC_TYPES[Path(path).suffix], (asset, kind)
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["cache-control"] == caching.IMMUTABLE
        assert plain[asset].headers["cache-control"] == caching.REVALIDATE
        # What the app says of the same addresses when it serves them itself.
        assert httpx.get(app + asset).headers["cache-control"] == caching.IMMUTABLE
        assert httpx.get(app + path).headers["cache-control"] == caching.REVALIDATE
