"""{{ cookiecutter.project_name }}: a GAN on `runtime` (see README.md)."""
