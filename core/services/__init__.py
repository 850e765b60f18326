"""Use cases: framework-free services that take a unit of work and speak the domain."""
