#!/usr/bin/env python3
"""The benchmark's tools still run and print what bench/run.sh and the README
read: bench/overhead's loop table (part 1: a loop process per configuration
taking batches in turn, `--serve`) and resident memory (part 4), and
bench/paired.py's comparison of two setups, bench/shell_git.py's, and
bench/folio_map's cost of a mapped page in both page-cache states. A
handful of children each: no figure is asserted, only the shape of the
output and that every paired median lies within its own interval. Runs only
/bin/true, a copy of it, bash and `git --version`/`--exec-path`.
"""
import os
import re
import subprocess
import sys
import tempfile

import checks
from checks import check

BUILD = os.environ["EG_BUILD_ROOT"]
SOURCE = os.environ["EG_SOURCE_ROOT"]
EXECGUARD = os.environ["EG_EXECGUARD"]
OVERHEAD = os.path.join(BUILD, "bench", "overhead")
FOLIO_MAP = os.path.join(BUILD, "bench", "folio_map")
ICOUNT = os.path.join(BUILD, "bench", "icount")
EMPTY = os.path.join(BUILD, "bench", "empty_preload.so")
PAIRED = os.path.join(SOURCE, "bench", "paired.py")
SHELL_GIT = os.path.join(SOURCE, "bench", "shell_git.py")
NUM = r"(\d+\.\d+)"
INTERVAL = NUM + r" \(" + NUM + "-" + NUM + r"\)"


def clean_env(tmp):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("EXECGUARD_") and k != "LD_PRELOAD"}
    env.update(XDG_CONFIG_HOME=tmp + "/config", XDG_CACHE_HOME=tmp + "/cache",
               XDG_STATE_HOME=tmp + "/state")
    return env


def in_interval(m, lo, hi):
    return float(lo) <= float(m) <= float(hi)


def overhead(env):
    r = subprocess.run([OVERHEAD, "-o", "14", "-n", "2", "-r", "5", "-s", "10"], env=env,
                       capture_output=True, text=True, timeout=300)
    check(r.returncode == 0, "bench/overhead -o 14 exits 0 (%d: %s)" % (r.returncode, r.stderr.strip()[-200:]))
    rows = re.findall(r"^   \(([a-d])\) .*?" + INTERVAL + r"\s+" + INTERVAL + r"\s*$", r.stdout, re.M)
    check([x[0] for x in rows] == list("abcd") * 2,
          "paired ratios with intervals for (a)-(d), CPU time and wall clock: %s" % [x[0] for x in rows])
    check(all(in_interval(*x[1:4]) and in_interval(*x[4:7]) for x in rows),
          "every paired median lies within its interval")
    check(all(x[1:] == ("1.000",) * 6 for x in rows if x[0] == "b"), "(b) against itself is 1.000 (1.000-1.000)")
    check(re.search(r"^   \(c\) execguard, default packs +\d+ +\d+ +\d+ ", r.stdout, re.M) is not None,
          "part 4 prints the resident memory of (c)")
    lib = re.search(r"^   \(c\) execguard, default packs +(\d+) +(\d+) +(\d+) +(\d+)$", r.stdout, re.M)
    check(lib is not None and int(lib.group(3)) > 0,
          "part 4 prints the library's own resident memory of (c) and the +git spawn's page faults")
    check("   page cache: left to the kernel (-H holds it)" in r.stdout,
          "part 1 leaves the page cache to the kernel by default")
    r = subprocess.run([OVERHEAD, "-o", "1", "-H", "-n", "1", "-r", "1", "-s", "10"], env=env,
                       capture_output=True, text=True, timeout=300)
    held = re.search(r"^   page cache: (\d+) of the (\d+) cached pages of (\d+) files held", r.stdout, re.M)
    check(r.returncode == 0 and held is not None and 0 < int(held.group(1)) <= int(held.group(2))
          and int(held.group(3)) == 7,
          "bench/overhead -H holds the page cache of its seven files: %s"
          % (held.group(0) if held else r.stdout[-300:]))


