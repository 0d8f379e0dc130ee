"""{{ cookiecutter.project_name }}: a classifier on `runtime` (see README.md)."""
