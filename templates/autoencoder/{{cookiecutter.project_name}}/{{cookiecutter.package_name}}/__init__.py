"""{{ cookiecutter.project_name }}: an autoencoder on `runtime` (see README.md)."""
