#!/usr/bin/env python3
"""Paired A/B timing of guarded start-up, for comparing two builds or setups.

  bench/paired.py BUILD_DIR ROUNDS CHILDREN spawn|fork ENVFILE...

Each ENVFILE holds KEY=VALUE lines (LD_PRELOAD, EXECGUARD_POLICY, ... as
`execguard run -- /usr/bin/env` prints them); the environment of each loop is
PATH, HOME and those. Every round runs `BUILD_DIR/bench/overhead --loop MODE
CHILDREN /bin/true` once under each file, in an order rotated each round, and
prints per file the median CPU time per child and the median over rounds of
the round's own ratio to the first file (loops seconds apart, so the
machine's drift in speed between rounds cancels out).
"""
import os
import statistics
import subprocess
import sys


def main():
    if len(sys.argv) < 6 or sys.argv[4] not in ("spawn", "fork"):
        sys.exit(__doc__.strip().splitlines()[2].strip())
    build, rounds, children, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    files = sys.argv[5:]
    loop = os.path.join(build, "bench", "overhead")
    envs = []
    for f in files:
        env = {"PATH": "/usr/bin:/bin", "HOME": os.environ.get("HOME", "/")}
        with open(f) as fh:
            for line in fh:
                line = line.rstrip("\n")
                if "=" in line:
                    k, v = line.split("=", 1)
                    env[k] = v
        envs.append(env)
    cpu = {f: [] for f in files}
    for r in range(rounds):
        order = list(range(len(files)))
        order = order[r % len(order):] + order[:r % len(order)]
        for i in order:
            out = subprocess.run([loop, "--loop", mode, children, "/bin/true"], env=envs[i],
                                 capture_output=True, text=True, check=True).stdout.split()
            cpu[files[i]].append(float(out[1]) / 1000)
    base = cpu[files[0]]
    for f in files:
        ratio = statistics.median(a / b for a, b in zip(cpu[f], base))
        print("%-40s %8.1f us/child  paired %.4f" % (f, statistics.median(cpu[f]), ratio))


if __name__ == "__main__":
    main()
