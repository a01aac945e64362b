"""Fixtures for the OCI runtime tests: a busybox bundle, and runtimes
(vessel-runc always, runc when installed) each with its own state root.

Everything a test creates is removed at teardown, even on failure: the
containers (delete --force), the cgroups under /vessel-test/<test id> in
every hierarchy, and the temporary bundle and state directories."""
import os
import uuid

import pytest

from ocitest import Bundle, Runtime, remove_cgroup_tree, skip


# Clients write outside the directories the tests give them: podman its
# runtime dir, image cache and the OCI runtime's default root, containerd's
# ctr and shim /run/containerd/{fifo,s}, crun /run/crun. Some of that is
# written asynchronously (conmon, the shim) after a test's own teardown, so
# what this session created is removed once, at its end.
HOST_DIRS = ["/run/libpod", "/var/lib/containers", "/run/containerd", "/run/crun",
             "/run/vessel-runc"]


@pytest.fixture(scope="session", autouse=True)
def host_dirs_made_by_clients():
    import pathlib
    import shutil
    import time
    before = {d for d in HOST_DIRS if os.path.exists(d)}
    yield
    made = [d for d in HOST_DIRS if d not in before and os.path.exists(d)]
    if made:
        time.sleep(0.5)  # let conmon and shims finish writing
    for d in made:
        if d == "/run/vessel-runc":  # the runtime's default root: only if empty
            try:
                os.rmdir(d)
            except OSError:
                pass
        else:
            shutil.rmtree(pathlib.Path(d), ignore_errors=True)


@pytest.fixture
def root():
    if os.geteuid() != 0:
        skip("needs root")


@pytest.fixture
def test_cgroup(root):
    """A unique absolute cgroupsPath under /vessel-test; removed at teardown."""
    name = f"/vessel-test/{uuid.uuid4().hex[:12]}"
    yield name
    remove_cgroup_tree(name)


@pytest.fixture
def bundle_factory(tmp_path, test_cgroup):
    made = []

    def make(name="b", cgroup_suffix=""):
        b = Bundle(tmp_path / f"bundle-{name}-{len(made)}", test_cgroup + cgroup_suffix)
        made.append(b)
        return b
    return make


@pytest.fixture
def bundle(bundle_factory):
    return bundle_factory()


@pytest.fixture
def vessel_rt(tmp_path, root, test_cgroup):
    rt = Runtime("vessel", tmp_path)
    yield rt
    rt.cleanup()


@pytest.fixture(params=["vessel", "runc"])
def rt(request, tmp_path, root, test_cgroup):
    """Parametrised over vessel and runc (skipped when runc is absent)."""
    r = Runtime(request.param, tmp_path)
    yield r
    r.cleanup()


