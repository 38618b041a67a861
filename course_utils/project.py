"""Where the course lives, and the setup cell that every notebook starts with.

The repository URL is kept here and nowhere else: the notebooks' setup cells and the
README's Colab badges are written from it by ``tools/sync_notebooks.py``, and
``tests/test_repository.py`` fails when they drift apart. A fork changes this one line
and runs ``make sync``.
"""

from __future__ import annotations

REPOSITORY = "https://github.com/music-separation-course/source-separation-course"
BRANCH = "main"

SETUP_CELL = f'''\
# Setup: the same first cell in every notebook. On Colab it fetches the course and installs it
# once (tools/colab_setup.py keeps Colab's torch); elsewhere there is nothing to install.
import os, subprocess, sys
if "google.colab" in sys.modules:
    if not os.path.isdir("/content/course"):
        subprocess.run(["git", "clone", "--depth", "1", "{REPOSITORY}", "/content/course"], check=True)
    subprocess.run([sys.executable, "/content/course/tools/colab_setup.py"], check=True)
    sys.path.insert(0, "/content/course")
from course_utils import repro
DEVICE, FAST = repro.setup(seed=0)'''


def colab_url(notebook: str) -> str:
    """The URL that opens ``notebook`` (a path inside the repository) in Google Colab.

    Used by the README's badges (see ``tools/sync_notebooks.py``).
    """
    github = REPOSITORY.removeprefix("https://github.com/")
    return f"https://colab.research.google.com/github/{github}/blob/{BRANCH}/{notebook}"


def colab_badge(notebook: str) -> str:
    """A Markdown "Open in Colab" badge for ``notebook`` (a path inside the repository)."""
    image = "https://colab.research.google.com/assets/colab-badge.svg"
    return f"[![Open in Colab]({image})]({colab_url(notebook)})"
