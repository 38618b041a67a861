"""course_utils.execution: notebooks run headless without nbclient writing to the kernel's shell
socket behind the cell's back (the cause of the 600 s waits after notebook 01's slider cell)."""

import nbformat
from nbclient import NotebookClient, output_widget
from nbclient.exceptions import CellTimeoutError

from course_utils.execution import notebook_client

CELLS = [
    "import numpy as np, matplotlib.pyplot as plt\nfrom ipywidgets import interact",
    "def show(n=256):\n    fig, ax = plt.subplots()\n    ax.plot(np.arange(n) % 7)\n    plt.show()\n    print('n is', n)\n"
    "interact(show, n=[128, 256, 512]);",
]


def slider_notebook():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in CELLS]
    return nb


def shell_sends_while_running(client, monkeypatch) -> list[str]:
    """The messages nbclient's Output-widget stand-in sends to the kernel during ``client.execute()``."""
    sent = []
    publish = output_widget.OutputWidget._publish_msg

    def spy(self, msg_type, **kwargs):
        sent.append(msg_type)
        return publish(self, msg_type, **kwargs)

    monkeypatch.setattr(output_widget.OutputWidget, "_publish_msg", spy)
    try:
        client.execute()
    except CellTimeoutError:
        sent.append("the cell timed out")  # the stall itself: the reply sat there until the timeout
    return sent


def test_plain_nbclient_writes_to_the_shell_socket_for_an_output_widget(tmp_path, monkeypatch):
    """What the helper avoids, shown: the slider's Output widget makes nbclient send ``comm_msg``s
    while it waits for the cell's reply. In one clean run of the suite this very test then waited
    its whole 60 s cell timeout (the reply was there: the poll's last look found it), so the
    timeout here is short and such a stall is allowed: the sends are what is checked."""
    nb = slider_notebook()
    client = NotebookClient(nb, timeout=10, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}})
    sent = shell_sends_while_running(client, monkeypatch)
    assert "comm_msg" in sent
    if "the cell timed out" not in sent:
        assert [o["output_type"] for o in nb.cells[1].outputs] == ["display_data"]  # the widget view only


def test_the_course_client_sends_nothing_and_keeps_what_the_widget_shows(tmp_path, monkeypatch):
    monkeypatch.delenv("MPLBACKEND", raising=False)  # Agg would draw no figure
    nb = slider_notebook()
    assert shell_sends_while_running(notebook_client(nb, cwd=tmp_path, timeout=60), monkeypatch) == []
    outputs = nb.cells[1].outputs
    assert any("image/png" in o.get("data", {}) for o in outputs)  # the slider's first figure, now the cell's
    assert any(o.get("text") == "n is 256\n" for o in outputs)
    assert any("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in outputs)
