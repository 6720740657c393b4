"""Gatepass: a self-hosted OAuth 2.0 client-credentials server and API-key manager."""

__version__ = "0.1.0"
