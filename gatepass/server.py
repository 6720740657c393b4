"""The server process behind ``gatepass serve``.

``gatepass serve`` migrates the database, then replaces itself with this module, so that the
supervisor of ``--workers N`` holds only the server and logging code (about 30 MiB) rather than
everything the CLI imported. Each worker builds its own app with ``create_app_from_env``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
import tempfile
from functools import partial
from typing import cast

# structlog imports rich, when it is installed (the CLI needs it), for pretty tracebacks on a
# developer's console; a server process writes JSON logs and never uses it. Keeping it out of
# the supervisor and of every worker (which import this module first) saves 4.6 MiB and ~60 ms
# of imports per process.
sys.modules.setdefault("rich", None)  # type: ignore[arg-type]

import uvicorn  # noqa: E402

from gatepass.ops.http_protocol import HeadLimits, LimitedHttpToolsProtocol  # noqa: E402
from gatepass.ops.logging import configure  # noqa: E402


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="gatepass serve")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--trusted-proxies", default=None)  # validated by Settings already
    parser.add_argument("--max-request-head-bytes", type=int, default=HeadLimits.max_bytes)
    parser.add_argument("--max-request-headers", type=int, default=HeadLimits.max_headers)
    args = parser.parse_args(argv)
    configure(os.environ.get("GATEPASS_LOG_LEVEL", "info"))
    metrics_dir = None
    if args.workers > 1 and "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
        # Workers write their metrics here so that /metrics can add them up.
        metrics_dir = tempfile.mkdtemp(prefix="gatepass-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    try:
        uvicorn.run(
            "gatepass.app:create_app_from_env",
            factory=True,
            host=args.host,
            port=args.port,
            workers=args.workers,
            loop="uvloop",
            http=protocol(HeadLimits(args.max_request_head_bytes, args.max_request_headers)),
            access_log=False,
            log_config=None,
            server_header=False,
            # Forwarded headers count only from the configured proxies.
            proxy_headers=args.trusted_proxies is not None,
            forwarded_allow_ips=args.trusted_proxies or "",
        )
    finally:
        if metrics_dir is not None:
            shutil.rmtree(metrics_dir, ignore_errors=True)


def protocol(limits: HeadLimits) -> type[asyncio.Protocol]:
    """httptools with limits on request heads; uvicorn builds it like a class, and a partial of
    a module-level class can be sent to the ``--workers`` processes."""
    return cast(type[asyncio.Protocol], partial(LimitedHttpToolsProtocol, limits=limits))


if __name__ == "__main__":
    main()
