"""{{ cookiecutter.project_name }}: a character-level language model on `runtime` (see README.md)."""
