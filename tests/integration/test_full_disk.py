"""A full disk: every acknowledged alert survives kill -9, the rest were told to retry.

Issue 21, item 3: with --storage.path on a full 2 MB tmpfs, 600 POSTs of 10 alerts all got 200,
/-/ready stayed 200, and after kill -9 and freeing the space only 680 of the 6,000
acknowledged alerts were back. The disk here is a real tmpfs of 2 MiB (mounting needs root,
which CI has).
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.servers import free_port, run_server

pytestmark = pytest.mark.integration

QUIET = "route: {receiver: blackhole, group_wait: 1h}\nreceivers: [{name: blackhole}]\n"


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 2 MiB tmpfs, unmounted afterwards."""
    where = tmp_path / "disk"
    where.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(where)], capture_output=True
    )
    if mounted.returncode != 0:
        # skipped on a developer's machine without root; under CI the skip fails (tests/support/prereq.py)
        pytest.skip(f"mounting a tmpfs failed (root needed): {mounted.stderr.decode().strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def test_a_full_disk_acknowledges_only_what_it_keeps(tmp_path: Path, small_disk: Path) -> None:
    port = free_port()
    acked: list[str] = []
    refused = 0
    ready_refused = False
    with run_server("ampp", QUIET, tmp_path / "a", storage_path=small_disk, port=port) as s:
        with httpx.Client(base_url=s.url, timeout=30) as c:
            for b in range(600):
                names = [f"Full{b}-{i}-{'x' * 40}" for i in range(10)]
                r = c.post(
                    "/api/v2/alerts", json=[{"labels": {"alertname": n, "batch": str(b)}} for n in names]
                )
                if r.status_code == 200:
                    acked.extend(names)
                else:
                    assert r.status_code == 503, r.text
                    assert r.headers["Retry-After"]
                    refused += 1
                    ready_refused = ready_refused or c.get("/-/ready").status_code == 503
        os.kill(s.process.pid, signal.SIGKILL)
        s.process.wait()
    assert acked, "nothing was acknowledged: the disk was full from the start"
    subprocess.run(["mount", "-o", "remount,size=256m", str(small_disk)], check=True)
    with run_server("ampp", QUIET, tmp_path / "b", storage_path=small_disk, port=port) as s:
        held = {a["labels"]["alertname"] for a in httpx.get(f"{s.url}/api/v2/alerts", timeout=30).json()}
    missing = set(acked) - held
    assert not missing, f"{len(missing)} of {len(acked)} acknowledged alerts lost, e.g. {sorted(missing)[:3]}"
    assert refused, "the disk never filled: the test proves nothing"
    assert ready_refused, "/-/ready kept answering 200 while writes failed"
