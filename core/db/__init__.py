"""Database layer: ORM models, engine factory, embedded server, migrations runner."""
