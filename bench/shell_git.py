#!/usr/bin/env python3
"""What a shell loop that runs git pays, under setups compared side by side.

  bench/shell_git.py [--rounds R] [--loops N] ENVFILE...

Each ENVFILE holds KEY=VALUE lines (LD_PRELOAD, EXECGUARD_POLICY, ... as
`execguard run -- /usr/bin/env` prints them), the first being the base. In
each of R rounds (default 40), for each file in turn (the order rotated
each round), bash runs N times (default 100) `git --version` and `git
--exec-path`: real git, a program the default packs name, started by
fork+exec as a shell an agent starts runs it, checked in full in the child
(its arguments match no rule). Prints per file the median CPU time per git run
(bash and its children, user and system) and the median over rounds of
the round's own ratio to the base, with its 95 % interval (as paired.py).
Needs git; runs nothing else.
"""
import os
import resource
import statistics
import subprocess
import sys

from paired import median_ci


def read_env(path):
    env = {"PATH": "/usr/bin:/bin", "HOME": os.environ.get("HOME", "/")}
    with open(path) as f:
        for line in f:
            key, sep, value = line.rstrip("\n").partition("=")
            if sep:
                env[key] = value
    return env


def main():
    args, rounds, loops = sys.argv[1:], 40, 100
    while args and args[0] in ("--rounds", "--loops") and len(args) > 1:
        if args[0] == "--rounds":
            rounds = int(args[1])
        else:
            loops = int(args[1])
        args = args[2:]
    if not args or rounds < 1 or loops < 1:
        sys.exit(__doc__.strip().splitlines()[2].strip())
    envs = [(path, read_env(path)) for path in args]
    script = "for i in $(seq %d); do git --version; git --exec-path; done >/dev/null" % loops
    cpu = {path: [] for path in args}
    for r in range(rounds):
        k = r % len(envs)
        for path, env in envs[k:] + envs[:k]:
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            subprocess.run(["bash", "-c", script], env=env, check=True)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            used = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
            cpu[path].append(used / (2 * loops) * 1e6)
    base = cpu[args[0]]
    for path in args:
        ratios = [a / b for a, b in zip(cpu[path], base)]
        print("%-40s %8.1f us/git  ratio %.3f (%.3f-%.3f)"
              % ((path, statistics.median(cpu[path])) + median_ci(ratios)))


if __name__ == "__main__":
    main()
