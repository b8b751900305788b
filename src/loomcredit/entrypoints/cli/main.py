"""`loom`: the command-line entry point. Each command group lives in its own module and is
registered here; heavy libraries are imported inside commands so `loom --help` stays fast."""

from __future__ import annotations

import sys

import typer
from rich.console import Console

from loomcredit.domain.errors import LoomError

app = typer.Typer(
    name="loom",
    help="Loom: big-data credit for small and micro enterprises (小微企业大数据信贷).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
err_console = Console(stderr=True)


def _register() -> None:
    # One line per command module; each module exposes `register(app)`.
    for name in (
        "commands_ids",
        "commands_schedule",
        "commands_simulate",
        "commands_ingest",
        "commands_features",
        "commands_models",
        "commands_decide",
        "commands_service",
        "commands_payments",
        "commands_monitor",
        "commands_lines",
        "commands_contacts",
        "commands_loans",
        "commands_collection_report",
        "commands_notices",
        "commands_collections",
        "commands_demo",
    ):
        try:
            module = __import__(f"loomcredit.entrypoints.cli.{name}", fromlist=["register"])
        except ModuleNotFoundError as exc:
            if exc.name != f"loomcredit.entrypoints.cli.{name}":
                raise
            continue  # that capability is not built yet
        module.register(app)


@app.command()
def version() -> None:
    """Print Loom's version."""
    from loomcredit import __version__

    Console().print(f"loom {__version__}")


_register()


def _error(message: str) -> None:
    err_console.print(f"[bold red]error:[/] {message}", soft_wrap=True, highlight=False)


def main() -> None:
    """Run the CLI; expected errors become one clear line and exit status 2.

    Expected errors are Loom's own (bad input, bad files) and the file system refusing a path
    (``LOOM_HOME`` or an output folder that cannot be created or written).
    """
    try:
        app()
    except LoomError as exc:
        _error(str(exc))
        sys.exit(2)
    except OSError as exc:
        where = f" {exc.filename}" if exc.filename else ""
        _error(f"cannot use{where}: {exc.strerror or exc}")
        sys.exit(2)
