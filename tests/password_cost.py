"""The argon2 cost of console passwords in tests: the least there is.

A password hash or check at the default cost takes about 0.1 s of CPU, and the suite signs in
thousands of times. Every test server and settings object uses this cost instead; the default
(production) cost is checked on its own in ``tests/unit/test_passwords.py``.
"""

from __future__ import annotations

CHEAP = {"password_time_cost": 1, "password_memory_kib": 8, "password_parallelism": 1}
CHEAP_ENV = {f"GATEPASS_{name.upper()}": str(value) for name, value in CHEAP.items()}
