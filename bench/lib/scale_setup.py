"""Setting up the scale benchmark: knobs, the two databases, the tenants, the bulk load."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy.engine import make_url

BENCH = Path(__file__).resolve().parent.parent
REPO = BENCH.parent
GATEPASS = REPO / ".venv" / "bin" / "gatepass"
PYTHON = REPO / ".venv" / "bin" / "python"
HZ = os.sysconf("SC_CLK_TCK")
TOKEN_BODY = "grant_type=client_credentials&scope=api:read"  # noqa: S105 - no secret


def knob(name: str, default: str) -> str:
    return os.environ.get(name, default)


@dataclass(frozen=True)
class Config:
    port: int = int(knob("PORT", "8090"))
    conns: int = int(knob("CONNS", "32"))
    warmup: int = int(knob("WARMUP", "3"))
    duration: int = int(knob("DURATION", "8"))
    rounds: int = int(knob("ROUNDS", "3"))
    wrk_threads: int = int(knob("WRK_THREADS", "1"))
    keys_small: int = int(knob("KEYS_SMALL", "1000"))
    keys_large: int = int(knob("KEYS_LARGE", "1000000"))
    clients_small: int = int(knob("CLIENTS_SMALL", "1000"))
    clients_large: int = int(knob("CLIENTS_LARGE", "100000"))
    revoke_keys: int = int(knob("REVOKE_KEYS", "100000"))
    hot: int = int(knob("HOT", "1000"))
    miss_keys: int = int(knob("MISS_KEYS", "100000"))
    admin_url: str = knob("SCALE_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    prefix: str = knob("SCALE_DB_PREFIX", "gatepass_scale")
    reuse: bool = knob("REUSE", "0") == "1"
    state: str = knob("SCALE_STATE", "")
    # CASES=verify-hot,verify-miss: only these scenarios, with 2 processes, and no listings,
    # query plans, lookups or revoke-all. Empty: the whole benchmark.
    cases: str = knob("CASES", "")
    # GATEPASS_TREE=DIR: servers, CLI and loader import gatepass from another checkout (e.g. a
    # git worktree of an older commit) through PYTHONPATH, with this virtualenv's packages.
    tree: str = knob("GATEPASS_TREE", "")


def log(message: str) -> None:
    print(f"[{datetime.now():%H:%M:%S}] {message}", file=sys.stderr, flush=True)


# --- the databases ---------------------------------------------------------------------------


@dataclass
class Instance:
    """One database with its tenant 'bench' and what the benchmark needs to call it."""

    label: str
    keys: int
    clients: int
    url: str
    state: Path
    env: dict[str, str] = field(default_factory=dict)
    verifier: str = ""  # base64 client_id:secret of a client with api_keys:verify
    admin: tuple[str, str] = ("", "")  # a client with credentials:manage
    load_seconds: float = 0.0
    revoke: dict[str, Any] = field(default_factory=dict)

    @property
    def keys_file(self) -> Path:
        return self.state / f"{self.label}-keys.txt"

    @property
    def clients_file(self) -> Path:
        return self.state / f"{self.label}-clients.txt"


def pg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def database_url(cfg: Config, label: str) -> str:
    name = f"{cfg.prefix}_{label}"
    return make_url(cfg.admin_url).set(database=name).render_as_string(hide_password=False)


def recreate(cfg: Config, url: str) -> None:
    name = make_url(url).database
    if name is None or not name.startswith(cfg.prefix):  # never drop another database
        sys.exit(f"refusing to drop {name}: not a {cfg.prefix}_* database")
    with psycopg.connect(pg_dsn(cfg.admin_url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def base_env(cfg: Config, secret_key: str, url: str, data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEPASS_")}
    env.update(
        GATEPASS_DATABASE_URL=url,
        GATEPASS_SECRET_KEY=secret_key,
        GATEPASS_PUBLIC_URL=f"http://127.0.0.1:{cfg.port}",
        GATEPASS_DATA_DIR=str(data_dir),
        GATEPASS_LOG_LEVEL="warning",
    )
    if cfg.tree:
        env["PYTHONPATH"] = str(Path(cfg.tree).resolve())
    return env


def cli(inst: Instance, *args: str) -> Any:
    proc = subprocess.run(  # noqa: S603 - our own CLI
        [str(GATEPASS), *args], env=inst.env, capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        sys.exit(f"gatepass {' '.join(args)} failed: {proc.stderr.strip()}")
    return json.loads(proc.stdout) if "--json" in args else proc.stdout


def bulk_load(inst: Instance, tenant: str, *, keys: int, clients: int, prefix: str) -> float:
    proc = subprocess.run(  # noqa: S603 - our own loader
        [
            str(PYTHON),
            str(BENCH / "bulk_load.py"),
            "--tenant",
            tenant,
            "--scope",
            "api:read",
            "--keys",
            str(keys),
            "--clients",
            str(clients),
            "--sample",
            "1000",
            "--sample-keys",
            str(inst.state / f"{prefix}-keys.txt"),
            "--sample-clients",
            str(inst.state / f"{prefix}-clients.txt"),
        ],
        env=inst.env,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        sys.exit(f"bulk_load.py failed: {proc.stderr.strip()}")
    seconds: float = json.loads(proc.stdout)["seconds"]
    return seconds


def setup_tenant(inst: Instance, slug: str) -> tuple[str, tuple[str, str]]:
    """Tenant, permission api:read, a verifier client and a management client."""
    cli(inst, "tenant", "create", slug, "--json")
    cli(inst, "permission", "create", "--tenant", slug, "api:read")
    ver = cli(
        inst,
        "client",
        "create",
        "-t",
        slug,
        "--name",
        "verifier",
        "--scope",
        "api_keys:verify",
        "--json",
    )
    adm = cli(
        inst,
        "client",
        "create",
        "-t",
        slug,
        "--name",
        "admin",
        "--scope",
        "credentials:manage",
        "--json",
    )
    basic = base64.b64encode(f"{ver['client_id']}:{ver['client_secret']}".encode()).decode()
    return basic, (adm["client_id"], adm["client_secret"])


def prepare(cfg: Config, inst: Instance, *, revoke_keys: int) -> None:
    """A fresh database with tenant 'bench' (and 'revoke'), or the one of an earlier run."""
    saved = inst.state / f"{inst.label}.json"
    if cfg.reuse and saved.exists():
        data = json.loads(saved.read_text())
        inst.verifier, inst.admin = data["verifier"], tuple(data["admin"])
        inst.load_seconds, inst.revoke = data["load_seconds"], data["revoke"]
        log(f"{inst.label}: reusing {make_url(inst.url).database} (REUSE=1)")
        # undo the revoke-all of an earlier run
        with psycopg.connect(pg_dsn(inst.url), autocommit=True) as conn:
            conn.execute(
                "UPDATE api_keys SET status = 'active', revoked_at = NULL WHERE tenant_id IN "
                "(SELECT id FROM tenants WHERE slug = 'revoke') AND status = 'revoked'"
            )
        return
    log(
        f"{inst.label}: new database {make_url(inst.url).database}: {inst.keys:,} keys, "
        f"{inst.clients:,} clients"
        + (f", revoke tenant {revoke_keys:,} keys" if revoke_keys else "")
    )
    recreate(cfg, inst.url)
    for stale in inst.state.glob(f"{inst.label}*"):
        stale.unlink()
    cli(inst, "migrate")
    inst.verifier, inst.admin = setup_tenant(inst, "bench")
    inst.load_seconds = bulk_load(
        inst, "bench", keys=inst.keys, clients=inst.clients, prefix=inst.label
    )
    log(f"{inst.label}: bulk load took {inst.load_seconds} s")
    if revoke_keys:
        verifier, admin = setup_tenant(inst, "revoke")
        seconds = bulk_load(inst, "revoke", keys=revoke_keys, clients=0, prefix=f"{inst.label}-rv")
        inst.revoke = {"verifier": verifier, "admin": admin, "load_seconds": seconds}
        with psycopg.connect(pg_dsn(inst.url), autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")
    saved.write_text(
        json.dumps(
            {
                "verifier": inst.verifier,
                "admin": inst.admin,
                "load_seconds": inst.load_seconds,
                "revoke": inst.revoke,
            }
        )
    )
