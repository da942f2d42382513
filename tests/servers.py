"""Real servers for tests, each private to the test session: RabbitMQ and PostgreSQL.

:func:`start_rabbitmq` starts a RabbitMQ node of its own in a temporary directory, on free
loopback ports, with its own Erlang cookie (``HOME``), node name, database, logs, config and
(empty) plugin list, so it touches nothing of a system broker and several test sessions can
run side by side. Where ``rabbitmq-server`` is not installed the tests that need it are
skipped, unless ``TOEKGW_REQUIRE_RABBITMQ=1`` (set by ``.ci/run``) makes that a failure.

:func:`start_postgresql` does the same for PostgreSQL: ``initdb`` and ``pg_ctl`` from
``/usr/lib/postgresql/*/bin`` in a directory of its own, on a free loopback port, as the
``postgres`` user when the tests run as root (the server refuses root). A template database
carries the migrated journal, so a test's fresh database is one ``CREATE DATABASE ... TEMPLATE``.
Missing: skipped, unless ``TOEKGW_REQUIRE_POSTGRESQL=1``.

Both run in sessions of their own (so that their process groups can be stopped whole); a
guard (:func:`_guarded`) stops them when the test process ends without stopping them (a
killed pytest, a timeout), so no server outlives its tests.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from toekgw.gateway.transport.amqp_pika import BrokerSettings

# The server script itself: Debian's /usr/sbin/rabbitmq-server is a wrapper that switches to
# the rabbitmq user, who cannot write a test's private directory.
RABBITMQ_SERVER = next(
    (
        path
        for path in ("/usr/lib/rabbitmq/bin/rabbitmq-server", shutil.which("rabbitmq-server"))
        if path and Path(path).exists()
    ),
    None,
)
START_TIMEOUT = 120.0

#: The guard: waits for the end of a pipe only the test process holds (it ends with that
#: process, however it ends), then runs its command and removes its directory.
GUARD = """
import shutil, subprocess, sys
sys.stdin.buffer.read()
subprocess.run(sys.argv[2:], capture_output=True, check=False)
if sys.argv[1]:
    shutil.rmtree(sys.argv[1], ignore_errors=True)
