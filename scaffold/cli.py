"""The `scaffold` command line: a thin typer layer over functions in this package.

Keep the imports here light (typer and the standard library): `scaffold --help` must not
import torch, and heavy libraries are imported inside the command that needs them.
"""

from __future__ import annotations

import typer

app = typer.Typer(
    name="scaffold",
    help="Generate PyTorch Lightning-style projects that run on `runtime`.",
    no_args_is_help=True,
    add_completion=False,
)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("kindling")
    except PackageNotFoundError:  # running from a source tree that is not installed
        return "unknown (kindling is not installed)"


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"scaffold {_version()}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False,
        "--version",
        callback=_print_version,
        is_eager=True,
        help="Print the version and exit.",
    ),
) -> None:
    """Generate PyTorch Lightning-style projects that run on `runtime`."""


@app.command("templates")
def templates_command() -> None:
    """List the project templates that ship with scaffold."""
    from scaffold.templates import list_templates, templates_root

    found = list_templates()
    if not found:
        typer.echo(f"No templates installed (looked in {templates_root()}).")
        return
    width = max(len(t.name) for t in found)
    for t in found:
        typer.echo(f"{t.name:<{width}}  {t.description}".rstrip())


def main() -> None:
    """Entry point of the `scaffold` console script."""
    app()


if __name__ == "__main__":
    main()
