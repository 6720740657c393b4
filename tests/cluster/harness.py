"""A private Gatepass cluster: PostgreSQL, Redis, several ``gatepass serve`` nodes, and nginx.

Every server is a child process started here, on free ports of 127.0.0.1, with its data in a
temporary directory; nothing shared on the machine is used or touched. Tests stop, kill and
restart these servers to inject faults; ``Cluster.heal`` brings everything back.

Used by the cluster tests and by ``bench/soak.py``; it needs no pytest.
"""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import redis
import requests

from tests.password_cost import CHEAP_ENV

GATEPASS = Path(sys.executable).with_name("gatepass")
NGINX_CANDIDATES = ("/usr/sbin/nginx", "/usr/bin/nginx")
READY_WITHIN = 30.0


class HarnessError(RuntimeError):
    """A server of the cluster could not be started (its log is in the message)."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def postgres_bindir() -> Path | None:
    """The newest PostgreSQL server installed the Debian way (/usr/lib/postgresql/<ver>/bin)."""
    found = []
    for bindir in Path("/usr/lib/postgresql").glob("*/bin"):
        version = bindir.parent.name
        if version.isdigit() and (bindir / "postgres").exists() and (bindir / "initdb").exists():
            found.append((int(version), bindir))
    return max(found)[1] if found else None


def nginx_binary() -> Path | None:
    for candidate in (shutil.which("nginx"), *NGINX_CANDIDATES):
        if candidate and os.access(candidate, os.X_OK):
            return Path(candidate)
    return None


def redis_binary() -> Path | None:
    found = shutil.which("redis-server")
    return Path(found) if found else None


def missing_binaries() -> list[str]:
    missing = []
    if postgres_bindir() is None:
        missing.append("PostgreSQL server (/usr/lib/postgresql/<version>/bin)")
    if redis_binary() is None:
        missing.append("redis-server")
    if nginx_binary() is None:
        missing.append("nginx (make nginx)")
    return missing


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _wait(check: Callable[[], bool], what: str, log: Path, within: float = READY_WITHIN) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise HarnessError(f"{what} not ready within {within} s:\n{_tail(log)}")


def _terminate(process: subprocess.Popen[bytes] | None, sig: int = signal.SIGTERM) -> None:
    """Stop a child started in its own session (the whole group), escalating to SIGKILL."""
    if process is None or process.poll() is not None:
        return
    try:
        os.killpg(process.pid, sig)
        process.wait(timeout=20)
    except ProcessLookupError:
        return
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


class Postgres:
    """A private PostgreSQL cluster (initdb into a temporary directory, trust auth on 127.0.0.1).

    PostgreSQL refuses to run as root, so as root its files belong to the ``postgres`` user
    (or ``nobody``) and its processes run as that user.
    """

    def __init__(self) -> None:
        bindir = postgres_bindir()
        if bindir is None:
            raise HarnessError("no PostgreSQL server under /usr/lib/postgresql")
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="gatepass-cluster-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "postgres.log"
        self.port = free_port()
        self.user: pwd.struct_passwd | None = None
        if os.geteuid() == 0:
            try:
                self.user = pwd.getpwnam("postgres")
            except KeyError:
                self.user = pwd.getpwnam("nobody")
            os.chown(self.root, self.user.pw_uid, self.user.pw_gid)
        self.process: subprocess.Popen[bytes] | None = None
        self.restarts = 0

    def _run_as(self) -> tuple[int | None, int | None, list[int] | None]:
        """User, group and supplementary groups for the server's processes (None: as we are)."""
        if self.user is None:
            return None, None, None
        return self.user.pw_uid, self.user.pw_gid, []

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def init(self) -> None:
        done = subprocess.run(
            [
                str(self.bindir / "initdb"),
                "-D",
                str(self.data),
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--no-sync",
            ],
            capture_output=True,
            timeout=120,
            check=False,
            cwd=self.root,
            user=self._run_as()[0],
            group=self._run_as()[1],
            extra_groups=self._run_as()[2],
        )
        if done.returncode != 0:
            raise HarnessError(f"initdb failed: {done.stderr.decode(errors='replace')}")

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    str(self.bindir / "postgres"),
                    "-D",
                    str(self.data),
                    "-p",
                    str(self.port),
                    "-c",
                    "listen_addresses=127.0.0.1",
                    "-c",
                    "unix_socket_directories=",
                    "-c",
                    "fsync=off",
                    "-c",
                    "full_page_writes=off",
                    "-c",
                    "max_connections=200",
                ],
                stdout=log,
                stderr=log,
                start_new_session=True,
                cwd=self.root,
                user=self._run_as()[0],
                group=self._run_as()[1],
                extra_groups=self._run_as()[2],
            )
        _wait(self.ready, "PostgreSQL", self.log)

    def ready(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            raise HarnessError(f"postgres exited:\n{_tail(self.log)}")
        try:
            with psycopg.connect(
                f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres", connect_timeout=2
            ) as connection:
                connection.execute("SELECT 1")
        except psycopg.Error:
            return False
        return True

    def create_database(self, name: str) -> str:
        with psycopg.connect(
            f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres", autocommit=True
        ) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        """A fast shutdown (SIGINT): sessions are cut, committed work is kept."""
        _terminate(self.process, signal.SIGINT)
        self.process = None

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def restart(self) -> None:
        self.stop()
        self.start()
        self.restarts += 1

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


class RedisServer:
    """A private redis-server without persistence."""

    def __init__(self, root: Path) -> None:
        binary = redis_binary()
        if binary is None:
            raise HarnessError("redis-server is not installed")
        self.binary = binary
        self.root = root
        self.port = free_port()
        self.log = root / "redis.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    str(self.binary),
                    "--port",
                    str(self.port),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--dir",
                    str(self.root),
                ],
                stdout=log,
                stderr=log,
                start_new_session=True,
            )
        _wait(self.ready, "Redis", self.log)

    def ready(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            raise HarnessError(f"redis-server exited:\n{_tail(self.log)}")
        client = redis.Redis(port=self.port, socket_timeout=1, socket_connect_timeout=1)
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False
        finally:
            client.close()

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port, socket_timeout=2, socket_connect_timeout=2)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        _terminate(self.process)
        self.process = None


