"""`make bench`: how fast the offline preview is, against the floor, and how long the test suite takes.

The floor is the work no program of this size can avoid, measured per stack: a Python process that imports every
SDK module the stack's plan draws its resource types from (`pulumi_aws.ec2`, `pulumi_kubernetes.apps.v1`, …) and
registers as many trivial resources on the same mock runtime as the plan holds. Each stack's offline preview is
timed as a whole process (`python -m tools.offline preview`), median of several runs, and reported as a ratio to
its floor: what is left is the program's own overhead. Timings are printed, never asserted.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from tools.offline.engine import ROOT

#: Type-token package -> Python SDK package.
SDKS = {
    "aws": "pulumi_aws",
    "kubernetes": "pulumi_kubernetes",
    "eks": "pulumi_eks",
    "random": "pulumi_random",
}

FLOOR = """
import importlib, pulumi
for module in {modules!r}:
    importlib.import_module(module)
from tools.offline.engine import run_in_mocks
def program():
    for i in range({count}):
        pulumi.CustomResource("floor:index:Trivial", f"r{{i}}", {{}})
run_in_mocks(program)
"""


def sdk_module(type_token: str) -> str | None:
    """The SDK module a type token's class lives in: `aws:ec2/vpc:Vpc` -> pulumi_aws.ec2 (`vpc` is the file in
    it), `kubernetes:networking.k8s.io/v1:NetworkPolicy` -> pulumi_kubernetes.networking.v1 (group and version);
    the deepest one that exists (CRDs such as `elbv2.k8s.aws` are served by the package root's apiextensions)."""
    package, module, _ = type_token.split(":", 2)
    sdk = SDKS.get(package)
    if sdk is None:
        return None
    segments = module.split("/")
    parts = [p.split(".")[0] for p in (segments if package == "kubernetes" else segments[:1]) if p != "index"]
    for depth in range(len(parts), 0, -1):
        candidate = ".".join([sdk, *parts[:depth]])
        try:
            if importlib.util.find_spec(candidate) is not None:
                return candidate
        except ModuleNotFoundError:
            continue
    return sdk


def floor_script(plan_file: Path) -> str:
    """The floor for one plan: its SDK modules imported, as many trivial resources registered as it holds."""
    resources = json.loads(plan_file.read_text(encoding="utf-8"))["resources"]
    modules = sorted({m for r in resources if (m := sdk_module(r["type"])) is not None})
    count = sum(1 for r in resources if r["type"] != "pulumi:pulumi:Stack")
    return FLOOR.format(modules=modules, count=count)


@dataclass(frozen=True)
class Timing:
    wall: float
    cpu: float
    """user + system seconds of the process and its children: steadier than wall time on a busy machine."""


def timed(cmd: list[str]) -> Timing:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return Timing(wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime))


def median(cmd: list[str], runs: int) -> Timing:
    samples = [timed(cmd) for _ in range(runs)]
    return Timing(statistics.median(t.wall for t in samples), statistics.median(t.cpu for t in samples))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5, help="runs per measurement (median is reported)")
    parser.add_argument("--no-tests", action="store_true", help="skip timing the test suite")
    args = parser.parse_args(argv)

    py = sys.executable
    for stack in ("dev", "prod"):
        preview = [py, "-m", "tools.offline", "preview", "--stack", stack]
        timed(preview)  # writes build/<stack>/plan.json, which the floor is sized from
        floor = median([py, "-c", floor_script(ROOT / "build" / stack / "plan.json")], args.runs)
        t = median(preview, args.runs)
        print(
            f"{stack:<4}: floor (its SDK modules + as many trivial resources) {floor.wall:6.2f} s wall "
            f"{floor.cpu:6.2f} s cpu; offline preview {t.wall:6.2f} s wall {t.cpu:6.2f} s cpu = "
            f"{t.wall / floor.wall:4.2f} x floor (wall), {t.cpu / floor.cpu:4.2f} x (cpu)  (medians of {args.runs})"
        )
    if not args.no_tests:
        t = timed([py, "-m", "pytest", "-q", "-n", "2", "-p", "no:cacheprovider"])
        print(f"test suite (make test, one run): {t.wall:6.2f} s wall, {t.cpu:6.2f} s cpu")
    return 0


if __name__ == "__main__":
    sys.exit(main())
