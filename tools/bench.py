"""`make bench`: how fast the offline preview is, against the floor, and how long the test suite takes.

The floor is a Python process that imports the same SDKs and registers one resource on the mock runtime: the cost
no program can avoid. Each stack's offline preview is timed as a whole process (`python -m tools.offline preview`),
median of several runs, and reported as a ratio to the floor. Timings are printed, never asserted.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

from tools.offline.engine import ROOT

FLOOR = """
import pulumi, pulumi_aws as aws, pulumi_eks, pulumi_kubernetes, pulumi_random
from tools.offline.engine import run_in_mocks
def program():
    aws.s3.Bucket("floor", opts=pulumi.ResourceOptions(provider=aws.Provider("aws", region="us-east-2")))
run_in_mocks(program)
"""


def timed(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def median(cmd: list[str], runs: int) -> float:
    return statistics.median(timed(cmd) for _ in range(runs))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5, help="runs per measurement (median is reported)")
    parser.add_argument("--no-tests", action="store_true", help="skip timing the test suite")
    args = parser.parse_args(argv)

    py = sys.executable
    floor = median([py, "-c", FLOOR], args.runs)
    print(f"floor (import SDKs + register one resource): {floor:6.2f} s  (median of {args.runs})")
    for stack in ("dev", "prod"):
        t = median([py, "-m", "tools.offline", "preview", "--stack", stack], args.runs)
        print(f"offline preview {stack:<4}                     : {t:6.2f} s  = {t / floor:4.1f} x floor")
    if not args.no_tests:
        t = timed([py, "-m", "pytest", "-q", "-n", "2", "-p", "no:cacheprovider"])
        print(f"test suite (make test, one run)             : {t:6.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