@dataclass
class Node:
    """One ``gatepass serve`` process."""

    name: str
    port: int
    env: dict[str, str]
    root: Path
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        return self.root / f"{self.name}.log"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def spawn(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [GATEPASS, "serve", "--host", "127.0.0.1", "--port", str(self.port)],
                env=self.env,
                stdout=log,
                stderr=log,
                start_new_session=True,
            )
        self.starts += 1

    def ready(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            raise HarnessError(f"{self.name} exited {self.process.returncode}:\n{_tail(self.log)}")
        try:
            return requests.get(f"{self.url}/healthz", timeout=1).status_code == 200
        except requests.RequestException:
            return False

    def wait_ready(self) -> None:
        _wait(self.ready, self.name, self.log)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill9(self) -> None:
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        _terminate(self.process)

    def rss_kib(self) -> int:
        """Resident memory of the server process, from /proc."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return 0


NGINX_CONF = """\
{user}worker_processes 1;
error_log {root}/nginx-error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log {root}/nginx-access.log;
    client_body_temp_path {root}/nginx-body;
    proxy_temp_path {root}/nginx-proxy;
    fastcgi_temp_path {root}/nginx-fastcgi;
    uwsgi_temp_path {root}/nginx-uwsgi;
    scgi_temp_path {root}/nginx-scgi;
    upstream gatepass {{
{servers}
        keepalive 32;
    }}
    server {{
        listen 127.0.0.1:{port};
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_set_header Host $http_host;
        proxy_connect_timeout 1s;
        proxy_read_timeout 30s;
        # Protocol requests may go to another node when one fails: a token request is safe to
        # repeat. Management writes are retried by their callers with an Idempotency-Key.
        location /realms/ {{
            proxy_pass http://gatepass;
            proxy_next_upstream error timeout non_idempotent;
        }}
        location / {{
            proxy_pass http://gatepass;
            proxy_next_upstream error timeout;
        }}
    }}
}}
"""


class Nginx:
    """Debian's nginx in the foreground with a generated configuration, balancing the nodes."""

    def __init__(self, root: Path, upstreams: list[int]) -> None:
        binary = nginx_binary()
        if binary is None:
            raise HarnessError("nginx is not installed (make nginx)")
        self.binary = binary
        self.root = root
        self.port = free_port()
        self.conf = root / "nginx.conf"
        self.log = root / "nginx-error.log"
        servers = "\n".join(
            f"        server 127.0.0.1:{port} max_fails=1 fail_timeout=2s;" for port in upstreams
        )
        # As root, nginx would hand its workers to "nobody", who cannot enter this directory.
        user = "user root;\n" if os.geteuid() == 0 else ""
        self.conf.write_text(
            NGINX_CONF.format(user=user, root=root, servers=servers, port=self.port)
        )
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        with (self.root / "nginx.out").open("ab") as out:
            self.process = subprocess.Popen(
                [
                    str(self.binary),
                    "-p",
                    str(self.root),
                    "-c",
                    str(self.conf),
                    "-e",
                    str(self.log),
                    "-g",
                    f"daemon off; pid {self.root}/nginx.pid;",
                ],
                stdout=out,
                stderr=out,
                start_new_session=True,
            )
        _wait(self.ready, "nginx", self.log)

    def ready(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            raise HarnessError(f"nginx exited:\n{_tail(self.log)}")
        try:
            requests.get(f"{self.url}/healthz", timeout=1)
        except requests.RequestException:
            return False
        return True

    def stop(self) -> None:
        _terminate(self.process, signal.SIGQUIT)


@dataclass
class Cluster:
    """PostgreSQL, Redis, ``size`` Gatepass nodes and nginx; ``url`` is nginx's address."""

    size: int = 3
    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="gatepass-cluster-")))
    secret_key: str = field(default_factory=lambda: secrets.token_hex(32))
    poll_interval: float = 0.25

    def __post_init__(self) -> None:
        self.postgres = Postgres()
        self.redis = RedisServer(self.root)
        self.nodes: list[Node] = []
        self.nginx: Nginx | None = None
        self.database_url = ""

    @property
    def url(self) -> str:
        assert self.nginx is not None
        return self.nginx.url

    def env(self) -> dict[str, str]:
        env = {
            k: v for k, v in os.environ.items() if not k.startswith(("GATEPASS_", "PROMETHEUS_"))
        }
        env.update(
            GATEPASS_DATABASE_URL=self.database_url,
            GATEPASS_REDIS_URL=self.redis.url,
            GATEPASS_SECRET_KEY=self.secret_key,
            GATEPASS_DATA_DIR=str(self.root),
            GATEPASS_CACHE_POLL_INTERVAL=str(self.poll_interval),
            GATEPASS_LOG_LEVEL="warning",
            **CHEAP_ENV,
        )
        return env

    def start(self) -> None:
        self.postgres.init()
        self.postgres.start()
        self.database_url = self.postgres.create_database("gatepass")
        self.redis.start()
        ports = [free_port() for _ in range(self.size)]
        self.nginx = Nginx(self.root, ports)
        env = {**self.env(), "GATEPASS_PUBLIC_URL": self.nginx.url}
        migrate = subprocess.run(
            [GATEPASS, "migrate"], env=env, capture_output=True, timeout=120, check=False
        )
        if migrate.returncode != 0:
            raise HarnessError(f"gatepass migrate failed: {migrate.stderr.decode()}")
        self.nodes = [Node(f"node-{i + 1}", port, env, self.root) for i, port in enumerate(ports)]
        for node in self.nodes:
            node.spawn()
        for node in self.nodes:
            node.wait_ready()
        self.nginx.start()

    def heal(self) -> None:
        """Everything running again after a fault test (idempotent)."""
        if not self.postgres.running:
            self.postgres.start()
        if not self.redis.running:
            self.redis.start()
        for node in self.nodes:
            if not node.running:
                node.spawn()
                node.wait_ready()

    def stop(self) -> None:
        if self.nginx is not None:
            self.nginx.stop()
        for node in self.nodes:
            node.stop()
        self.redis.stop()
        self.postgres.cleanup()

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def logs(self) -> str:
        parts = [f"--- {node.name}\n{_tail(node.log)}" for node in self.nodes]
        parts.append(f"--- postgres\n{_tail(self.postgres.log, 15)}")
        return "\n".join(parts)
