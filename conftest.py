"""Test-wide settings: fast mode and a non-interactive plotting backend.

nbval starts each notebook's kernel with this process's environment, so the notebooks
inherit both (STACK.md, "Notebook testing").
"""

import os

os.environ.setdefault("COURSE_FAST", "1")
os.environ.setdefault("MPLBACKEND", "Agg")
