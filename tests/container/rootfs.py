"""A temporary directory standing for an image's root file system, and commands run in it.

Each command runs in a mount namespace of its own (``unshare``), chrooted into the directory,
so that the Dockerfile's absolute paths (``/opt/gatepass``, ``/wheels``, ``/var/lib/gatepass``)
are used as written and every file a build step writes lands in the directory: it holds the
layers the image's own steps make. The base image's part is this machine's, read-only: ``/usr``
and ``/etc`` (Debian 12, as ``python:3.11-slim-bookworm`` has), and the Python running the tests
(3.11) where the official image keeps its own, ``/usr/local``.

A container is run the way ``docker run --read-only --tmpfs /tmp -v volume:...`` runs it: the
root made read-only, a fresh tmpfs on ``/tmp``, the volume writable, and the image's numeric
user (``setpriv``), so that a write anywhere else fails as it would in the container.

Needs root, for the mounts and the chroot.
"""

from __future__ import annotations

import os
import shlex
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

# The base image's directories that come from this machine; the rest of / is the image's own.
SYSTEM = ("usr", "etc")
PYTHON_PREFIX = Path(sys.base_prefix)  # stands for the official image's /usr/local
STANDS_IN_PLACE = PYTHON_PREFIX.as_posix() == "/usr/local"
EMPTY = ("dev", "proc", "tmp", "root", "usr", "etc")


@dataclass(frozen=True)
class Mount:
    source: Path  # on this machine
    target: str  # absolute, in the image root
    writable: bool


@dataclass(frozen=True)
class User:
    uid: int
    gid: int

    @classmethod
    def of(cls, spec: str) -> User:
        """A numeric ``USER uid[:gid]``; names would need the image's /etc/passwd."""
        uid, _, gid = spec.partition(":")
        if not uid.isdigit() or not (gid or uid).isdigit():
            raise ValueError(f"USER {spec}: the emulated image runs numeric users only")
        return cls(int(uid), int(gid or uid))


def scaffold(root: Path) -> None:
    """An empty image root: mount points for the system directories, and /bin, /lib and the
    like as the same links to /usr that Debian 12 has."""
    root.mkdir(parents=True)
    root.chmod(0o755)
    for name in EMPTY:
        (root / name).mkdir(mode=0o755)
    (root / "tmp").chmod(0o1777)
    (root / "root").chmod(0o700)
    for entry in Path("/").iterdir():
        if entry.is_symlink() and os.readlink(entry).startswith("usr/"):
            (root / entry.name).symlink_to(os.readlink(entry))
    if not STANDS_IN_PLACE:
        # This machine's Python finds its libpython by its own absolute path (its RUNPATH), so
        # the image's user must be able to reach that path: under /root, /root is left 0755.
        prefix = root / PYTHON_PREFIX.relative_to("/")
        prefix.mkdir(parents=True, exist_ok=True)
        for directory in prefix.relative_to(root).parents:
            (root / directory).chmod(0o755)


def command(
    root: Path,
    argv: Sequence[str],
    *,
    cwd: str = "/",
    user: User | None = None,
    mounts: Sequence[Mount] = (),
    read_only: bool = False,
) -> list[str]:
    """The command line that runs ``argv`` in ``root`` (give it the container's environment)."""
    r = shlex.quote(str(root))
    steps = ["set -e", f"mount --bind {r} {r}"]
    binds = [(Path("/", name), name) for name in SYSTEM]
    binds.append((PYTHON_PREFIX, "usr/local"))
    if not STANDS_IN_PLACE:
        binds.append((PYTHON_PREFIX, str(PYTHON_PREFIX.relative_to("/"))))
    for source, target in binds:
        steps.append(read_only_bind(source, f"{r}/{shlex.quote(target)}"))
    steps.append(f"mount --rbind /dev {r}/dev")
    steps.append(f"mount -t proc proc {r}/proc")
    for mount in mounts:
        target = f"{r}{shlex.quote(mount.target)}"
        if mount.writable:
            steps.append(f"mount --bind {shlex.quote(str(mount.source))} {target}")
        else:
            steps.append(read_only_bind(mount.source, target))
    if read_only:  # a container: its root read-only, a tmpfs of its own on /tmp
        steps.append(f"mount -o remount,bind,ro {r}")
        steps.append(f"mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs {r}/tmp")  # noqa: S108
    steps.append(f"exec chroot {r} {shlex.join(as_user(user, ['env', f'--chdir={cwd}', *argv]))}")
    return [
        "unshare",
        "--mount",
        "--propagation",
        "private",
        "--",
        "/bin/sh",
        "-c",
        "\n".join(steps),
    ]


def enter(pid: int, argv: Sequence[str], *, user: User | None) -> list[str]:
    """The command line that runs ``argv`` inside the running container ``pid``, as
    ``docker exec`` (and Docker's health checks) do: its mounts, its root, its user."""
    return ["nsenter", f"--target={pid}", "--mount", "--root", "--wd", *as_user(user, argv)]


def read_only_bind(source: Path, target: str) -> str:
    return f"mount --bind {shlex.quote(str(source))} {target} && mount -o remount,bind,ro {target}"


def as_user(user: User | None, argv: Sequence[str]) -> list[str]:
    if user is None:
        return list(argv)
    ids = [f"--reuid={user.uid}", f"--regid={user.gid}", "--clear-groups"]
    return ["/usr/bin/setpriv", *ids, "--", *argv]
