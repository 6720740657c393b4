"""Console sessions: signing in and out with email and password."""
