#!/usr/bin/env python3
"""Replicas under chaos: three `ampp serve` on one PostgreSQL, and three Alertmanager 0.25
peers (Debian's, gossiping on loopback), through the same scenario.

    python benchmarks/cluster_bench.py [--quick] [--storage-url URL] [--json FILE]

The scenario is the chaos test's (tests/support/chaos.py): flapping alerts, each in a group of
its own, posted every second to all three replicas (``all``, what Prometheus does) and then
each to one of them in turn (``spread``, a load-balanced Service); one replica killed with -9
and started again every 10 s. A local receiver counts what arrives against what the schedule
says must: duplicates, lost, unexpected. Alertmanager runs with ``--cluster.peer-timeout=2s``
(its default 15 s would have the second peer wait longer than an alert's phase) and
``--cluster.settle-timeout=5s``. Without ``--storage-url`` PostgreSQL comes from
scripts/services.sh (a fresh database per run). Only 127.0.0.1 is contacted.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for p in (ROOT, ROOT / "engine"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

from tests.integration.services import create_database, drop_database, start_services  # noqa: E402
from tests.support.chaos import ChaosResult, run_chaos  # noqa: E402
from tests.support.servers import REFERENCE_BINARY  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="20 s of chaos instead of 40")
    parser.add_argument("--storage-url", help="PostgreSQL server URL (admin) for ampp's databases")
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    args = parser.parse_args()
    admin = args.storage_url or start_services().pg_url
    chaos_s = 20.0 if args.quick else 40.0
    results: list[ChaosResult] = []
    with tempfile.TemporaryDirectory(prefix="ampp-cluster-bench-") as tmp:
        for mode in ("all", "spread"):
            url = create_database(admin)
            try:
                results.append(
                    run_chaos("ampp", mode, Path(tmp) / f"ampp-{mode}", storage_url=url, chaos_s=chaos_s)
                )
            finally:
                drop_database(admin, url)
            if shutil.which(REFERENCE_BINARY):
                results.append(run_chaos("reference", mode, Path(tmp) / f"ref-{mode}", chaos_s=chaos_s))
            else:
                print(f"{REFERENCE_BINARY} not installed: Alertmanager's side skipped", file=sys.stderr)
    title = "three replicas, kill -9 every 10 s"
    print(f"\n{title:52} {'expected':>9} {'received':>9} {'dup':>5} {'lost':>5} {'unexp':>6}")
    for r in results:
        server = "ampp (PostgreSQL)" if r.kind == "ampp" else "Alertmanager 0.25 (gossip)"
        label = f"{server}, posted to {'all three' if r.mode == 'all' else 'one (spread)'}"
        print(f"{label:52} {r.expected:9} {r.received:9} {r.duplicates:5} {r.lost:5} {r.unexpected:6}")
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in results], indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
