"""HTTP API of the lending service."""
