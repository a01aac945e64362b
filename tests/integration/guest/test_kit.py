"""The default guest kit (guest/README.md), as `make guest` leaves it.

This host's KVM cannot boot Debian's kernel at speed (HOST-FACTS.md), so
vessel cannot boot the kit here yet. What is checked instead:
- the files: vmlinuz is a 64-bit bzImage; the initramfs holds /init, busybox,
  every module the kit promises and each one's transitive depends=, in a load
  order that puts dependencies first;
- the init's command-line decoder, run on the host against an independent
  (Python) encoder of the ABI;
- test_qemu_reference_boot_*: the kit booted under QEMU TCG, the reference
  for what `vessel vm run -- CMD` must do with it (output, exit status).
"""
import base64
import gzip
import json
import os
import pathlib
import re
import shutil
import struct
import subprocess
import time

import pytest

from vesseltest import BUILD, GUEST_DIR, REPO, run, skip

VMLINUZ = GUEST_DIR / "vmlinuz"
INITRAMFS = GUEST_DIR / "initramfs.cpio.gz"
INIT = BUILD / "guest/init/vessel-init"
MODULES = """virtio virtio_ring virtio_pci virtio_pci_modern_dev virtio_pci_legacy_dev
virtio_blk virtio_net net_failover failover virtio_console virtio_rng virtio_balloon
vsock vmw_vsock_virtio_transport vmw_vsock_virtio_transport_common
ext4 jbd2 mbcache crc16 crc32c_generic overlay 9p 9pnet 9pnet_virtio fuse""".split()
EXIT_PORT = 0x501
QEMU = "qemu-system-x86_64"


@pytest.fixture(scope="module")
def kit():
    """The kit directory; built by mkkit.sh when `make guest` did not run."""
    if not (VMLINUZ.exists() and INITRAMFS.exists()):
        r = run([REPO / "guest/mkkit.sh", GUEST_DIR], timeout=600)
        if r.returncode != 0:
            if "mirror" in r.stderr:
                skip(f"no guest kit and Debian's mirror is unreachable: {r.stderr.strip()}")
            pytest.fail(f"mkkit.sh failed: {r.stderr}")
    return GUEST_DIR


@pytest.fixture(scope="module")
def tree(kit, tmp_path_factory):
    """The initramfs unpacked: (member list, directory)."""
    d = tmp_path_factory.mktemp("initramfs")
    data = gzip.decompress(INITRAMFS.read_bytes())
    names = subprocess.run(["cpio", "-t", "--quiet"], input=data, capture_output=True,
                           check=True).stdout.decode().split("\n")
    subprocess.run(["cpio", "-i", "-d", "--quiet", "--no-absolute-filenames"], input=data,
                   cwd=d, capture_output=True, check=True)
    return [n for n in names if n], d


