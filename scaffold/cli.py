"""The `scaffold` command line: a thin typer layer over functions in this package.

Keep the imports here light (typer and the standard library): `scaffold --help` must not
import torch, and heavy libraries (cookiecutter, black) are imported inside the command that needs them.
Errors are `ScaffoldError`s raised by the library; `run` turns them into a message and an exit code.
"""

from __future__ import annotations

import sys
from typing import List, Optional

import typer

app = typer.Typer(
    name="scaffold",
    help="Generate PyTorch Lightning-style projects that run on `runtime`.",
    no_args_is_help=True,
    add_completion=False,
    # plain click help: rich's help formatter alone costs ~0.2 s of start-up
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
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


def _interactive(no_input: bool) -> bool:
    """Prompt only when asked to and a person can answer: never with --no-input or a non-terminal stdin."""
    if no_input:
        return False
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except (AttributeError, ValueError):
        return False


def _ask(question, default: str) -> str:
    if question.choices:
        text = f"{question.prompt} [{'/'.join(question.choices)}]"
    else:
        text = question.prompt
    return str(typer.prompt(text, default=default, show_default=True))


def _ask_kind(known: list[str], default: str) -> str:
    return str(typer.prompt(f"Kind of project [{'/'.join(known)}]", default=default, show_default=True))


@app.command("new")
def new_command(
    name: str = typer.Argument(..., metavar="NAME", help="Project name: the folder, and the package with '-' as '_'."),
    template: Optional[str] = typer.Option(
        None, "--template", "-t", help="Kind of project (see `scaffold templates`); default: guessed from NAME."
    ),
    no_input: bool = typer.Option(False, "--no-input", help="Never prompt; use the defaults and --set values."),
    output_dir: str = typer.Option(".", "--output-dir", "-o", help="Folder to create the project in."),
    force: bool = typer.Option(False, "--force", "-f", help="Write over an existing non-empty project folder."),
    set_: Optional[List[str]] = typer.Option(
        None, "--set", "-s", help="Answer a question: key=value (repeatable), e.g. --set lr=0.01."
    ),
) -> None:
    """Create a project that trains out of the box: `scaffold new gan-project --no-input`."""
    from scaffold.answers import parse_sets
    from scaffold.generate import new_project

    interactive = _interactive(no_input)
    path = new_project(
        name,
        template=template,
        output_dir=output_dir,
        force=force,
        sets=parse_sets(set_),
        ask=_ask if interactive else None,
        ask_kind=_ask_kind if interactive and template is None else None,
    )
    typer.echo(f"Created {path}")
    typer.echo(f"  cd {path.name} && python train.py fit")


@app.command("refactor")
def refactor_command(
    script: str = typer.Argument(..., metavar="SCRIPT.py", help="The PyTorch training script to turn into a project."),
    script_args: Optional[List[str]] = typer.Argument(None, metavar="[-- SCRIPT_ARGS...]",
                                                      help="The script's own arguments, after `--`: they become the config."),
    output: Optional[str] = typer.Option(None, "--output", "-o", help="The project folder (default: ./NAME)."),
    name: Optional[str] = typer.Option(None, "--name", "-n", help="Project name (default: from the script's file name)."),
    force: bool = typer.Option(False, "--force", "-f", help="Write over an existing non-empty project folder."),
    verify: bool = typer.Option(False, "--verify", help="Also RUN the script and the new project (a short fit on the CPU each) "
                                "and compare them: the only time scaffold executes the script or anything it imports."),
) -> int:
    """Turn a raw PyTorch training script into a project: `scaffold refactor train.py -o my-project -- --lr 0.1`.

    The script is only read, never run (its argparse options are read from its text), unless --verify is given.
    """
    from scaffold.refactor import refactor_script

    result = refactor_script(script, output=output, name=name, force=force, verify=verify, script_args=script_args or [])
    typer.echo(result.report)
    typer.echo(f"Created {result.path} ({result.mode} optimization; {result.unplaced} statement(s) not placed, see REFACTOR.md)")
    typer.echo(f"  cd {result.path.name} && python train.py fit")
    if result.verify is not None:
        typer.echo("")
        typer.echo(result.verify.text)
        return 0 if result.verify.match else 1
    return 0


def run(argv: list[str] | None = None) -> int:
    """Run the command line on ``argv`` and return the exit code; the one place errors become exit codes."""
    import click

    from scaffold.errors import ScaffoldError

    try:
        result = app(args=argv, prog_name="scaffold", standalone_mode=False)
    except ScaffoldError as err:
        typer.echo(f"error: {err}", err=True)
        return err.exit_code
    except click.ClickException as err:
        err.show()
        return err.exit_code
    except click.Abort:
        typer.echo("Aborted.", err=True)
        return 1
    except KeyboardInterrupt:
        typer.echo("Interrupted.", err=True)
        return 130
    return result if isinstance(result, int) else 0


def main() -> None:
    """Entry point of the `scaffold` console script."""
    sys.exit(run())


if __name__ == "__main__":
    main()
