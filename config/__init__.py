"""Process configuration: the only package that reads the environment."""

from config.settings import Settings

__all__ = ["Settings"]