def modinfo(path):
    """The .modinfo section of an ELF64 .ko as a dict of lists."""
    elf = path.read_bytes()
    shoff, = struct.unpack_from("<Q", elf, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", elf, 0x3A)
    sections = [struct.unpack_from("<IIQQQQ", elf, shoff + i * shentsize) for i in range(shnum)]
    strtab = sections[shstrndx]
    info = {}
    for name, _type, _flags, _addr, off, size in sections:
        end = elf.index(b"\0", strtab[4] + name)
        if elf[strtab[4] + name:end] != b".modinfo":
            continue
        for field in elf[off:off + size].split(b"\0"):
            if b"=" in field:
                k, v = field.decode().split("=", 1)
                info.setdefault(k, []).append(v)
    return info


def encode(key, items):
    """The ABI, independently of the C encoder: base64url, no padding."""
    raw = b"".join(s.encode() + b"\0" for s in items)
    return f"{key}=" + base64.urlsafe_b64encode(raw).decode().rstrip("=")


def test_kit_files(kit):
    for f in (VMLINUZ, INITRAMFS, kit / "kit.txt"):
        assert f.stat().st_size > 0, f
    info = dict(l.split("=", 1) for l in (kit / "kit.txt").read_text().splitlines())
    assert info["kernel_package"].startswith("linux-image-")


def test_mkkit_is_idempotent_and_fast(kit):
    # the first run refreshes a kit older than the built init; the second is a no-op
    r = run([REPO / "guest/mkkit.sh", kit, INIT], timeout=600)
    assert r.returncode == 0, r.stderr
    t = time.monotonic()
    r = run([REPO / "guest/mkkit.sh", kit, INIT], timeout=120)
    elapsed = time.monotonic() - t
    assert r.returncode == 0, r.stderr
    assert "up to date" in r.stderr, r.stderr
    assert elapsed < 5, f"an up-to-date kit took {elapsed:.1f} s"


def test_vmlinuz_is_64bit_bzimage(kit):
    hdr = VMLINUZ.read_bytes()[:0x300]
    assert hdr[0x1FE:0x200] == b"\x55\xaa"
    assert hdr[0x202:0x206] == b"HdrS"
    version, = struct.unpack_from("<H", hdr, 0x206)
    assert version >= 0x020C, hex(version)
    xloadflags, = struct.unpack_from("<H", hdr, 0x236)
    assert xloadflags & 1, "XLF_KERNEL_64 is not set"
    loadflags = hdr[0x211]
    assert loadflags & 1, "LOADED_HIGH is not set: not a bzImage"


def test_initramfs_has_init_and_busybox(tree):
    names, d = tree
    for n in ("init", "bin/busybox", "bin/sh", "dev", "proc", "sys", "tmp", "etc/passwd"):
        assert n in names, n
    init = (d / "init").read_bytes()
    assert init[:4] == b"\x7fELF"
    assert init == INIT.read_bytes(), "the kit's /init is not the built vessel-init"
    # static: no program header of type PT_INTERP
    phoff, = struct.unpack_from("<Q", init, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", init, 0x36)
    types = [struct.unpack_from("<I", init, phoff + i * phentsize)[0] for i in range(phnum)]
    assert 3 not in types, "vessel-init is dynamically linked"
    assert os.readlink(d / "bin/sh") == "/bin/busybox"


def test_initramfs_has_mkfs_ext4_and_its_libraries(tree):
    """e2fsprogs' mke2fs (mkfs.ext4/3/2 link to it, not to busybox), every
    shared library it needs (transitively) and the ELF interpreter."""
    names, d = tree
    for n in ("mkfs.ext4", "mkfs.ext3", "mkfs.ext2"):
        assert os.readlink(d / "sbin" / n) == "mke2fs", n
    assert "etc/mke2fs.conf" in names
    todo, seen = [d / "sbin/mke2fs"], set()
    while todo:
        elf = todo.pop()
        dyn = subprocess.run(["readelf", "-d", "-l", str(elf)], capture_output=True, text=True,
                             check=True).stdout
        for lib in re.findall(r"\(NEEDED\).*\[(.*)\]", dyn):
            if lib not in seen:
                seen.add(lib)
                path = d / "lib/x86_64-linux-gnu" / lib
                assert path.is_file(), lib
                todo.append(path)
    assert {"libext2fs.so.2", "libc.so.6"} <= seen, seen
    interp = re.search(r"program interpreter: (\S+)\]", subprocess.run(
        ["readelf", "-l", str(d / "sbin/mke2fs")], capture_output=True, text=True).stdout)
    assert interp and interp.group(1) == "/lib64/ld-linux-x86-64.so.2", interp
    target = os.readlink(d / "lib64/ld-linux-x86-64.so.2")
    assert (d / target.lstrip("/")).is_file(), target


def test_initramfs_modules_and_depends(tree):
    names, d = tree
    (moddir,) = (d / "lib/modules").iterdir()
    order = (moddir / "vessel-modules.load").read_text().split()
    by_name = {pathlib.Path(rel).stem.replace("-", "_"): rel for rel in order}
    for rel in order:
        assert str((moddir / rel).relative_to(d)) in names, rel
    for m in MODULES:
        assert m in by_name, f"module {m} is missing"
    # every depends= of every loaded module is there, and loaded before it
    for pos, rel in enumerate(order):
        for dep in filter(None, ",".join(modinfo(moddir / rel).get("depends", [""])).split(",")):
            dep = dep.replace("-", "_")
            assert dep in by_name, f"{rel} depends on {dep}, which is missing"
            assert order.index(by_name[dep]) < pos, f"{dep} is loaded after {rel}"


ARGV_CASES = [
    ["true"],
    ["sh", "-c", "echo 'a b'  \"c\\\"d\" $HOME; exit 3"],
    ["printf", "%s\\n", "h\u00e9llo w\u00f6rld \u2713 \U0001f6a2"],
    ["prog", "", "x", "", ""],
    [""],
    ["a\tb\nc", "=", "key=value"],
]


@pytest.mark.parametrize("argv", ARGV_CASES)
def test_init_decodes_cmdline(argv):
    if not INIT.exists():
        pytest.fail(f"{INIT} is not built")
    line = " ".join(["console=ttyS0", encode("vessel.cmd", ["stale"]), "quiet",
                     encode("vessel.cmd", argv), encode("vessel.cwd", ["/tmp/a dir"]),
                     encode("vessel.env", ["A=1", "B=x y"]), "panic=-1"])
    r = run([INIT, "--decode-cmdline", line])
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout)
    assert got == {"argv": argv, "cwd": ["/tmp/a dir"], "env": ["A=1", "B=x y"], "tty": True,
                   "stdin": "tty", "ip": None}


def test_init_decode_without_cmd_and_bad_input():
    r = run([INIT, "--decode-cmdline", "console=ttyS0 quiet"])
    assert r.returncode == 0 and json.loads(r.stdout) == {"argv": None, "cwd": None,
                                                          "env": None, "tty": True,
                                                          "stdin": "tty", "ip": None}
    r = run([INIT, "--decode-cmdline", "vessel.tty=0"])
    assert r.returncode == 0 and json.loads(r.stdout)["tty"] is False
    for value in ("pipe", "tty"):
        r = run([INIT, "--decode-cmdline", "vessel.stdin=" + value])
        assert r.returncode == 0 and json.loads(r.stdout)["stdin"] == value, r.stdout
    r = run([INIT, "--decode-cmdline", "vessel.ip=eth0,10.0.2.15/24,10.0.2.2,10.0.2.3 quiet"])
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["ip"] == {"ifname": "eth0", "addr": "10.0.2.15/24",
                                          "gateway": "10.0.2.2", "dns": "10.0.2.3"}
    for bad in ("vessel.cmd=ZW+o", "vessel.cmd=ZWNobw", "vessel.cmd=",
                encode("vessel.cmd", ["x"]) + " " + encode("vessel.cwd", ["/a", "/b"]),
                "vessel.ip=eth0,10.0.2.15", "vessel.ip=eth0,10.0.2.15/33", "vessel.tty=2",
                "vessel.stdin=file", "vessel.stdin=pipes"):
        r = run([INIT, "--decode-cmdline", bad])
        assert r.returncode == 125, (bad, r.stdout)
        assert r.stderr.startswith("vessel-init: "), r.stderr


# ---- the QEMU reference boot of the kit (TCG: no usable KVM here) ----

def qemu_boot(append, stdin_script=None, timeout=90, devices=()):
    """Boots the kit under QEMU TCG; returns (guest status, console text, seconds).
    QEMU's isa-debug-exit exits with (status << 1) | 1, truncated to 8 bits."""
    if not shutil.which(QEMU):
        skip(f"{QEMU} is not installed")
    cmd = [QEMU, "-accel", "tcg", "-M", "q35", "-nographic", "-no-reboot", "-nodefaults",
           "-serial", "stdio", "-m", "512", "-kernel", VMLINUZ, "-initrd", INITRAMFS,
           "-append", f"console=ttyS0 quiet panic=-1 {append}",
           "-device", f"isa-debug-exit,iobase={EXIT_PORT:#x},iosize=1", *devices]
    t = time.monotonic()
    p = subprocess.Popen([str(c) for c in cmd], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT)
    out = b""
    try:
        if stdin_script is not None:
            # input typed before the shell opens the tty is lost: wait for the prompt
            while b"# " not in out:
                chunk = p.stdout.read1(4096)
                if not chunk:
                    break
                out += chunk
            p.stdin.write(stdin_script.encode())
            p.stdin.flush()
        out += p.communicate(timeout=timeout)[0]
    except subprocess.TimeoutExpired:
        p.kill()
        pytest.fail(f"the QEMU boot timed out; console:\n{out.decode(errors='replace')}")
    return p.returncode, out.decode(errors="replace"), time.monotonic() - t


def qemu_status(status):
    return ((status << 1) | 1) & 0xFF


def test_qemu_reference_boot_runs_command(kit):
    script = 'printf "[%s]" "$@"; echo; echo "cwd=$PWD A=$A"; ls /dev/vda 2>/dev/null; ' \
             'grep -c . /proc/modules; hostname; printf "no newline at end"; exit 7'
    args = ["sh", "-c", script, "sh", "a b", "h\u00e9llo \u2713", ""]
    # vessel.tty=0: byte-exact output, no "\r" added to "\n"
    status, out, secs = qemu_boot(" ".join(["vessel.tty=0", encode("vessel.cmd", args),
                                            encode("vessel.cwd", ["/tmp"]),
                                            encode("vessel.env", ["A=x y"])]))
    print(f"QEMU TCG reference boot: {secs:.1f} s")
    assert "[a b][h\u00e9llo \u2713][]\ncwd=/tmp A=x y\n" in out, out
    assert "vessel" in out.splitlines(), out
    n_modules = len((kit / "kit.txt").read_text().split("modules=")[1].split())
    assert f"\n{n_modules}\r" in out or f"\n{n_modules}\n" in out, out  # all modules loaded
    assert "no newline at end" in out, out  # the console was drained before the exit
    assert "vessel-init:" not in out, out  # no error from the init
    assert status == qemu_status(7), out


def test_qemu_reference_boot_statuses(kit):
    status, out, _ = qemu_boot(encode("vessel.cmd", ["sh", "-c", "kill -TERM $$"]))
    assert status == qemu_status(128 + 15), out
    status, out, _ = qemu_boot(encode("vessel.cmd", ["no-such-command"]))
    assert status == qemu_status(127), out
    assert "vessel-init: no-such-command: No such file or directory" in out, out


def test_qemu_reference_boot_interactive_shell(kit):
    status, out, _ = qemu_boot("", stdin_script="echo interactive-$((6*7)); tty; exit 3\n")
    assert "interactive-42\r\n" in out, out  # a terminal by default: "\n" leaves as "\r\n"
    assert "/dev/ttyS0" in out, out  # the shell's controlling tty is the real console
    assert status == qemu_status(3), out


def test_qemu_reference_boot_devices(kit, tmp_path):
    """virtio-blk + ext4, overlay, virtio-net configured by vessel.ip, /dev/vsock
    (vsock.ko loaded; no vhost-vsock on this host to attach a device)."""
    disk = tmp_path / "disk.img"
    with open(disk, "wb") as f:
        f.truncate(16 << 20)
    script = ("set -e; mke2fs -q /dev/vda; mount -t ext4 /dev/vda /mnt; echo disk-ok >/mnt/f; "
              "cat /mnt/f; mkdir /tmp/l /tmp/u /tmp/w /tmp/o; echo low >/tmp/l/x; "
              "mount -t overlay o -o lowerdir=/tmp/l,upperdir=/tmp/u,workdir=/tmp/w /tmp/o; "
              "echo up >>/tmp/o/x; echo overlay-$(cat /tmp/o/x | tr '\\n' -)$(cat /tmp/l/x); "
              "ip route | grep -q 'default via 10.0.2.2 dev eth0'; ping -c1 -W5 10.0.2.2 >/dev/null; "
              "echo net-ok; cat /etc/resolv.conf; test -c /dev/vsock; echo vsock-ok; "
              "umount /mnt; umount /tmp/o")
    status, out, _ = qemu_boot(
        "vessel.ip=eth0,10.0.2.15/24,10.0.2.2,10.0.2.3 " + encode("vessel.cmd", ["sh", "-c", script]),
        devices=["-drive", f"file={disk},format=raw,if=virtio",
                 "-netdev", "user,id=n0", "-device", "virtio-net-pci,netdev=n0"])
    for want in ("disk-ok", "overlay-low-up-low", "net-ok", "nameserver 10.0.2.3", "vsock-ok"):
        assert want in out, out
    assert status == qemu_status(0), out