def paired(env, tmp):
    empty = os.path.join(tmp, "empty.env")
    with open(empty, "w") as f:
        f.write("LD_PRELOAD=%s\n" % os.path.join(BUILD, "bench", "empty_preload.so"))
    guarded = os.path.join(tmp, "guarded.env")
    out = subprocess.run([EXECGUARD, "run", "--", "/usr/bin/env"], env=env, capture_output=True,
                         text=True, timeout=60).stdout
    with open(guarded, "w") as f:
        f.writelines(l + "\n" for l in out.splitlines() if l.startswith(("LD_PRELOAD=", "EXECGUARD_")))
    for mode in ("spawn", "fork"):
        r = subprocess.run([sys.executable, PAIRED, BUILD, "6", "2", mode, empty, guarded], env=env,
                           capture_output=True, text=True, timeout=300)
        lines = re.findall(r"^(\S+) +" + NUM + r" us/child  paired " + r"(\d+\.\d+) \((\d+\.\d+)-(\d+\.\d+)\)"
                           + r" +" + NUM + r" faults/child$", r.stdout, re.M)
        check(r.returncode == 0 and [x[0] for x in lines] == [empty, guarded],
              "bench/paired.py %s: a line per setup (%d: %s)" % (mode, r.returncode, r.stderr.strip()[-200:]))
        check(lines and lines[0][2:5] == ("1.0000",) * 3 and all(in_interval(*x[2:5]) for x in lines),
              "bench/paired.py %s: the first setup is the base, every median within its interval" % mode)
        check(r.stdout.startswith("page cache: left to the kernel (-H holds it)\n"),
              "bench/paired.py %s leaves the page cache to the kernel by default" % mode)
    r = subprocess.run([sys.executable, PAIRED, "-H", BUILD, "2", "1", "spawn", empty, guarded], env=env,
                       capture_output=True, text=True, timeout=300)
    held = re.search(r"^page cache: (\d+) of the (\d+) cached pages of (\d+) files held", r.stdout, re.M)
    check(r.returncode == 0 and held is not None and 0 < int(held.group(1)) <= int(held.group(2)),
          "bench/paired.py -H holds the children's files in the page cache: %s"
          % (held.group(0) if held else r.stdout[:300]))
    # children under a name the packs index, a copy or a link: each exec checked in full
    for how in ("--name", "--link"):
        r = subprocess.run([sys.executable, PAIRED, how, "git", BUILD, "4", "2", "fork", empty, guarded],
                           env=env, capture_output=True, text=True, timeout=300)
        lines = re.findall(r"^(\S+) +" + NUM + r" us/child  paired ", r.stdout, re.M)
        check(r.returncode == 0 and [x[0] for x in lines] == [empty, guarded],
              "bench/paired.py %s git fork: a line per setup (%d: %s)"
              % (how, r.returncode, r.stderr.strip()[-200:]))
    # a shell loop running real git (--version, --exec-path: no repository read)
    r = subprocess.run([sys.executable, SHELL_GIT, "--rounds", "2", "--loops", "2", empty, guarded],
                       env=env, capture_output=True, text=True, timeout=300)
    lines = re.findall(r"^(\S+) +" + NUM + r" us/git  ratio " + INTERVAL + "$", r.stdout, re.M)
    check(r.returncode == 0 and [x[0] for x in lines] == [empty, guarded] and
          lines[0][2:] == ("1.000",) * 3 and all(in_interval(*x[2:]) for x in lines),
          "bench/shell_git.py: a line per setup, the first the base (%d: %s%s)"
          % (r.returncode, r.stdout.strip()[-200:], r.stderr.strip()[-200:]))


def folio_map(tmp):
    r = subprocess.run([FOLIO_MAP, tmp, "50"], capture_output=True, text=True, timeout=120)
    check(r.returncode == 0, "bench/folio_map exits 0 (%d: %s)" % (r.returncode, r.stderr.strip()[-200:]))
    states = re.findall(r"^(as written|read back)", r.stdout, re.M)
    costs = re.findall(r"^   one more page: -?\d+ cycles, -?\d+ ns$", r.stdout, re.M)
    check(states == ["as written", "read back"] and len(costs) == 2,
          "bench/folio_map: a page's cost as written and read back (%s)" % r.stdout.strip()[-300:])


def icount(env):
    plain, _ = checks.icount(ICOUNT, env)
    check(plain.get("total", 0) > 10000 and any("ld-linux" in f for f in plain),
          "bench/icount: /bin/true's instructions by file, the loader's among them (%s)" % plain)
    env = dict(env, LD_PRELOAD=EMPTY)
    files, per_addr = checks.icount(ICOUNT, env, "-s", "empty_preload")
    lib = files.get(EMPTY, 0)
    addrs = [line.split() for line in per_addr.splitlines()]
    check(lib > 0 and all(len(a) == 2 for a in addrs) and sum(int(a[1], 10) for a in addrs) == lib,
          "bench/icount -s: the empty library's %d instructions, address by address (%d lines)"
          % (lib, len(addrs)))
    check(files.get("total", 0) > plain.get("total", 0),
          "bench/icount: the loader does more with a preload library (%d) than without (%d)"
          % (files.get("total", 0), plain.get("total", 0)))


def main():
    with tempfile.TemporaryDirectory(prefix="eg-test-bench.") as tmp:
        env = clean_env(tmp)
        overhead(env)
        paired(env, tmp)
        folio_map(tmp)
        icount(env)
    sys.exit(1 if checks.failures else 0)


if __name__ == "__main__":
    main()
