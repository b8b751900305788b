"""The `loom` command line (Typer + Rich)."""
