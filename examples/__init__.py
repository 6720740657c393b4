"""Example applications built on Gatepass (not part of the installed distribution)."""
