"""The generator's errors. Each carries the exit code the command line turns it into (in one place: cli.main)."""

from __future__ import annotations


class ScaffoldError(Exception):
    """Something the user can fix; the message says what and how."""

    exit_code = 1


class BadNameError(ScaffoldError):
    """The project name cannot become a folder and a Python package."""

    exit_code = 2


class UnknownTemplateError(ScaffoldError):
    """No template of that kind ships with scaffold."""

    exit_code = 2


class BadAnswerError(ScaffoldError):
    """An answer (from a prompt or `--set`) is not valid for the template: unknown key, bad value, missing data file."""

    exit_code = 2


class TargetExistsError(ScaffoldError):
    """The project folder exists and is not empty, and `--force` was not given."""

    exit_code = 3


class RenderError(ScaffoldError):
    """A template produced something broken (unrendered markers, Python black cannot parse): a bug in the template."""

    exit_code = 4
