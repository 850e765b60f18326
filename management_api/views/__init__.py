"""Request handlers, one module per resource; each is an ``Operation`` listed in ``routes.py``."""
