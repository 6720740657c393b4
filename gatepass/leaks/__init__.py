"""Reports of leaked secrets: who may report, what Gatepass does, whom it tells."""
