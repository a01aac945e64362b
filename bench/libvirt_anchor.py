"""The libvirt anchor of bench/vm-ctl.py: a private libvirtd (Debian's
libvirt-daemon 9.0 with its QEMU driver, installed with
`apt-get install --no-install-recommends libvirt-daemon
libvirt-daemon-driver-qemu libvirt-clients`: no libvirt-daemon-system, so
no system service and no default NAT network) in a private mount namespace
where libvirt's system paths are tmpfs or a temporary directory, /etc/passwd
has the libvirt-qemu user the QEMU driver insists on, and qemu.conf turns
off cgroups (this host's hybrid layout holds its supervisor), namespaces,
security drivers and virtlogd. Nothing of it lands on the host; the daemon
is killed by pid. Domains: the same test guest under QEMU 7.2 -M microvm
(q35 boots the test guest through SeaBIOS under this KVM's emulator in ~1 s,
bench/boot.py), 64 MiB, the serial port to a file."""
import os
import shutil
import subprocess
import tempfile
import time

QEMU_CONF = """cgroup_controllers = [ ]
namespaces = [ ]
security_driver = "none"
user = "root"
group = "root"
dynamic_ownership = 0
remember_owner = 0
stdio_handler = "file"
"""
LIBVIRTD_CONF = """unix_sock_rw_perms = "0700"
auth_unix_rw = "none"
auth_unix_ro = "none"
"""
START = """#!/bin/sh
set -e
L={L}
mount --make-rprivate /
mount --bind $L/etc /etc/libvirt
mount --bind $L/passwd /etc/passwd
mount --bind $L/group /etc/group
for d in /var/lib /var/cache /var/log /run; do mount -t tmpfs vessel-bench $d; mkdir $d/libvirt; done
mount --bind $L/run /run/libvirt
exec libvirtd -f /etc/libvirt/libvirtd.conf
"""
DOMAIN = """<domain type='kvm'>
  <name>{name}</name>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='microvm'>hvm</type>
    <kernel>{elf}</kernel>
    <cmdline>{append}</cmdline>
  </os>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <serial type='file'><source path='{serial}'/><target port='0'/></serial>
    <controller type='usb' model='none'/>
    <memballoon model='none'/>
  </devices>
</domain>
"""


def why_not():
    """None if the anchor can run here, else why not."""
    if os.geteuid() != 0:
        return "needs root (a private mount namespace for libvirtd)"
    for exe in ("libvirtd", "virsh", "unshare", "qemu-system-x86_64"):
        if not shutil.which(exe):
            return (f"{exe} is not installed (apt-get install --no-install-recommends "
                    "libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients)")
    return None


class Libvirt:
    def __init__(self, elf, append):
        self.dir = tempfile.mkdtemp(prefix="vessel-bench-libvirt-")
        self.elf, self.append = elf, append
        for d in ("etc", "run"):
            os.mkdir(os.path.join(self.dir, d))
        self._write("etc/libvirtd.conf", LIBVIRTD_CONF)
        self._write("etc/qemu.conf", QEMU_CONF)
        with open("/etc/passwd") as f:
            self._write("passwd", f.read() + "libvirt-qemu:x:64055:64055::/nonexistent:/usr/sbin/nologin\n")
        with open("/etc/group") as f:
            self._write("group", f.read() + "libvirt-qemu:x:64055:\n")
        self._write("start.sh", START.format(L=self.dir))
        os.chmod(os.path.join(self.dir, "start.sh"), 0o755)
        self.log = open(os.path.join(self.dir, "libvirtd.log"), "w")
        self.proc = subprocess.Popen(["unshare", "-m", os.path.join(self.dir, "start.sh")],
                                     stdout=self.log, stderr=self.log)
        self.uri = f"qemu+unix:///system?socket={self.dir}/run/libvirt-sock"
        end = time.time() + 20
        while self.virsh("version", check=False).returncode != 0:
            if time.time() > end or self.proc.poll() is not None:
                self.close()
                raise RuntimeError("libvirtd did not come up")
            time.sleep(0.1)

    def _write(self, rel, text):
        with open(os.path.join(self.dir, rel), "w") as f:
            f.write(text)

    def virsh(self, *args, check=True):
        r = subprocess.run(["virsh", "-c", self.uri, *args], capture_output=True, text=True)
        if check and r.returncode != 0:
            raise RuntimeError(f"virsh {args}: {r.stderr}")
        return r

    def serial(self, name):
        return os.path.join(self.dir, f"{name}.serial")

    def define(self, name):
        xml = os.path.join(self.dir, f"{name}.xml")
        self._write(f"{name}.xml", DOMAIN.format(name=name, elf=self.elf, append=self.append,
                                                 serial=self.serial(name)))
        self.virsh("define", xml)

    def start_first_byte(self, name):
        """`virsh start` to the guest's first byte in its serial file."""
        path = self.serial(name)
        if os.path.exists(path):
            os.unlink(path)
        t0 = time.perf_counter()
        p = subprocess.Popen(["virsh", "-c", self.uri, "start", name],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        while True:
            try:
                if os.stat(path).st_size > 0:
                    break
            except FileNotFoundError:
                pass
            if p.poll() not in (None, 0):
                raise RuntimeError(f"virsh start {name}: {p.stderr.read().decode()}")
            if time.perf_counter() - t0 > 10:
                raise RuntimeError("no serial output from the libvirt domain")
            time.sleep(0.0002)
        t = time.perf_counter() - t0
        p.wait()
        return t

    def destroy(self, name):
        t0 = time.perf_counter()
        self.virsh("destroy", name)
        return time.perf_counter() - t0

    def qemu_pid(self, name):
        with open(os.path.join(self.dir, "run", "qemu", f"{name}.pid")) as f:
            return int(f.read())

    def close(self):
        if self.proc.poll() is None:
            for name in self.virsh("list", "--name", check=False).stdout.split():
                self.virsh("destroy", name, check=False)
            self.proc.kill()  # libvirtd itself (exec'd in place); its QEMUs are destroyed first
        self.proc.wait()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)
