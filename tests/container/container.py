"""The emulated image run as ``docker run`` would run it, and ``docker exec`` into it.

``Image`` reads what the final stage says about running it (ENV, USER, VOLUME, ENTRYPOINT,
CMD, HEALTHCHECK, STOPSIGNAL); ``Container`` runs it read-only with a tmpfs on /tmp and a volume
on the data directory (``rootfs.command``), under its own user.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tests.container import rootfs
from tests.container.build import inside
from tests.container.dockerfile import Stage, exec_form, paths

ONE_OFF_TIMEOUT = 120


@dataclass(frozen=True)
class Image:
    root: Path
    stage: Stage  # the final one

    @property
    def user(self) -> rootfs.User:
        user = self.stage.last("USER")
        assert user is not None, "the image runs as root"
        return rootfs.User.of(user.words[0])

    @property
    def volume(self) -> str:
        (volume,) = (p for v in self.stage.all("VOLUME") for p in paths(v))
        return volume

    @property
    def entrypoint(self) -> list[str]:
        found = self.stage.last("ENTRYPOINT")
        return exec_form(found) if found else []

    @property
    def cmd(self) -> list[str]:
        found = self.stage.last("CMD")
        return exec_form(found) if found else []

    @property
    def healthcheck(self) -> list[str]:
        found = self.stage.last("HEALTHCHECK")
        assert found is not None, "the image has no HEALTHCHECK"
        return exec_form(found)

    @property
    def stop_signal(self) -> signal.Signals:
        found = self.stage.last("STOPSIGNAL")
        return signal.Signals[found.words[0]] if found else signal.SIGTERM

    def environment(self, overrides: dict[str, str]) -> dict[str, str]:
        """The container's environment: the image's ENV, ``-e`` overrides, and the HOME Docker
        gives a user that /etc/passwd does not name."""
        return {"HOME": "/", **self.stage.env, **overrides}

    def new_volume(self, directory: Path) -> Path:
        """A fresh named volume: Docker fills it with the image's files at the mount point, with
        their owner and mode."""
        source = inside(self.root, self.volume)
        shutil.copytree(source, directory, symlinks=True)
        for path in [directory, *directory.rglob("*")]:
            original = source / path.relative_to(directory)
            stat = original.lstat()
            os.lchown(path, stat.st_uid, stat.st_gid)
        return directory


@dataclass
class Container:
    image: Image
    volume: Path
    env: dict[str, str]
    logs: Path
    process: subprocess.Popen[bytes] | None = field(default=None, init=False)

    def command(self, args: Sequence[str] | None) -> list[str]:
        mount = rootfs.Mount(self.volume, self.image.volume, writable=True)
        argv = [*self.image.entrypoint, *(self.image.cmd if args is None else args)]
        return rootfs.command(
            self.image.root, argv, user=self.image.user, mounts=[mount], read_only=True
        )

    def run(self, args: Sequence[str] | None) -> subprocess.CompletedProcess[str]:
        """``docker run --rm image ARGS`` to its end (the image's CMD if ``args`` is None)."""
        return subprocess.run(
            self.command(args),
            env=self.env,
            capture_output=True,
            text=True,
            timeout=ONE_OFF_TIMEOUT,
            check=False,
        )

    def start(self, args: Sequence[str] | None = None) -> None:
        """``docker run -d``: the process is the container's first (after the execs)."""
        self.logs.mkdir(parents=True, exist_ok=True)
        with (self.logs / "stdout").open("wb") as out, (self.logs / "stderr").open("wb") as err:
            self.process = subprocess.Popen(
                self.command(args), env=self.env, stdout=out, stderr=err, start_new_session=True
            )

    def exec(self, argv: Sequence[str]) -> subprocess.CompletedProcess[str]:
        """``docker exec``, as the image's user: how Docker runs the health check too."""
        assert self.process is not None
        return subprocess.run(
            rootfs.enter(self.process.pid, argv, user=self.image.user),
            env=self.env,
            capture_output=True,
            text=True,
            timeout=ONE_OFF_TIMEOUT,
            check=False,
        )

    def output(self) -> str:
        return (self.logs / "stdout").read_text() + (self.logs / "stderr").read_text()

    def stop(self, timeout: float = 30) -> int:
        """``docker stop``: the STOPSIGNAL, then SIGKILL past ``timeout``; the exit status."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(self.image.stop_signal)  # to the first process only
            try:
                return self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        return self.process.wait(timeout=timeout)

    def kill(self) -> None:
        """Whatever of the container is left (``docker kill``)."""
        assert self.process is not None
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            return
