"""The build context as Docker sends it: the repository less what ``.dockerignore`` excludes.

Docker's rules (moby's patternmatcher): patterns are relative to the context root, ``*`` and
``?`` stop at ``/``, ``**`` spans directories, a pattern that matches a directory matches what
it holds, ``!`` takes a path back in, and the last pattern that matches decides.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Pattern:
    regex: re.Pattern[str]
    text: str
    include: bool  # a "!" pattern takes matching paths back into the context

    def matches(self, path: str) -> bool:
        """The path, or one of the directories above it, matches."""
        parts = path.split("/")
        return any(self.regex.fullmatch("/".join(parts[:n])) for n in range(1, len(parts) + 1))


def read_patterns(dockerignore: Path) -> list[Pattern]:
    patterns = []
    for line in dockerignore.read_text().splitlines():
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        include = text.startswith("!")
        text = os.path.normpath(text.removeprefix("!").strip()).lstrip("/")
        patterns.append(Pattern(re.compile(translate(text)), text, include))
    return patterns


def translate(pattern: str) -> str:
    """A Docker ignore pattern as a regular expression over slash-separated paths."""
    out, i = [], 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        else:
            char = pattern[i]
            out.append({"*": "[^/]*", "?": "[^/]"}.get(char, re.escape(char)))
            i += 1
    return "".join(out)


def excluded(path: str, patterns: list[Pattern]) -> bool:
    verdict = False
    for pattern in patterns:
        if pattern.matches(path):
            verdict = not pattern.include
    return verdict


def context_files(root: Path) -> set[str]:
    """Every file of the context, as paths relative to ``root``."""
    patterns = read_patterns(root / ".dockerignore")
    taken_back = [p.text for p in patterns if p.include]
    walk_all = any(set("*?[") & set(t) for t in taken_back)
    files: set[str] = set()
    for directory, dirnames, filenames in os.walk(root):
        relative = Path(directory).relative_to(root).as_posix()
        prefix = "" if relative == "." else relative + "/"
        # An excluded directory is walked only if a "!" pattern may take something in it back.
        dirnames[:] = [
            d
            for d in dirnames
            if walk_all
            or not excluded(prefix + d, patterns)
            or any(t.startswith(prefix + d + "/") or t == prefix + d for t in taken_back)
        ]
        files.update(prefix + name for name in filenames if not excluded(prefix + name, patterns))
    return files
