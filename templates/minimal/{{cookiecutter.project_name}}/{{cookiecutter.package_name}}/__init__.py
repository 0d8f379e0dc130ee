"""{{ cookiecutter.project_name }}: a LightningModule on `runtime` to fill in (see README.md)."""
