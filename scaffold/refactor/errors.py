"""The errors `scaffold refactor` raises: `ScaffoldError`s, so the command line maps them to exit codes in one place."""

from __future__ import annotations

from scaffold.errors import ScaffoldError, TargetExistsError  # noqa: F401  (re-exported for callers)


class ScriptNotFoundError(ScaffoldError):
    """The script to refactor does not exist or is not a file."""

    exit_code = 2


class ScriptSyntaxError(ScaffoldError):
    """The script is not Python that parses (the message names the line and column)."""

    exit_code = 2


class NoTrainingLoopError(ScaffoldError):
    """No training loop was found: no ``for`` loop that calls ``.backward()``."""

    exit_code = 2


class ScriptArgsError(ScaffoldError):
    """The script's own argparse parser rejected the arguments given after ``--`` (or a required one is missing)."""

    exit_code = 2


class VerifyError(ScaffoldError):
    """``--verify`` could not run the original script or the new project to the compared steps."""

    exit_code = 5


class UnsafeRefactorError(ScaffoldError):
    """The project made from the script would not run (a file that does not compile, a name defined nowhere, dead
    code): nothing is written, and the message names the lines and what to change in the script."""

    exit_code = 2