"""


@contextlib.contextmanager
def _guarded(stop: list[str], remove: Path | None = None) -> Iterator[None]:
    """Runs ``stop`` (then removes ``remove``) should this process end inside the block;
    leaving the block dismisses the guard (the caller stops what it started)."""
    guard = subprocess.Popen(
        [sys.executable, "-c", GUARD, str(remove or ""), *stop],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        yield
    finally:
        guard.kill()
        guard.wait(timeout=10)
        assert guard.stdin is not None
        guard.stdin.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclasses.dataclass(frozen=True)
class ExternalLogin:
    """A node that lets clients in only by SASL ``EXTERNAL`` over TLS with a client
    certificate signed by ``ca`` (``rabbitmq_auth_mechanism_ssl``; the user is the
    certificate's common name): ``users`` may use virtual host ``vhost``."""

    ca: Path
    certificate: Path
    key: Path
    users: tuple[str, ...]
    vhost: str = "BF"


@dataclasses.dataclass
class RabbitNode:
    """A running private node: connect with :attr:`settings` (``tls_port``: its TLS
    listener, for a node started with an :class:`ExternalLogin`)."""

    base: Path
    port: int
    process: subprocess.Popen[bytes]
    tls_port: int | None = None

    @property
    def settings(self) -> BrokerSettings:
        return BrokerSettings(host="127.0.0.1", port=self.port)

    def log_tail(self) -> str:
        logs = sorted((self.base / "log").glob("*.log"))
        text = (self.base / "stdout.log").read_text(errors="replace")
        for log in logs:
            text += log.read_text(errors="replace")
        return text[-3000:]


def require_rabbitmq() -> str:
    """The ``rabbitmq-server`` script, or skip (fail under ``TOEKGW_REQUIRE_RABBITMQ=1``)."""
    if RABBITMQ_SERVER is None:
        if os.environ.get("TOEKGW_REQUIRE_RABBITMQ") == "1":
            pytest.fail("TOEKGW_REQUIRE_RABBITMQ=1 but rabbitmq-server is not installed")
        pytest.skip("rabbitmq-server is not installed (TOEKGW_REQUIRE_RABBITMQ=1 makes it fail)")
    return RABBITMQ_SERVER


def _external_login(base: Path, tls_port: int, login: ExternalLogin) -> str:
    """The configuration lines (and the definitions file) of an EXTERNAL-only TLS node."""
    (base / "enabled_plugins").write_text("[rabbitmq_auth_mechanism_ssl].\n")
    definitions = {
        "users": [
            {"name": user, "password_hash": "", "hashing_algorithm":
             "rabbit_password_hashing_sha256", "tags": ""}
            for user in login.users
        ],
        "vhosts": [{"name": login.vhost}],
        "permissions": [
            {"user": user, "vhost": login.vhost, "configure": ".*", "write": ".*", "read": ".*"}
            for user in login.users
        ],
    }  # fmt: skip
    (base / "definitions.json").write_text(json.dumps(definitions))
    return (
        f"listeners.ssl.default = 127.0.0.1:{tls_port}\n"
        f"ssl_options.cacertfile = {login.ca}\n"
        f"ssl_options.certfile = {login.certificate}\n"
        f"ssl_options.keyfile = {login.key}\n"
        "ssl_options.verify = verify_peer\n"
        "ssl_options.fail_if_no_peer_cert = true\n"
        "auth_mechanisms.1 = EXTERNAL\n"
        "ssl_cert_login_from = common_name\n"
        # The EXTERNAL response is a whole SAML assertion (~5 KB): more than the 4096 bytes a
        # node takes before the connection is tuned, so a broker for token logins raises it.
        "initial_frame_max = 65536\n"
        f"load_definitions = {base / 'definitions.json'}\n"
    )


def _environment(
    base: Path, port: int, tls_port: int | None = None, login: ExternalLogin | None = None
) -> dict[str, str]:
    (base / "enabled_plugins").write_text("[].\n")
    extra = _external_login(base, tls_port, login) if tls_port and login else ""
    (base / "rabbitmq.conf").write_text(
        f"listeners.tcp.default = 127.0.0.1:{port}\n"
        "log.console = false\nlog.file.level = warning\n"
        "disk_free_limit.absolute = 10MB\n" + extra
    )
    (base / "advanced.config").write_text("[].\n")
    cookie = base / ".erlang.cookie"
    cookie.write_text(uuid.uuid4().hex)
    cookie.chmod(0o400)
    return {
        **os.environ,
        "HOME": str(base),
        "RABBITMQ_NODENAME": f"toekgw-{uuid.uuid4().hex[:12]}@localhost",
        "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
        "RABBITMQ_NODE_PORT": str(port),
        "RABBITMQ_DIST_PORT": str(free_port()),
        "RABBITMQ_MNESIA_BASE": str(base / "mnesia"),
        "RABBITMQ_LOG_BASE": str(base / "log"),
        "RABBITMQ_CONFIG_FILE": str(base / "rabbitmq.conf"),
        "RABBITMQ_ADVANCED_CONFIG_FILE": str(base / "advanced.config"),
        "RABBITMQ_ENABLED_PLUGINS_FILE": str(base / "enabled_plugins"),
        "RABBITMQ_PLUGINS_EXPAND_DIR": str(base / "plugins-expand"),
        "RABBITMQ_PID_FILE": str(base / "rabbitmq.pid"),
        "RABBITMQ_CONF_ENV_FILE": str(base / "rabbitmq-env.conf"),
    }


def _listens(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _answers(port: int) -> bool:
    import pika

    try:
        connection = pika.BlockingConnection(
            pika.ConnectionParameters("127.0.0.1", port, socket_timeout=2, connection_attempts=1)
        )
    except Exception:
        return False
    connection.close()
    return True


START_ATTEMPTS = 3


@contextlib.contextmanager
def start_rabbitmq(base: Path, login: ExternalLogin | None = None) -> Iterator[RabbitNode]:
    """A private RabbitMQ node under ``base``, stopped (its process group) on exit; with
    ``login``, one that takes only EXTERNAL logins over TLS (ready when its TLS port listens).

    A free port can be taken by another process between :func:`free_port` and the node's
    bind (several suites start nodes at once): a node that stops with ``eaddrinuse`` is
    started again on new ports, up to :data:`START_ATTEMPTS` times."""
    server = require_rabbitmq()
    base.mkdir(parents=True, exist_ok=True)
    (base / "rabbitmq-env.conf").write_text("")
    for attempt in range(1, START_ATTEMPTS + 1):
        node = _launch(server, base, login)
        kill = f"import os; os.killpg({node.process.pid}, {int(signal.SIGKILL)})"
        try:
            with _guarded([sys.executable, "-c", kill]):
                if _ready(node, last=attempt == START_ATTEMPTS):
                    yield node
                    return
        finally:
            _stop(node.process)
    raise AssertionError("unreachable: the last attempt fails the test")


def _launch(server: str, base: Path, login: ExternalLogin | None) -> RabbitNode:
    shutil.rmtree(base / "log", ignore_errors=True)  # an earlier attempt's eaddrinuse
    port = free_port()
    tls_port = free_port() if login else None
    env = _environment(base, port, tls_port, login)
    with (base / "stdout.log").open("wb") as out:
        process = subprocess.Popen(
            [server], env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    return RabbitNode(base, port, process, tls_port)


def _ready(node: RabbitNode, *, last: bool) -> bool:
    """Wait until ``node`` answers; False if it stopped because a port was taken (and
    another attempt is left); fails the test on any other stop or on the timeout."""
    tls_port = node.tls_port
    ready = (lambda: _listens(tls_port)) if tls_port else (lambda: _answers(node.port))
    deadline = time.monotonic() + START_TIMEOUT
    while not ready():
        stopped = node.process.poll() is not None
        if stopped and not last and "eaddrinuse" in node.log_tail():
            return False
        if stopped or time.monotonic() > deadline:
            pytest.fail(f"RabbitMQ did not start on port {node.port}:\n{node.log_tail()}")
        time.sleep(0.5)
    return True


def _stop(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


# -- PostgreSQL -------------------------------------------------------------------------------

POSTGRES_BIN = next(
    (
        path
        for path in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
        if (path / "initdb").exists() and (path / "pg_ctl").exists()
    ),
    None,
)
_TEMPLATE = "toekgw_template"


@dataclasses.dataclass
class PostgresServer:
    """A running private server: :meth:`fresh` makes a database with the journal's schema."""

    base: Path
    port: int
    user: str = "toekgw"

    def url(self, database: str) -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{database}"

    def admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(self.url("postgres"), autocommit=True) as connection:
            connection.execute(sql.encode())

    def fresh(self, *, migrated: bool = True) -> str:
        """A new database (a copy of the migrated template, or empty): its URL."""
        name = f"t_{uuid.uuid4().hex[:16]}"
        template = _TEMPLATE if migrated else "template0"
        self.admin(f"CREATE DATABASE {name} TEMPLATE {template} STRATEGY FILE_COPY")
        return self.url(name)

    def drop(self, url: str) -> None:
        from toekgw.gateway.journal.postgres import close_pool

        close_pool(url)
        self.admin(f"DROP DATABASE IF EXISTS {url.rsplit('/', 1)[1]} WITH (FORCE)")

    def log_tail(self) -> str:
        log = self.base / "server.log"
        return log.read_text(errors="replace")[-3000:] if log.exists() else ""


def require_postgresql() -> Path:
    """PostgreSQL's bin directory, or skip (fail under ``TOEKGW_REQUIRE_POSTGRESQL=1``)."""
    if POSTGRES_BIN is None:
        if os.environ.get("TOEKGW_REQUIRE_POSTGRESQL") == "1":
            pytest.fail("TOEKGW_REQUIRE_POSTGRESQL=1 but PostgreSQL is not installed")
        pytest.skip("PostgreSQL is not installed (TOEKGW_REQUIRE_POSTGRESQL=1 makes it fail)")
    return POSTGRES_BIN


def _as_server_user(command: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


def _pg_start(bin_dir: Path, base: Path, *, durable: bool) -> PostgresServer:
    """``pg_ctl start`` on a free port; on a port taken before the server bound it (another
    suite's server), again on a new port, up to :data:`START_ATTEMPTS` times."""
    for attempt in range(1, START_ATTEMPTS + 1):
        server = PostgresServer(base, free_port())
        options = f"-p {server.port} -k {base} -c listen_addresses=127.0.0.1"
        options += " -c max_connections=200"
        if not durable:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        (base / "server.log").unlink(missing_ok=True)
        start = [str(bin_dir / "pg_ctl"), "-D", str(base / "data"), "-o", options]
        start += ["-l", str(base / "server.log"), "-w", "-t", "60", "start"]
        done = subprocess.run(_as_server_user(start), capture_output=True, check=False)
        if done.returncode == 0:
            return server
        if attempt == START_ATTEMPTS or "already in use" not in server.log_tail():
            raise subprocess.CalledProcessError(done.returncode, start, done.stdout, done.stderr)
    raise AssertionError("unreachable: the last attempt raises")


@contextlib.contextmanager
def start_postgresql(*, durable: bool = False) -> Iterator[PostgresServer]:
    """A private PostgreSQL server in a new directory under /tmp (the server's user must be
    able to enter it), stopped and removed on exit. Tests run it without flushing to disk;
    ``durable`` (benchmarks) keeps the server's defaults (fsync, synchronous commits)."""
    bin_dir = require_postgresql()
    base = Path(tempfile.mkdtemp(prefix="toekgw-pg-"))
    if os.geteuid() == 0:
        shutil.chown(base, "postgres")
    stop = [str(bin_dir / "pg_ctl"), "-D", str(base / "data"), "-m", "immediate", "stop"]
    with _guarded(_as_server_user(stop), base):
        try:
            server = _pg_init(bin_dir, base, durable=durable)
            server.admin(f"CREATE DATABASE {_TEMPLATE}")
            from toekgw.gateway.journal.postgres import PostgresJournal, close_pool

            PostgresJournal(server.url(_TEMPLATE)).close()
            close_pool(server.url(_TEMPLATE))
            yield server
        finally:
            subprocess.run(_as_server_user(stop), capture_output=True, check=False)
            shutil.rmtree(base, ignore_errors=True)


def _pg_init(bin_dir: Path, base: Path, *, durable: bool) -> PostgresServer:
    """``initdb`` in ``base``, then the server started (the test fails where it cannot be)."""
    server = PostgresServer(base, 0)
    initdb = [str(bin_dir / "initdb"), "-D", str(base / "data"), "-A", "trust"]
    initdb += ["-U", server.user, "--no-sync", "-E", "UTF8", "--locale=C.UTF-8"]
    try:
        subprocess.run(_as_server_user(initdb), check=True, capture_output=True)
        return _pg_start(bin_dir, base, durable=durable)
    except subprocess.CalledProcessError as exc:
        pytest.fail(f"PostgreSQL did not start: {exc.stderr.decode()}\n{server.log_tail()}")
