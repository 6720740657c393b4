"""The change feed: what changed, written in the same transaction, and the notices spreading it."""
