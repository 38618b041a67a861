"""Test-wide settings: fast mode.

nbval starts each notebook's kernel with this process's environment (jupyter_client passes
``os.environ`` to the kernel it launches), so the notebooks inherit it. MPLBACKEND is removed: set to Agg it would
replace the kernels' inline backend and the notebooks would show no figures.
"""

import os

os.environ.setdefault("COURSE_FAST", "1")
os.environ.pop("MPLBACKEND", None)
