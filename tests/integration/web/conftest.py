"""Fixtures of the dashboard's browser tests: node, Debian's chromium and
web/node_modules (skip only when really absent), and one `vessel serve` on
loopback TCP with a token, on its own temporary --root holding a busybox
image, for the module; at the end its VMMs and containers are killed."""
import os
import pathlib
import secrets
import shutil
import sys

import pytest

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "api"))
sys.path.insert(0, str(HERE.parent / "run"))
sys.path.insert(0, str(HERE.parent))
from apitest import Server, kill_vmms  # noqa: E402
from runtest import BUSYBOX, Root  # noqa: E402
from vesseltest import BUILD, REPO, VESSEL, skip  # noqa: E402

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="module")
def browser_env():
    node = shutil.which("node")
    if not node:
        skip("node is not installed (scripts/deps.sh installs nodejs)")
    if not os.access(CHROMIUM, os.X_OK):
        skip(f"{CHROMIUM} is absent (scripts/deps.sh installs chromium)")
    if not (REPO / "web/node_modules/playwright-core").is_dir():
        pytest.fail("web/node_modules has no playwright-core: run scripts/deps.sh (npm ci in web/)")
    shots = BUILD / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    return {"node": node, "shots": shots}


@pytest.fixture(scope="module")
def web_server(tmp_path_factory):
    if not VESSEL.exists():
        pytest.fail(f"{VESSEL} is not built (run make build)")
    base = tmp_path_factory.mktemp("web")
    rt = Root(base)  # its state dir is the server's --root
    s = Server(rt.state, tcp=True, token=secrets.token_hex(16))
    try:
        s.start()
        # an image for the images list and the container dialog (a busybox
        # rootfs made here; nothing is downloaded)
        s.image = rt.image("bb:1") if BUSYBOX.exists() else None
        yield s
    finally:
        s.kill()
        kill_vmms(rt.state)
        rt.cleanup()
