"""`scaffold`: the project generator's library and command line.

Importing this package must stay cheap: no torch, no cookiecutter, no black at import time.
"""
