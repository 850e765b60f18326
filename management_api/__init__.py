"""Partner-facing REST API (aiohttp)."""
