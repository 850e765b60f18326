"""Storage access behind plain methods; repositories take a session and never commit."""
