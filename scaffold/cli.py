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


def _piped_answers() -> list[str] | None:
    """The lines piped into stdin (``printf 'gan\n\n0.01\n' | scaffold new x``), or None when nothing is piped.

    A pipe is read only when it already has data (waiting a moment for the writer), so a closed or idle stdin
    (CI, cron, /dev/null) never makes the command wait.
    """
    import os
    import select
    import stat

    try:
        mode = os.fstat(sys.stdin.fileno()).st_mode
    except (AttributeError, ValueError, OSError):
        return None
    if stat.S_ISFIFO(mode):
        if not select.select([sys.stdin], [], [], 0.5)[0]:
            return None
    elif not stat.S_ISREG(mode):
        return None
    lines = sys.stdin.read().splitlines()
    return lines if any(line.strip() for line in lines) else None


def _answer_from(lines: list[str]):
    """An ``ask`` that takes the next piped line as the answer (an empty line, or none left: the default)."""
    def ask(prompt: str, default: str) -> str:
        answer = lines.pop(0).strip() if lines else ""
        typer.echo(f"{prompt} [{default}]: {answer or default}")
        return answer or default

    return ask


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

    ask, ask_kind = (_ask, _ask_kind) if _interactive(no_input) else (None, None)
    if ask is None and not no_input:
        piped = _piped_answers()
        if piped is not None:  # answers piped in, one per line, in the order the questions are asked
            line = _answer_from(piped)
            ask = lambda question, default: line(question.prompt, default)  # noqa: E731
            ask_kind = lambda known, default: line(f"Kind of project ({'/'.join(known)})", default)  # noqa: E731
        else:
            typer.echo("Standard input is not a terminal, so nothing is asked: using the defaults and --set values "
                       "(pipe the answers one per line, or pass --no-input to silence this).", err=True)
    path = new_project(
        name,
        template=template,
        output_dir=output_dir,
        force=force,
        sets=parse_sets(set_),
        ask=ask,
        ask_kind=ask_kind if template is None else None,
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


def _click_errors() -> tuple[tuple[type, ...], tuple[type, ...]]:
    """Click's usage-error and abort classes: typer >= 0.2x bundles its own click (``typer._click``), older typer
    uses click itself; both are caught, so a typo is a short message and exit code 2 with either."""
    usage: list[type] = []
    abort: list[type] = [typer.Abort]
    try:
        from typer._click import exceptions as bundled

        usage.append(bundled.ClickException)
    except ImportError:
        pass
    try:
        import click

        usage.append(click.ClickException)
        abort.append(click.Abort)
    except ImportError:
        pass
    return tuple(usage), tuple(abort)


def run(argv: list[str] | None = None) -> int:
    """Run the command line on ``argv`` and return the exit code; the one place errors become exit codes."""
    from scaffold.errors import ScaffoldError

    usage_errors, aborts = _click_errors()
    try:
        result = app(args=argv, prog_name="scaffold", standalone_mode=False)
    except ScaffoldError as err:
        typer.echo(f"error: {err}", err=True)
        return err.exit_code
    except usage_errors as err:  # unknown option or command, missing argument: usage, message, exit 2
        err.show()
        return err.exit_code
    except aborts:
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
