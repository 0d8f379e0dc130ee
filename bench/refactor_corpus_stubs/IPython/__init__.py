"""Offline stand-in for IPython (corpus runs only): the tutorials import a debugger hook and HTML display."""
