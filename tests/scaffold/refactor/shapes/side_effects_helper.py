"""Imported by side_effects.py: proves an import ran by writing a file."""
import os

open(os.environ.get("SIDE_EFFECT_IMPORT", "IMPORTED"), "w").write("imported")
