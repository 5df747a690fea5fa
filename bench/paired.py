#!/usr/bin/env python3
"""Paired A/B timing of guarded start-up, for comparing two builds or setups.

  bench/paired.py [-H] [--name NAME | --link NAME] BUILD_DIR ROUNDS CHILDREN spawn|fork ENVFILE...

Each ENVFILE holds KEY=VALUE lines (LD_PRELOAD, EXECGUARD_POLICY, ... as
`execguard run -- /usr/bin/env` prints them); the environment of each loop is
PATH, HOME and those. As part 1 of bench/overhead: one loop process
(`BUILD_DIR/bench/overhead --serve MODE /bin/true`) per file, replaced every
5 rounds (made in a random order: a loop made later measured faster); every
round gives each loop a batch of CHILDREN children in turn, in an order
rotated each round. Prints per file the median CPU time per
child, the median over rounds of the round's own ratio to the first file,
with its 95 % interval (order statistics), and the median minor page faults
per child (the loop and its children).

-H: the cached pages of the files the children map (the program, libc, the
loader, each LD_PRELOAD library) are held in memory for the run, as
bench/overhead -H holds them (`overhead --hold`, which says why).

--name NAME: the children are /bin/true under another name (a copy named NAME
in a temporary directory: a file, as /usr/bin/git is, not a symbolic link,
whose target the check resolves too): `--name git` makes each child's exec
one of a program the default packs name, checked in full (in the child, for
fork), its rules' regexes made; /bin/true's code still runs.

--link NAME: the same through a symbolic link NAME to /bin/true, as
/usr/bin/python3 is a link to python3.11: the check resolves the link too.
"""
import math
import random
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

LOOP_ROUNDS = 5


class Loop:
    def __init__(self, exe, mode, env, prog):
        req_r, self.req = os.pipe()
        self.rep, rep_w = os.pipe()

        def fds():  # os.pipe's ends are close-on-exec; dup2's copies are not
            a, b = os.dup(req_r), os.dup(rep_w)  # either end may be fd 3 or 4 itself
            os.dup2(a, 3)
            os.dup2(b, 4)

        self.proc = subprocess.Popen([exe, "--serve", mode, prog], env=env,
                                     preexec_fn=fds, close_fds=False)
        os.close(req_r)
        os.close(rep_w)
        self.out = os.fdopen(self.rep, "r")

    def batch(self, n):
        os.write(self.req, b"%d\n" % n)
        line = self.out.readline().split()
        if len(line) != 3:
            sys.exit("paired: a loop failed")
        return [float(x) for x in line]

    def stop(self):
        os.close(self.req)
        self.out.close()
        self.proc.wait()


def median_ci(v):
    v = sorted(v)
    n, half = len(v), 0.98 * math.sqrt(len(v))
    lo, hi = max(0, math.floor(n / 2 - half)), min(n - 1, math.ceil(n / 2 + half))
    return statistics.median(v), v[lo], v[hi]


def main():
    args, name, link, hold = sys.argv[1:], None, False, False
    if args and args[0] == "-H":
        hold, args = True, args[1:]
    if len(args) >= 2 and args[0] in ("--name", "--link"):
        name, link, args = args[1], args[0] == "--link", args[2:]
    if len(args) < 5 or args[3] not in ("spawn", "fork") or (name is not None and
                                                            (not name or "/" in name)):
        sys.exit(__doc__.strip().splitlines()[2].strip())
    build, rounds, children, mode = args[0], int(args[1]), int(args[2]), args[3]
    files = args[4:]
    with tempfile.TemporaryDirectory(prefix="eg-paired.") as tmp:
        prog = "/bin/true"
        if name is not None:
            prog = os.path.join(tmp, name)
            if link:
                os.symlink("/bin/true", prog)
            else:
                shutil.copy("/bin/true", prog)
        run(build, rounds, children, mode, files, prog, hold)


def hold_pages(exe, prog, envs):
    """overhead --hold, started (-H)."""
    paths = [prog, exe]
    for env in envs:
        paths += [p for p in env.get("LD_PRELOAD", "").replace(":", " ").split() if p.startswith("/")]
    holder = subprocess.Popen([exe, "--hold"] + paths, stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    print(holder.stdout.readline().strip())
    return holder


def run(build, rounds, children, mode, files, prog, hold):
    exe = os.path.join(build, "bench", "overhead")
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
    holder = hold_pages(exe, prog, envs) if hold else None
    if holder is None:
        print("page cache: left to the kernel (-H holds it)")
    shuffle = random.Random(rounds).shuffle  # the same draws for the same run
    cpu = {f: [] for f in files}
    faults = {f: [] for f in files}
    loops = []
    for r in range(rounds):
        if r % LOOP_ROUNDS == 0:
            for lp in loops:
                lp.stop()
            # made in an order drawn anew each time: a loop made after
            # the others measured faster (0.4 % for the same setup given
            # twice), which the order of the files would otherwise decide
            made = list(range(len(envs)))
            shuffle(made)
            loops = [None] * len(envs)
            for i in made:
                loops[i] = Loop(exe, mode, envs[i], prog)
            for i in made:
                loops[i].batch(children)  # its first children fault in the loop's pages
        order = list(range(len(files)))
        order = order[r % len(order):] + order[:r % len(order)]
        for i in order:
            wall_ns, cpu_ns, flt = loops[i].batch(children)
            cpu[files[i]].append(cpu_ns / 1000)
            faults[files[i]].append(flt)
    for lp in loops:
        lp.stop()
    if holder is not None:
        holder.stdin.close()
        holder.wait()
    base = cpu[files[0]]
    for f in files:
        m, lo, hi = median_ci([a / b for a, b in zip(cpu[f], base)])
        print("%-40s %8.1f us/child  paired %.4f (%.4f-%.4f)  %5.1f faults/child"
              % (f, statistics.median(cpu[f]), m, lo, hi, statistics.median(faults[f])))


if __name__ == "__main__":
    main()
