"""A network namespace for the VM network tests (test_vm_net*.py,
test_vm_network.py): named vessel-<role>-<random>, deleted (with every link
in it) by close(), which the fixtures register as a finalizer so it runs
even when the test fails; processes spawned in it are killed first."""
import re
import secrets
import subprocess
import sys


class Netns:
    def __init__(self, role="tn"):
        self.tag = secrets.token_hex(4)
        self.name = f"vessel-{role}-{self.tag}"
        subprocess.run(["ip", "netns", "add", self.name], check=True)
        self.procs = []

    def ip(self, *args):
        subprocess.run(["ip", "-n", self.name, *args], check=True, capture_output=True)

    def links(self):
        p = subprocess.run(["ip", "-n", self.name, "-o", "link", "show"], check=True,
                           capture_output=True, text=True)
        return set(re.findall(r"^\d+: ([^:@]+)", p.stdout, re.M))

    def exec(self, *args):
        return ["ip", "netns", "exec", self.name, *[str(a) for a in args]]

    def spawn_python(self, script, *args):
        p = subprocess.Popen(self.exec(sys.executable, "-c", script, *args),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.procs.append(p)
        return p

    def close(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
            p.wait()
        subprocess.run(["ip", "netns", "del", self.name], capture_output=True)
