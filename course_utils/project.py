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
# Setup: the same cell opens every notebook (tools/sync_notebooks.py writes it).
# On Colab it clones the course and installs it, keeping Colab's torch/torchaudio as they
# are; anywhere else it installs nothing (run `make lab` in the repository instead).
import importlib.metadata, os, subprocess, sys
COURSE_REPOSITORY = "{REPOSITORY}"
if "google.colab" in sys.modules:
    if not os.path.isdir("/content/course"):
        before = {{d.metadata["Name"]: d.version for d in importlib.metadata.distributions()}}
        subprocess.run(["git", "clone", "--depth", "1", COURSE_REPOSITORY, "/content/course"], check=True)
        with open("/content/keep-torch.txt", "w") as keep:  # a constraint: torch stays as it is
            keep.writelines(f"{{p}}=={{importlib.metadata.version(p)}}\\n" for p in ("torch", "torchaudio"))
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "-c", "/content/keep-torch.txt",
                        "-e", "/content/course"], check=True)
        after = {{d.metadata["Name"]: d.version for d in importlib.metadata.distributions()}}
        print("Installed:", ", ".join(f"{{n}}=={{v}}" for n, v in sorted(after.items()) if before.get(n) != v))
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
