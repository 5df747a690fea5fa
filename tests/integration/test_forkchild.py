#!/usr/bin/env python3
"""A fork child's exec, under `execguard run`.

The library maps and adopts the policy file when first needed, and fork()
(wrapped for this alone, hooks_fork.c) does it in the parent, before the
child exists: a child that execs at once then writes none of the library's
pages, where adopting the policy itself would copy one on write in every
child.

Seen through /proc/self/smaps: the pages of the library the child has
written (Private_Dirty of its writable mappings) do not grow across an exec
that no rule names. The control that the measure sees writes: a refused
exec, which records the refusal in the library's memory, makes them grow.

The parent's side: every fork write-protects the parent's private pages,
so a page the fork wrapper writes (errno, restored with the value it
already had) is a page fault in the parent at every fork. eg_fork_faults
counts the parent's faults over a fork, bare and under `execguard run`:
they are equal.

Decisions stay the same: a fake `terraform destroy` is refused with EACCES
in the child (no terminal to ask on). Only fakes run; the fake records that
it was called.
"""
import os
import subprocess
import sys
import tempfile

import checks
from checks import check

EXECGUARD = os.environ["EG_EXECGUARD"]


# Runs under `execguard run`: forks; the child measures, execs, measures.
CHILD = r'''
import os, re, sys
fake, out = sys.argv[1], sys.argv[2]
# the library as loaded (its path on the command line would be a command
# that names the guard's files, which a rule asks about)
with open("/proc/self/maps") as f:
    lib = next(l.split()[5] for l in f if l.rstrip().endswith("/libexecguard.so"))

def written_kib():
    """Private_Dirty of the library's writable mappings and of the
    anonymous mapping right after them (the rest of its .bss)."""
    total, seen, take, after_lib = 0, 0, False, False
    with open("/proc/self/smaps") as f:
        for line in f:
            parts = line.split()
            if re.match(r"[0-9a-f]+-[0-9a-f]+ ", line):
                path = parts[5] if len(parts) > 5 else ""
                writable = "w" in parts[1]
                take = writable and (path == lib or (path == "" and after_lib))
                seen += take
                after_lib = path == lib
            elif take and parts[0] == "Private_Dirty:":
                total += int(parts[1])
    return total, seen

def attempt(path, argv):
    try:
        os.execv(path, argv)
    except OSError as e:
        return e.errno
    return 0

def child():
    before, seen = written_kib()
    missing = attempt("/nonexistent/eg-no-such-program", ["eg-no-such-program"])
    after, _ = written_kib()
    refused = attempt(fake, ["terraform", "destroy"])
    refused_after, _ = written_kib()
    with open(out, "w") as f:
        f.write("%d %d %d %d %d %d\n" % (before, after, missing, refused, seen, refused_after))
    os._exit(0)

pid = os.fork()
if pid == 0:
    child()
os.waitpid(pid, 0)
'''


def case_env(tmp, name, path):
    """The environment of a case: its own configuration, state and cache
    under tmp/name (the configuration in tmp/name/cfg)."""
    return {
        "PATH": path,
        "HOME": tmp,
        "XDG_CONFIG_HOME": os.path.join(tmp, name, "cfg"),
        "XDG_STATE_HOME": os.path.join(tmp, name, "state"),
        "XDG_CACHE_HOME": os.path.join(tmp, name, "cache"),
    }


def run_case(tmp, name, rules_text):
    cfg = os.path.join(tmp, name, "cfg")
    os.makedirs(os.path.join(cfg, "execguard"))
    if rules_text:
        with open(os.path.join(cfg, "execguard", "local.rules"), "w") as f:
            f.write(rules_text)
    fake_dir = os.path.join(tmp, name, "bin")
    os.makedirs(fake_dir)
    marker = os.path.join(tmp, name, "fake-ran")
    fake = os.path.join(fake_dir, "terraform")
    with open(fake, "w") as f:
        f.write("#!/bin/sh\necho \"$@\" >> '%s'\n" % marker)
    os.chmod(fake, 0o755)
    out = os.path.join(tmp, name, "result")
    child = os.path.join(tmp, name, "child.py")
    with open(child, "w") as f:
        f.write(CHILD)
    env = case_env(tmp, name, fake_dir + ":/usr/bin:/bin")
    r = subprocess.run([EXECGUARD, "run", "--", sys.executable, child, fake, out],
                       env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                       timeout=60)
    check(r.returncode == 0, "%s: execguard run exits 0 (%d)" % (name, r.returncode))
    check(not os.path.exists(marker), "%s: the fake terraform never ran" % name)
    try:
        with open(out) as f:
            before, after, missing, refused, seen, refused_after = (int(x) for x in f.read().split())
    except (OSError, ValueError):
        check(False, "%s: the child reported" % name)
        return None
    check(missing == 2, "%s: a missing program fails with ENOENT as without the guard (%d)"
          % (name, missing))
    check(refused == 13, "%s: terraform destroy is refused with EACCES in the child (%d)"
          % (name, refused))
    check(seen >= 1, "%s: the library's writable mappings are found in smaps (%d)" % (name, seen))
    check(refused_after > before, "%s: control: the measure sees the library's writes by the end "
          "(a refusal is recorded in its memory): +%d KiB" % (name, refused_after - before))
    return after - before


def parent_faults(tmp):
    """The least of the parent's page faults over a fork (eg_fork_faults),
    bare and guarded."""
    helper = os.path.join(os.environ["EG_TEST_BIN"], "eg_fork_faults")
    env = case_env(tmp, "pf", "/usr/bin:/bin")
    counts = []
    for argv in ([helper], [EXECGUARD, "run", "--", helper]):
        r = subprocess.run(argv, env=env, stdin=subprocess.DEVNULL, capture_output=True,
                           text=True, timeout=60)
        words = r.stdout.split()
        ok = r.returncode == 0 and len(words) >= 2 and words[-2] == "least"
        check(ok, "eg_fork_faults ran (%s): %r %r" % (argv[1] if len(argv) > 1 else "bare",
                                                      r.stdout, r.stderr))
        counts.append(int(words[-1]) if ok else None)
    return counts


def main():
    with tempfile.TemporaryDirectory(prefix="eg-forkchild-") as tmp:
        bare, guarded = parent_faults(tmp)
        if bare is not None and guarded is not None:
            check(guarded == bare, "a guarded fork costs the parent the page faults a bare one "
                  "does (%d, bare %d)" % (guarded, bare))
        grown = run_case(tmp, "packs", None)
        if grown is not None:
            check(grown == 0, "packs: an exec no rule names writes no page of the library in "
                  "the fork child (+%d KiB)" % grown)
        grown = run_case(tmp, "settings", "set prompt-timeout 60\n")
        if grown is not None:
            check(grown == 0, "with a setting too (+%d KiB)" % grown)
    print("%d failure(s)" % checks.failures)
    return 1 if checks.failures else 0


if __name__ == "__main__":
    sys.exit(main())
