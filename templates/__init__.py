"""Cookiecutter templates shipped inside the wheel; one folder per kind of project.

Not imported for code: `importlib.resources.files("templates")` locates the folders.
"""
