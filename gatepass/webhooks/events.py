"""The event types a webhook endpoint can subscribe to, and which lifecycle action is which.

A resumed credential is ``credential.resumed`` (not ``updated``): a receiver that acted on
``credential.suspended`` needs to know, without comparing fields, that it works again.
"""

from __future__ import annotations

CREDENTIAL_EVENTS = (
    "credential.created",
    "credential.updated",
    "credential.rotated",
    "credential.suspended",
    "credential.resumed",
    "credential.revoked",
    "credential.deleted",
    "credential.expiring",
    "credential.dormant",
    "credential.leaked",
)
TEST_EVENT = "webhook.test"
EVENT_TYPES = (*CREDENTIAL_EVENTS, TEST_EVENT)

# The lifecycle's audit action (after the kind's prefix) -> the event it sends. An action not
# listed (retiring unused old secrets) sends none. The reminders send ``credential.expiring``
# and ``credential.dormant`` themselves (``outbox.emit``).
BY_ACTION = {
    "create": "credential.created",
    "update": "credential.updated",
    "rotate_secret": "credential.rotated",
    "regenerate": "credential.rotated",
    "suspend": "credential.suspended",
    "resume": "credential.resumed",
    "revoke": "credential.revoked",
    "delete": "credential.deleted",
    "leak_reported": "credential.leaked",  # a report of its secret found in public
}
