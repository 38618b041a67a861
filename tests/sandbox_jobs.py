"""Jobs that tests/test_sandbox.py runs inside a sandbox (imported by the fork server)."""

import os


def report_view(channel) -> None:
    """Send what the job can see and do of its filesystem."""
    request = channel.receive()
    facts = {"root": sorted(os.listdir("/")), "dev": sorted(os.listdir("/dev")), "uid": os.getuid(),
             "cwd": os.getcwd(), "exists": {p: os.path.exists(p) for p in request["paths"]}}
    written = {}
    for place in ("/tmp/fill.bin", "/submission/fill.bin"):
        size = 0
        try:
            with open(place, "wb") as f:
                for _ in range(request["mb"] * 2):
                    f.write(b"x" * (1 << 20))
                    size += 1
        except OSError as exc:
            written[place] = [size, exc.strerror]
        else:
            written[place] = [size, None]
    facts["written"] = written
    for place in ("/usr/owned", "/etc/owned", "/owned", "/proc/owned", "/dev/owned", *request["writes"]):
        try:
            open(place, "w").close()
            facts.setdefault("writable", []).append(place)
        except OSError:
            pass
    channel.send(facts)
