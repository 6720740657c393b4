"""Building the link mail: every header one clean line, whatever a stored name holds."""

from __future__ import annotations

import pytest

from gatepass.deliveries import mail
from gatepass.settings import Settings

SEPARATORS = "\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029\x00"


@pytest.mark.parametrize("char", list(SEPARATORS))
def test_a_separator_in_the_organisation_leaves_no_broken_header(
    settings: Settings, char: str
) -> None:
    message = mail.link_message(
        settings,
        recipient="lee@partner.example",
        link="https://gatepass.example/console/link#token",
        what="API key",
        organisation=f"Acme{char}Bcc: eve@evil.example",
        sender=f"Ada{char}Lovelace",
        expires="2030-01-01 00:00 UTC",
    )
    wire = message.as_bytes()
    headers = wire.split(b"\n\n", 1)[0].decode("ascii")
    assert "\nBcc:" not in headers
    assert message["Bcc"] is None
    assert all(c not in str(message["Subject"]) for c in SEPARATORS)
    assert message["Subject"] == "Your API key for Acme Bcc: eve@evil.example"


def test_header_text_keeps_ordinary_unicode() -> None:
    assert mail.header_text("Zoë & Søn\u2028AG") == "Zoë & Søn AG"
