"""The Dockerfile read as Docker reads it: stages, and each stage's instructions with their
flags, variables substituted where Docker substitutes them (not in RUN: the shell does that).

``dockerfile-parse`` splits the file into instructions; this module groups them by stage and
tracks ``ARG`` and ``ENV`` through each stage, so that the checks and the emulated build see
the same values a build would.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from dockerfile_parse import DockerfileParser
from dockerfile_parse.util import WordSplitter, extract_key_values

# What ``docker inspect python:3.11-slim-bookworm`` shows as the base image's environment (the
# parts a build step can notice).
BASE_ENV = {
    "PATH": "/usr/local/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "LANG": "C.UTF-8",
}
_FLAG = re.compile(r"--([a-z-]+)=(\S+)\s+")


@dataclass(frozen=True)
class Instruction:
    keyword: str  # upper case
    flags: dict[str, str]  # --from=builder and the like, before the arguments
    value: str  # the rest, unsubstituted
    words: tuple[str, ...]  # the rest split into words, variables substituted
    line: int  # 1-based
    args: dict[str, str]  # the stage's ARG values in force here
    env: dict[str, str]  # the stage's ENV in force here (the base image's included)

    @property
    def build_env(self) -> dict[str, str]:
        """What a RUN step sees: build arguments and the environment."""
        return {**self.args, **self.env}


@dataclass
class Stage:
    name: str
    base: str
    instructions: list[Instruction] = field(default_factory=list)

    def all(self, keyword: str) -> list[Instruction]:
        return [i for i in self.instructions if i.keyword == keyword]

    def last(self, keyword: str) -> Instruction | None:
        found = self.all(keyword)
        return found[-1] if found else None

    @property
    def env(self) -> dict[str, str]:
        """The environment the stage's image runs with."""
        return dict(self.instructions[-1].env)


@dataclass(frozen=True)
class Dockerfile:
    stages: list[Stage]

    @property
    def final(self) -> Stage:
        return self.stages[-1]

    def stage(self, name: str) -> Stage:
        return next(s for s in self.stages if s.name == name)


def parse(path: Path) -> Dockerfile:
    stages: list[Stage] = []
    args: dict[str, str] = {}
    env: dict[str, str] = {}
    for raw in DockerfileParser(str(path), env_replace=False).structure:
        keyword = raw["instruction"]
        if keyword == "COMMENT":
            continue
        flags, value = split_flags(raw["value"])
        if keyword == "FROM":
            stage = new_stage(value, stages)
            earlier = {s.name: s for s in stages}
            env = earlier[stage.base].env if stage.base in earlier else dict(BASE_ENV)
            args = {}
            stages.append(stage)
        words = tuple(WordSplitter(value, args=args, envs=env).split()) if value else ()
        if keyword in ("ARG", "ENV"):
            target = args if keyword == "ARG" else env
            for key, assigned in extract_key_values(True, args, env, value):
                target[key] = assigned
        stages[-1].instructions.append(
            Instruction(keyword, flags, value, words, raw["startline"] + 1, dict(args), dict(env))
        )
    return Dockerfile(stages)


def new_stage(value: str, earlier: list[Stage]) -> Stage:
    """The stage a ``FROM base [AS name]`` starts; unnamed stages are named by their index."""
    words = value.split()
    named = len(words) == 3 and words[1].lower() == "as"
    return Stage(words[2] if named else str(len(earlier)), words[0])


def split_flags(value: str) -> tuple[dict[str, str], str]:
    """``--mount=type=cache,target=/x cmd`` -> ({"mount": "type=cache,target=/x"}, "cmd")."""
    flags: dict[str, str] = {}
    while match := _FLAG.match(value):
        if match.group(1) in flags:
            raise ValueError(f"--{match.group(1)} given twice: the emulated build takes one")
        flags[match.group(1)] = match.group(2)
        value = value[match.end() :]
    return flags, value


def exec_form(instruction: Instruction) -> list[str]:
    """The argv of a JSON-form ENTRYPOINT, CMD or HEALTHCHECK CMD (DL3025 wants that form)."""
    value = instruction.value
    if instruction.keyword == "HEALTHCHECK":
        value = value.split("CMD", 1)[1]
    argv = json.loads(value)
    if not (isinstance(argv, list) and all(isinstance(a, str) for a in argv)):
        raise ValueError(f"line {instruction.line}: not a JSON array of strings")
    return argv


def paths(instruction: Instruction) -> list[str]:
    """The paths of a VOLUME, in either of its forms (JSON array or words)."""
    if instruction.value.lstrip().startswith("["):
        listed: list[str] = json.loads(instruction.value)
        return listed
    return list(instruction.words)


def mount_options(flag: str) -> dict[str, str]:
    """``type=bind,from=builder,source=/wheels,target=/wheels`` as a dict."""
    return dict(part.split("=", 1) for part in flag.split(","))
