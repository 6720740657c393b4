"""The image built from the Dockerfile without Docker: each stage's instructions carried out in
order in a temporary image root (``rootfs``), with the same commands and the same environment.

- ``RUN`` runs its command with ``/bin/sh -c``, as root, in the stage's root and working
  directory, with the stage's ARG and ENV values and its ``--mount`` flags (a cache mount gets
  a directory of the test run; a bind mount ``from=`` a stage gets that stage's root, read-only);
- ``COPY`` copies from the build context (the repository less ``.dockerignore``), or ``--from``
  an earlier stage's root;
- ``WORKDIR`` makes the directory; ``FROM`` an earlier stage starts from a copy of its root;
- the other instructions (``ENV``, ``LABEL``, ``USER``, ``HEALTHCHECK``, ...) only describe the
  image, and ``Image`` reads them from the final stage.

Anything else (``ADD``, ``SHELL``, other flags) fails: the emulation must not drift from the
Dockerfile in silence.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from tests.container import rootfs
from tests.container.context import context_files
from tests.container.dockerfile import Dockerfile, Instruction, Stage, mount_options

DESCRIPTIVE = {
    "FROM", "ARG", "ENV", "LABEL", "EXPOSE", "VOLUME", "STOPSIGNAL", "HEALTHCHECK", "ENTRYPOINT",
    "CMD", "USER",
}  # fmt: skip
BUILD_TIMEOUT = 900


@dataclass
class Build:
    """The state of an emulated build: the roots of the stages done so far."""

    dockerfile: Dockerfile
    context: Path
    workdir: Path
    log: Path

    def __post_init__(self) -> None:
        self.roots: dict[str, Path] = {}
        self.files = context_files(self.context)

    def run(self) -> Path:
        """Build every stage; the final stage's root."""
        for stage in self.dockerfile.stages:
            self.roots[stage.name] = self.stage(stage)
        return self.roots[self.dockerfile.final.name]

    def stage(self, stage: Stage) -> Path:
        root = self.workdir / stage.name
        if stage.base in self.roots:
            shutil.copytree(self.roots[stage.base], root, symlinks=True)
        else:
            rootfs.scaffold(root)
        cwd = "/"
        for instruction in stage.instructions:
            if instruction.keyword == "WORKDIR":
                cwd = str(PurePosixPath(cwd, instruction.words[0]))
                inside(root, cwd).mkdir(parents=True, exist_ok=True)
            elif instruction.keyword == "COPY":
                self.copy(root, cwd, instruction)
            elif instruction.keyword == "RUN":
                self.run_step(root, cwd, instruction, user=stage_user(stage, instruction))
            elif instruction.keyword not in DESCRIPTIVE:
                raise NotImplementedError(f"line {instruction.line}: {instruction.keyword}")
        return root

    def copy(self, root: Path, cwd: str, instruction: Instruction) -> None:
        unknown = set(instruction.flags) - {"from"}
        if unknown:
            raise NotImplementedError(f"line {instruction.line}: COPY --{unknown.pop()}")
        *sources, destination = instruction.words
        target = inside(root, str(PurePosixPath(cwd, destination)))
        into_directory = destination.endswith("/") or len(sources) > 1
        for source in sources:
            if "from" in instruction.flags:
                copy_path(inside(self.roots[instruction.flags["from"]], source), target)
            else:
                self.copy_from_context(source.strip("/"), target, into_directory=into_directory)

    def copy_from_context(self, source: str, target: Path, *, into_directory: bool) -> None:
        """Docker's rules: a directory's contents go into the target; a file goes into it when
        it names a directory (a trailing ``/``), else it becomes the target."""
        if source in self.files:
            destination = target / Path(source).name if into_directory else target
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(self.context / source, destination)
            return
        below = sorted(f for f in self.files if f.startswith(source + "/"))
        if not below:
            raise FileNotFoundError(f"COPY {source}: not in the build context")
        for name in below:
            destination = target / name.removeprefix(source + "/")
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(self.context / name, destination)

    def run_step(
        self, root: Path, cwd: str, instruction: Instruction, *, user: rootfs.User | None
    ) -> None:
        unknown = set(instruction.flags) - {"mount"}
        if unknown or instruction.value.lstrip().startswith("["):
            raise NotImplementedError(f"line {instruction.line}: RUN form or flag")
        mounts = [self.mount(instruction.flags["mount"])] if "mount" in instruction.flags else []
        made = [m.target for m in mounts if not inside(root, m.target).exists()]
        for target in made:
            inside(root, target).mkdir(parents=True)
        argv = rootfs.command(
            root, ["/bin/sh", "-c", instruction.value], cwd=cwd, user=user, mounts=mounts
        )
        env = {"HOME": "/root" if user is None else "/", **instruction.build_env}
        with self.log.open("a") as log:
            log.write(f"\n### line {instruction.line}: RUN {instruction.value}\n")
            log.flush()
            done = subprocess.run(
                argv,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                timeout=BUILD_TIMEOUT,
                check=False,
            )
        if done.returncode != 0:
            raise RuntimeError(f"line {instruction.line}: RUN exited {done.returncode}")
        for target in made:  # mount points are no part of the layer
            inside(root, target).rmdir()

    def mount(self, flag: str) -> rootfs.Mount:
        options = mount_options(flag)
        if options.get("type") == "cache":
            cache = self.workdir / "cache" / options.get("id", options["target"]).strip("/")
            cache.mkdir(parents=True, exist_ok=True)
            return rootfs.Mount(cache, options["target"], writable=True)
        if options.get("type") == "bind" and "from" in options:
            source = inside(self.roots[options["from"]], options.get("source", "/"))
            return rootfs.Mount(source, options["target"], writable=False)
        raise NotImplementedError(f"RUN --mount={flag}")


def stage_user(stage: Stage, instruction: Instruction) -> rootfs.User | None:
    """The USER in force at ``instruction`` (None: root)."""
    users = [i for i in stage.all("USER") if i.line < instruction.line]
    return rootfs.User.of(users[-1].words[0]) if users else None


def inside(root: Path, path: str) -> Path:
    return root / PurePosixPath(path).relative_to("/")


def copy_path(source: Path, target: Path) -> None:
    if source.is_dir():
        shutil.copytree(source, target, symlinks=True, dirs_exist_ok=True)
    else:
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
