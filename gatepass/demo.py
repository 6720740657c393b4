"""The demo tenant that ``make run`` creates on a fresh install (seed 000's permission catalog)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy.orm import Session

from gatepass import credential_secrets as cs
from gatepass import provisioning
from gatepass.audit.service import Actor
from gatepass.clients import service as clients
from gatepass.groups import service as groups
from gatepass.permissions import service as permissions
from gatepass.signing_keys.material import KeyCipher
from gatepass.tenants import service as tenants
from gatepass.users import service as users

SLUG = "demo"
ADMIN_EMAIL = "admin@demo.example"
CATALOG = (
    ("remote_actions", "Remote Actions API", "Trigger and query remote actions.", ""),
    ("enrichment", "Enrichment API", "Operate the enrichment feature.", ""),
    ("data_management", "Data management", "Manage devices.", ""),
    ("workflows", "Workflows API", "Trigger and query workflows.", ""),
    ("campaigns", "Campaigns API", "Trigger campaigns.", ""),
    ("nql", "NQL API", "Extract data.", ""),
    ("spark", "Spark API", "Transfer a live conversation to Spark.", "In technical preview"),
)
GROUPS = ("emea", "americas")


@dataclass(frozen=True)
class DemoSetup:
    admin_email: str
    admin_password: cs.Plaintext
    client_id: str
    client_secret: cs.Plaintext


def create_demo(
    session: Session, *, hasher: cs.SecretHasher, cipher: KeyCipher
) -> DemoSetup | None:
    """Create the demo tenant unless a tenant exists already (then return ``None``)."""
    if tenants.count_tenants(session) > 0:
        return None
    actor = Actor.cli()
    tenant = provisioning.create_tenant(
        session, slug=SLUG, name="Demo Company", actor=actor, cipher=cipher
    )
    for name, label, description, reason in CATALOG:
        permissions.create_permission(
            session,
            tenant,
            name=name,
            label=label,
            description=description,
            available=not reason,
            unavailable_reason=reason,
            actor=actor,
        )
    for group in GROUPS:
        groups.create_group(session, tenant, name=group, actor=actor)
    password = cs.Plaintext(secrets.token_urlsafe(18))
    users.create_user(
        session,
        tenant,
        email=ADMIN_EMAIL,
        role="admin",
        password=password.reveal(),
        display_name="Demo Administrator",
        actor=actor,
    )
    spec = clients.NewClient(
        name="Demo integration",
        description="Created by the first run of Gatepass",
        scopes=[name for name, *_, reason in CATALOG if not reason],
        groups=["emea"],
    )
    client, secret = clients.create_client(session, tenant, spec, actor=actor, hasher=hasher)
    if secret is None:  # never: only a client given public keys is made without a secret
        raise RuntimeError("the demo client was made without a secret")
    return DemoSetup(ADMIN_EMAIL, password, client.client_id, secret)
