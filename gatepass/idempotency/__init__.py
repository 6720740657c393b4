"""Idempotency-Key records of the management API (the store is ``api.idempotency``)."""
