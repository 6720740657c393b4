"""Public keys that verify JWTs others sign: a client's keys for ``private_key_jwt``, a trusted
issuer's keys for workload identity federation. ``jwk`` reads one key; ``remote`` fetches and
caches the key sets published at a URL."""
