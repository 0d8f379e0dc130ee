"""{{ cookiecutter.project_name }}: refactored from {{ cookiecutter._refactored_from }} by `scaffold refactor`."""
