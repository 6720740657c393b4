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
        credential=mail.Credential("API key", f"Export{char}Cc: x@evil.example", "k_1", "created"),
        organisation=f"Acme{char}Bcc: eve@evil.example",
        sender=f"Ada{char}Lovelace",
        expires="2030-01-01 00:00 UTC",
    )
    wire = message.as_bytes()
    headers = wire.split(b"\n\n", 1)[0].decode("ascii")
    assert "\nBcc:" not in headers
    assert "\nCc:" not in headers
    assert message["Bcc"] is None
    assert message["Cc"] is None
    assert all(c not in str(message["Subject"]) for c in SEPARATORS)
    assert message["Subject"] == (
        "New API key “Export Cc: x@evil.example” for Acme Bcc: eve@evil.example"
    )


def test_header_text_keeps_ordinary_unicode() -> None:
    assert mail.header_text("Zoë & Søn\u2028AG") == "Zoë & Søn AG"


@pytest.mark.parametrize(
    ("credential", "subject", "says"),
    [
        (
            mail.Credential("API key", "Export", "k_1", "created"),
            "New API key “Export” for Acme",
            "Ada created API key “Export” (key ID k_1) for you in Acme.",
        ),
        (
            mail.Credential("API key", "Export", "k_1", "regenerated"),
            "Regenerated API key “Export” for Acme",
            "Ada regenerated the API key “Export” (key ID k_1) for you in Acme.",
        ),
        (
            mail.Credential("OAuth client credentials", "Billing", "billing-1", "created"),
            "New OAuth client credentials “Billing” for Acme",
            "Ada created OAuth client credentials “Billing” (client ID billing-1) for you in Acme.",
        ),
        (
            mail.Credential("OAuth client credentials", "Billing", "billing-1", "rotated"),
            "Rotated OAuth client credentials “Billing” for Acme",
            "Ada rotated the secret of the OAuth client “Billing” (client ID billing-1) for you",
        ),
    ],
    ids=["key-created", "key-regenerated", "client-created", "client-rotated"],
)
def test_the_mail_names_the_credential_and_what_happened_to_it(
    settings: Settings, credential: mail.Credential, subject: str, says: str
) -> None:
    message = mail.link_message(
        settings,
        recipient="lee@partner.example",
        link="https://gatepass.example/console/link#token",
        credential=credential,
        organisation="Acme",
        sender="Ada",
        expires="2030-01-01 00:00 UTC",
    )
    assert message["Subject"] == subject
    body = " ".join(message.get_content().split())
    assert says in body
