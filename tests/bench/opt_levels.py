#!/usr/bin/env python3
"""Size and speed of kdebug's release binary at several opt-levels (how the release profile's
opt-level was chosen; the numbers are in BENCHMARKS.md). Not part of `make bench`: each
level is a full fat-LTO build (about two minutes on two cores).

    python3 tests/bench/opt_levels.py --fakecluster PATH [--levels z,s,3] [--target-dir DIR]

For each level it builds the static binary exactly as `make release` does (the level set
through CARGO_PROFILE_RELEASE_OPT_LEVEL, in a separate target directory) and measures:
its size; `version` start-up (median wall of 101 runs); and, against fakecluster, the CPU time
(user + system) and wall time of kdebug's own process for one ephemeral debug with --attach,
for a 200 MB log stream, and for the 100-pod fan-out. Medians of --runs runs.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.dont_write_bytecode = True
sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def build(level: str, target_dir: Path) -> Path:
    env = dict(os.environ)
    env["CARGO_TARGET_DIR"] = str(target_dir / f"opt-{level}")
    env["CARGO_PROFILE_RELEASE_OPT_LEVEL"] = level
    subprocess.run(["make", "-C", str(ROOT), "release"], env=env, check=True)
    return target_dir / f"opt-{level}" / "x86_64-unknown-linux-gnu/release/kdebug"


def cpu_and_wall(b: bench.Bench, cmd: list[str], timeout: float = 300):
    start = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=b.env)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{cmd} failed")
    return ru.ru_utime + ru.ru_stime, wall


def measure(binary: Path, fake_bin: Path, runs: int) -> dict:
    class A:
        kdebug = str(binary)
        kubectl = bench.KUBECTL_DEFAULT
        fakecluster = str(fake_bin)
        fanout_runs = 1

    A.runs = runs
    b = bench.Bench(A)
    out = {"size": binary.stat().st_size}
    out["version_ms"] = statistics.median(b.spawn_wall([str(binary), "version"]) for _ in range(101)) * 1e3
    one = ["web-0", "--image", "busybox", "--attach", "--", "sh", "-c", "echo ok"]
    big = ["web-0", "--image", "busybox", "--attach", "--", "sh", "-c",
           f"sleep 0.2; head -c {bench.THROUGHPUT_BYTES} /dev/zero"]
    fan = ["-l", "app=audit", "--image", "busybox", "--max-parallel", "10", "--", "sh", "-c", "echo ok"]
    for key, args, fixture in [("one", one, None), ("stream200MB", big, None),
                               ("fanout100", fan, bench.audit_fixture(bench.FANOUT_PODS))]:
        cpus, walls = [], []
        for _ in range(runs):
            with b.fake(fixture=fixture) as fake:
                cpu, wall = cpu_and_wall(b, b.kd.debug(fake.kubeconfig, *args))
            cpus.append(cpu)
            walls.append(wall)
        out[key + "_cpu_ms"] = statistics.median(cpus) * 1e3
        out[key + "_wall_ms"] = statistics.median(walls) * 1e3
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--fakecluster", required=True)
    ap.add_argument("--levels", default="z,s,3")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--target-dir", default=str(ROOT / "target" / "opt-levels"))
    a = ap.parse_args()
    rows = []
    for level in a.levels.split(","):
        binary = build(level, Path(a.target_dir))
        m = measure(binary, Path(a.fakecluster).resolve(), a.runs)
        rows.append((level, m))
        print(level, m, file=sys.stderr, flush=True)
    keys = list(rows[0][1].keys())
    print("| opt-level | " + " | ".join(keys) + " |")
    print("|---" * (len(keys) + 1) + "|")
    for level, m in rows:
        print(f"| {level} | " + " | ".join(
            f"{m[k]:,}" if k == "size" else f"{m[k]:.2f}" for k in keys) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
