"""Lifecycle webhooks: signed notices of what happens to a tenant's credentials, delivered from
a transactional outbox to the endpoints the tenant's administrators configure."""
