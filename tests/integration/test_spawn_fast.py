#!/usr/bin/env python3
"""The fast way of posix_spawn and posix_spawnp (lib/preload/hooks_spawn.c).

A guarded process that spawns a program no rule names, not a symlink, with
an environment it need not change, takes the fast way of exec_fast.h in the
caller: a readlink of the program and the session copy's check, then the
real call. Its first spawn of a program no rule names goes the full way and
copies the filter for the next ones. Everything else goes the full way and is
decided as before. Each case is one os.posix_spawn or os.posix_spawnp of a
guarded Python (under `execguard run`, no terminal, so a confirm is
refused, EACCES):

- /bin/true runs, by path and found in PATH;
- a fake `terraform destroy` is refused, by path, found in PATH and by a
  symlink with another name (tf -> terraform); behind a wrapper (timeout)
  it does not run;
- a program no rule names gets our LD_PRELOAD and EXECGUARD_POLICY whether
  its environment is the caller's, empty, or has LD_PRELOAD cleared or a
  forged EXECGUARD_POLICY;
- with the session copy of the library deleted, the program gets the
  library the copy was made from, and terraform is still refused.

With strace, which of the two ways a spawn took is seen in the caller: the
fast way asks readlink about the program and makes no lstat of it; the full
way makes the lstat. A first spawn of /bin/true goes the full way, the
second the fast way. Only fakes run; a fake records that it was called.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

import checks
from checks import check
from test_exec_fast import COLLECT, check_env_cases, read_results, setup

EXECGUARD = os.environ["EG_EXECGUARD"]

# Runs under `execguard run`: each case spawns, waits, and records how the
# spawn ended: "exit N", or "errno N" when posix_spawn refused.
SPAWNER = r'''
import os, sys, json
''' + COLLECT + r'''
fake, tf, out = sys.argv[1:4]
printenv = "/usr/bin/printenv"
printenv_argv = ["printenv", "LD_PRELOAD", "EXECGUARD_POLICY"]
results = {}

def case(name, path, argv, env=None, search=False):
    r, w = os.pipe()
    try:
        spawn = os.posix_spawnp if search else os.posix_spawn
        pid = spawn(path, argv, os.environ if env is None else env,
                    file_actions=[(os.POSIX_SPAWN_DUP2, w, 1)])
    except OSError as e:
        os.close(r)
        os.close(w)
        results[name] = {"how": "errno %d" % e.errno, "out": []}
        return
    os.close(w)
    code, lines = collect(r, pid)
    results[name] = {"how": "exit %d" % code, "out": lines}

env = dict(os.environ)
case("true", "/bin/true", ["true"])
case("true-searched", "true", ["true"], search=True)
case("terraform", fake, ["terraform", "destroy"])
case("terraform-searched", "terraform", ["terraform", "destroy"], search=True)
case("symlink", tf, ["tf", "destroy"])
case("wrapper", "/usr/bin/timeout", ["timeout", "5", fake, "destroy"])
case("same-env", printenv, printenv_argv, env)
case("fresh-env", printenv, printenv_argv, {})
case("no-preload", printenv, printenv_argv, dict(env, LD_PRELOAD=""))
case("forged-policy", printenv, printenv_argv, dict(env, EXECGUARD_POLICY="/tmp/forged.bin"))
# last: the session copy of the library disappears
copy = env["LD_PRELOAD"]
if os.environ.get("EXECGUARD_LIBRARY") and copy != os.environ["EXECGUARD_LIBRARY"]:
    os.unlink(copy)
    case("copy-gone", printenv, printenv_argv, env)
    case("copy-gone-terraform", fake, ["terraform", "destroy"])
results["env"] = {"LD_PRELOAD": env.get("LD_PRELOAD"), "EXECGUARD_POLICY": env.get("EXECGUARD_POLICY"),
                  "EXECGUARD_LIBRARY": env.get("EXECGUARD_LIBRARY")}
with open(out, "w") as f:
    json.dump(results, f)
'''

# Under strace: two spawns of /bin/true (the first prepares the fast way),
# then one of the fake terraform (refused).
TRACED = r'''
import os, sys
for path, argv in (("/bin/true", ["true"]), ("/bin/true", ["true"]), (sys.argv[1], ["terraform", "destroy"])):
    try:
        os.waitpid(os.posix_spawn(path, argv, os.environ), 0)
    except OSError:
        pass
'''


def guarded(tmp, program, args, env, strace_log=None):
    prog = os.path.join(tmp, "program.py")
    with open(prog, "w") as f:
        f.write(program)
    cmd = [sys.executable, prog] + args
    if strace_log:
        cmd = [shutil.which("strace"), "-qq", "-o", strace_log, "-e",
               "trace=readlinkat,readlink,newfstatat,lstat,stat,faccessat,faccessat2,clone,clone3,vfork"] + cmd
    r = subprocess.run([EXECGUARD, "run", "--"] + cmd, env=env, stdin=subprocess.DEVNULL,
                       capture_output=True, text=True, timeout=120)
    check(r.returncode == 0, "execguard run exits 0 (%d)%s"
          % (r.returncode, "" if r.returncode == 0 else ": " + r.stderr[-300:]))


def run_cases(tmp):
    fake, tf, _, _, marker, env = setup(tmp)
    out = os.path.join(tmp, "result.json")
    guarded(tmp, SPAWNER, [fake, tf, out], env)
    res = read_results(out)
    if res is None:
        return
    how = res.how
    for name in ("true", "true-searched"):
        check(how(name) == "exit 0", "%s: /bin/true runs (%s)" % (name, how(name)))
    for name in ("terraform", "terraform-searched", "symlink"):
        check(how(name) == "errno 13", "%s: terraform destroy is refused with EACCES (%s)"
              % (name, how(name)))
    # the wrapper runs; its own exec of terraform is refused (as by the full way before)
    check(how("wrapper") not in (None, "exit 0"), "timeout 5 terraform destroy does not succeed (%s)"
          % how("wrapper"))
    check_env_cases(res)
    check(not os.path.exists(marker), "no fake ran (%s)" % marker)


def run_traced(tmp):
    if shutil.which("strace") is None:
        print("skip the strace checks: no strace")
        return
    fake, _, _, _, marker, env = setup(tmp)
    log = os.path.join(tmp, "strace.log")
    guarded(tmp, TRACED, [fake], env, log)
    with open(log) as f:
        calls = [line.strip() for line in f]
    # the caller's calls before each spawn's clone
    spawns, cur = [], []
    for c in calls:
        if c.startswith(("clone(", "clone3(", "vfork(")):
            spawns.append(cur)
            cur = []
        else:
            cur.append(c)
    spawns.append(cur)  # the refused terraform makes no clone

    def about(path):
        return [m for m in ([c for c in s if '"%s"' % path in c] for s in spawns) if m]

    true_spawns = about("/bin/true")
    check(len(true_spawns) == 2, "strace saw the two spawns of /bin/true (%s)" % true_spawns)
    if len(true_spawns) == 2:
        first, second = true_spawns
        check(any("stat" in c.split("(")[0] for c in first),
              "/bin/true, first spawn: the full way (lstat), which prepares the fast way: %s" % first)
        fast = [c for c in second if re.match(r'readlinkat\(AT_FDCWD, "/bin/true", .*, 1\) = -1 EINVAL', c)]
        lstat = [c for c in second if "stat" in c.split("(")[0]]
        check(len(fast) == 1 and not lstat, "/bin/true, second spawn: the fast way (readlink, no lstat): %s"
              % second)
    tf_spawns = about(fake)
    tf_calls = tf_spawns[0] if tf_spawns else None
    check(tf_calls is not None, "strace saw the spawn of terraform")
    if tf_calls:
        lstat = [c for c in tf_calls if "stat" in c.split("(")[0]]
        check(len(lstat) >= 1, "terraform: the full way (lstat of the program): %s" % tf_calls)
    check(not os.path.exists(marker), "the fake terraform never ran under strace")


def main():
    with tempfile.TemporaryDirectory(prefix="eg-spawnfast-") as tmp:
        for d in ("cases", "traced"):
            os.makedirs(os.path.join(tmp, d))
        run_cases(os.path.join(tmp, "cases"))
        run_traced(os.path.join(tmp, "traced"))
    print("%d failure(s)" % checks.failures)
    return 1 if checks.failures else 0


if __name__ == "__main__":
    sys.exit(main())
