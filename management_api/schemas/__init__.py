"""Pydantic models of the HTTP contract: they validate requests and make the OpenAPI document."""
