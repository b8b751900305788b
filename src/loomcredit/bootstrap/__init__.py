"""Wiring: adapters into the service layer (one module per capability)."""
