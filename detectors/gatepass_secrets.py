#!/usr/bin/env python3
"""Find Gatepass secrets in files, checksum included: a pre-commit hook, or a filter of another
scanner's findings.

    python3 detectors/gatepass_secrets.py FILE...    # exit 1 if a file holds a Gatepass secret
    ... | python3 detectors/gatepass_secrets.py -     # reads standard input

A secret is ``gpk_`` (API key) or ``gpcs_`` (OAuth client secret), 32 random base62 characters,
and the CRC-32 of prefix and body in 6 base62 characters. A string of that shape whose checksum
is wrong is no secret, and is not reported. It needs nothing but Python 3, so that a repository
that does not install Gatepass can run it; the test suite checks it against Gatepass's own
generator.
"""

from __future__ import annotations

import re
import sys
import zlib
from collections.abc import Iterator
from pathlib import Path

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
PATTERN = re.compile(r"\b((?:gpk|gpcs)_[0-9A-Za-z]{32})([0-9A-Za-z]{6})\b")


def encoded_crc(head: str) -> str:
    number, digits = zlib.crc32(head.encode()), []
    for _ in range(6):
        number, digit = divmod(number, 62)
        digits.append(ALPHABET[digit])
    return "".join(reversed(digits))


def secrets_in(text: str) -> Iterator[str]:
    """Every Gatepass secret in ``text`` whose checksum is right."""
    for found in PATTERN.finditer(text):
        if encoded_crc(found[1]) == found[2]:
            yield found[0]


def main(paths: list[str]) -> int:
    found = 0
    for path in paths:
        try:
            text = sys.stdin.read() if path == "-" else Path(path).read_text(errors="replace")
        except OSError as exc:
            print(f"{path}: {exc.strerror}", file=sys.stderr)
            continue
        for secret in secrets_in(text):
            found += 1
            print(f"{path}: Gatepass secret {secret[: secret.index('_') + 1]}…{secret[-4:]}")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
