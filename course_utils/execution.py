"""Running a notebook headless: the one ``nbclient`` configuration that ``make course``
(tools/run_course.py), the slides, the homework builder and the tests use.

Why not ``NotebookClient`` as it comes: to capture what an ipywidgets ``Output`` widget shows
(``interact`` uses one), nbclient plays the front end's part and sends the widget's new state
to the kernel on the shell socket while it is waiting on that socket for the cell's reply.
Now and then that send takes the socket's wake-up and the wait only ends at the cell timeout,
with the reply long there: notebook 01's slider cell waited 600 s that way, in runs whose kernel
had been idle for minutes (seen under ipykernel 7.4 and 6.31; jupyter/nbclient#312 reports the
same hang). With no widget models registered, nbclient sends nothing, and what the widget
shows (the slider's first figure) is kept as the cell's own output instead.
"""

from __future__ import annotations

from pathlib import Path


def notebook_client(nb, *, cwd: str | Path, timeout: int = 600, **options):
    """A ``nbclient.NotebookClient`` for ``nb`` (a ``NotebookNode``), run from the folder ``cwd``
    with the ``python3`` kernel; call ``.execute()`` on it.

    ``timeout`` is the seconds allowed per cell; ``options`` go to ``NotebookClient`` as they are
    (``allow_errors=True``, ...).
    """
    from nbclient import NotebookClient

    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(cwd)}},
                            **options)
    client.widget_registry = {}  # an attribute set in __init__, not a trait: no Output widget emulation
    return client
