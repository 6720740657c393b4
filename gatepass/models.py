"""Imports every model so that ``Base.metadata`` is complete (used by Alembic and tests)."""

from gatepass.apikeys.models import ApiKey, ApiKeySecret
from gatepass.audit.models import AuditEvent
from gatepass.changes.models import Change
from gatepass.clients.models import ClientSecret, OAuthClient
from gatepass.db import Base
from gatepass.deliveries.models import SecretDelivery
from gatepass.groups.models import ClientGroup
from gatepass.idempotency.models import IdempotencyRecord
from gatepass.jobs.models import JobLease
from gatepass.permissions.models import Permission
from gatepass.reminders.models import SentReminder
from gatepass.sessions.models import ConsoleSession
from gatepass.signing_keys.models import SigningKey
from gatepass.tenants.models import Tenant
from gatepass.tokens.models import RevokedToken
from gatepass.users.models import User
from gatepass.webhooks.models import WebhookAttempt, WebhookEndpoint, WebhookMessage

__all__ = [
    "ApiKey",
    "ApiKeySecret",
    "AuditEvent",
    "Base",
    "Change",
    "ClientGroup",
    "ClientSecret",
    "ConsoleSession",
    "IdempotencyRecord",
    "JobLease",
    "OAuthClient",
    "Permission",
    "RevokedToken",
    "SecretDelivery",
    "SentReminder",
    "SigningKey",
    "Tenant",
    "User",
    "WebhookAttempt",
    "WebhookEndpoint",
    "WebhookMessage",
]
