"""Reminders about credentials: expiry at 30, 7 and 1 days before, and dormancy (with the
tenant's policy's optional auto-suspend), mailed to the people responsible, once each."""
