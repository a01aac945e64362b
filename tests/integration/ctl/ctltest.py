"""Helpers of the control-plane tests (a module of its own, not conftest,
so that imports are unambiguous next to the other directories' conftest.py)."""
import json
import pathlib
import subprocess
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
from vesseltest import BUILD, VESSEL  # noqa: E402

FAULT = BUILD / "vessel-fault"


class Ctl:
    """Runs `vessel --root <own root> ...` and remembers the root."""

    def __init__(self, root):
        self.root = root

    def __call__(self, *args, timeout=60, binary=None, env=None, **kw):
        cmd = [str(binary or VESSEL), "--root", str(self.root)] + [str(a) for a in args]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                              env=env, **kw)

    def ok(self, *args, **kw):
        r = self(*args, **kw)
        assert r.returncode == 0, f"{args}: rc={r.returncode} {r.stdout} {r.stderr}"
        return r

    def ls(self):
        return {v["name"]: v for v in json.loads(self.ok("vm", "ls", "--format", "json").stdout)}

    def vmm_pids(self):
        pids = []
        for v in self.ls().values():
            if v.get("pid"):
                pids.append(v["pid"])
        return pids
