"""The management REST API: ``/api/v1/realms/{tenant}/...``, described by OpenAPI."""
