#!/usr/bin/env python3
"""The fast way of a fork child's execve/execv (lib/preload/exec_fast.h).

After its first fork, a guarded process has copied the policy's name
filter, and its children's execve and execv first try the fast way: a
program no rule names, not a symlink, with the environment it inherited,
goes straight to the real call. Everything else must go the full way and be
decided exactly as before. Each case below is one fork child of a guarded
Python (under `execguard run`, no terminal, so a confirm is refused):

- /bin/true runs;
- a fake `terraform destroy` is refused, by path, by a symlink with another
  name (tf -> terraform), behind a wrapper (timeout), a remote runner (a
  fake ssh) and the dynamic loader run as a program;
- an environment the child changed (fresh, LD_PRELOAD cleared, a forged
  EXECGUARD_POLICY) reaches the program with ours re-injected;
- with the session copy of the library deleted, the child's program gets
  the library the copy was made from, and stays guarded;
- `terraform apply` is refused in a directory named prod (a rule's cwd
  condition, the working directory read when the rule is tried) and runs
  in one named staging.

With strace, which of the two ways a child took is seen: the fast way asks
readlink about the executable and makes no lstat of it; the full way makes
the lstat; and a child's full check maps no memory (its parent did, before
forking). Another library's execve hook preloaded after ours still sees
the fast way's exec. And each of the two hooks lies in the library's
first 64 KiB. Only fakes run; the fake records that it was called.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

import checks
from checks import check

EXECGUARD = os.environ["EG_EXECGUARD"]


# For the guarded scripts here and in test_spawn_fast.py: what a child wrote
# to the pipe `r` (its write end closed here) as lines, and its exit code.
COLLECT = r'''
def collect(r, pid):
    text = b""
    while True:
        b = os.read(r, 4096)
        if not b:
            break
        text += b
    os.close(r)
    _, st = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(st), text.decode().split("\n")
'''

# Runs under `execguard run`. Each case: fork, the child execs, the parent
# reports how the child ended: "exit N", or "errno N" when the exec failed.
CHILD = r'''
import os, sys, json
''' + COLLECT + r'''
fake, tf, ssh, elf, out = sys.argv[1:6]
# a program no rule names (python3 is named by rules: the full way)
printenv = "/usr/bin/printenv"
printenv_argv = ["printenv", "LD_PRELOAD", "EXECGUARD_POLICY"]
loader = os.path.realpath("/lib64/ld-linux-x86-64.so.2")
results = {}

def case(name, fn):
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        os.dup2(w, 1)
        try:
            fn()
        except OSError as e:
            os.write(2, b"")
            os._exit(200 + e.errno)
        os._exit(99)
    os.close(w)
    code, lines = collect(r, pid)
    results[name] = {"how": ("errno %d" % (code - 200)) if code >= 200 else ("exit %d" % code),
                     "out": lines}

env = dict(os.environ)
case("true", lambda: os.execv("/bin/true", ["true"]))
case("terraform", lambda: os.execv(fake, ["terraform", "destroy"]))
case("symlink", lambda: os.execv(tf, ["tf", "destroy"]))
case("wrapper", lambda: os.execv("/usr/bin/timeout", ["timeout", "5", fake, "destroy"]))
# a remote runner: its remote command is checked here (the other side is not ours)
case("ssh", lambda: os.execv(ssh, ["ssh", "prod-host", "terraform", "destroy"]))
# the dynamic loader run as a program: it runs the next one without an exec
case("loader", lambda: os.execv(loader, ["ld-linux-x86-64.so.2", elf, "destroy"]))
case("same-env", lambda: os.execve(printenv, printenv_argv, env))
case("fresh-env", lambda: os.execve(printenv, printenv_argv, {}))
case("no-preload", lambda: os.execve(printenv, printenv_argv, dict(env, LD_PRELOAD="")))
case("forged-policy", lambda: os.execve(printenv, printenv_argv,
                                        dict(env, EXECGUARD_POLICY="/tmp/forged.bin")))
# a rule with a cwd condition (terraform.prod-apply-dir): the hook reads the
# child's working directory when the rule is tried
def apply_in(d):
    os.chdir(d)
    os.execv(fake, ["terraform", "apply", "-auto-approve"])
for d in ("prod", "staging"):
    os.makedirs(os.path.join(os.path.dirname(out), d))
case("apply-prod", lambda: apply_in(os.path.join(os.path.dirname(out), "prod")))
case("apply-staging", lambda: apply_in(os.path.join(os.path.dirname(out), "staging")))
# last: the session copy of the library disappears
copy = env["LD_PRELOAD"]
if os.environ.get("EXECGUARD_LIBRARY") and copy != os.environ["EXECGUARD_LIBRARY"]:
    os.unlink(copy)
    case("copy-gone", lambda: os.execve(printenv, printenv_argv, env))
    case("copy-gone-terraform", lambda: os.execv(fake, ["terraform", "destroy"]))
results["env"] = {"LD_PRELOAD": env.get("LD_PRELOAD"), "EXECGUARD_POLICY": env.get("EXECGUARD_POLICY"),
                  "EXECGUARD_LIBRARY": env.get("EXECGUARD_LIBRARY")}
with open(out, "w") as f:
    json.dump(results, f)
'''

# Under strace: which way each child took.
TRACED = r'''
import os, sys
fake = sys.argv[1]
for path, argv in (("/bin/true", ["true"]), (fake, ["terraform", "destroy"])):
    pid = os.fork()
    if pid == 0:
        try:
            os.execv(path, argv)
        except OSError:
            pass
        os._exit(1)
    os.waitpid(pid, 0)
'''


# Under a second preload library (eg_execve_shim.so) after ours: a fork child
# execs /bin/true. The script first execs itself with that library added.
SHIMMED = r'''
import os, sys
shim, out = sys.argv[1:3]
if "EG_SHIM_LOG" not in os.environ:
    env = dict(os.environ, EG_SHIM_LOG=out + ".log",
               LD_PRELOAD=os.environ.get("LD_PRELOAD", "") + " " + shim)
    os.execve(sys.executable, [sys.executable] + sys.argv, env)
for _ in range(2):
    pid = os.fork()
    if pid == 0:
        try:
            os.execv("/bin/true", ["true"])
        except OSError:
            pass
        os._exit(1)
    _, st = os.waitpid(pid, 0)
with open(out, "w") as f:
    f.write("%s\n%d\n" % (os.environ.get("LD_PRELOAD"), os.waitstatus_to_exitcode(st)))
'''


# Under strace: a fork child execs a program the rules name, with arguments
# no rule refuses (the full check, allowed).
TRACED_NAMED = r'''
import os, sys
for git in (sys.argv[1], os.path.join(os.path.dirname(sys.argv[1]), "link", "git")):
    pid = os.fork()
    if pid == 0:
        try:
            os.execv(git, ["git", "status"])
        except OSError:
            pass
        os._exit(1)
    os.waitpid(pid, 0)
'''


def fake_program(path, marker, prefix=""):
    """A fake: a script that only appends its arguments to `marker`."""
    with open(path, "w") as f:
        f.write("#!/bin/sh\necho %s\"$@\" >> '%s'\n" % (prefix, marker))
    os.chmod(path, 0o755)


def setup(tmp):
    fake_dir = os.path.join(tmp, "bin")
    os.makedirs(fake_dir)
    marker = os.path.join(tmp, "fake-ran")
    fake = os.path.join(fake_dir, "terraform")
    fake_program(fake, marker)
    tf = os.path.join(tmp, "tf")
    os.symlink(fake, tf)
    ssh = os.path.join(fake_dir, "ssh")
    fake_program(ssh, marker, "ssh ")
    elf_dir = os.path.join(tmp, "elf")
    os.makedirs(elf_dir)
    elf = os.path.join(elf_dir, "terraform")
    shutil.copy(os.path.join(os.environ["EG_TEST_BIN"], "eg_fake_tool"), elf)
    env = {
        "PATH": fake_dir + ":/usr/bin:/bin",
        "HOME": tmp,
        "XDG_CONFIG_HOME": os.path.join(tmp, "cfg"),
        "XDG_STATE_HOME": os.path.join(tmp, "state"),
        "XDG_CACHE_HOME": os.path.join(tmp, "cache"),
        "EG_FAKE_LOG": marker,
    }
    return fake, tf, ssh, elf, marker, env


class Results(dict):
    """What a guarded process reported: each case's "how" ("exit N" or
    "errno N") and the lines it printed; "env", our variables."""

    def how(self, name):
        return self.get(name, {}).get("how")

    def printed(self, name):
        return self.get(name, {}).get("out", ["", ""])[:2]


def read_results(out):
    """The report a guarded process wrote to `out` (a JSON object), checked
    to come from a session on a copy of the library; None if there is none."""
    import json
    try:
        with open(out) as f:
            res = Results(json.load(f))
    except (OSError, ValueError):
        check(False, "the guarded process reported")
        return None
    ours = res["env"]
    check(bool(ours["LD_PRELOAD"]) and ours["LD_PRELOAD"] != ours["EXECGUARD_LIBRARY"],
          "the session runs on a copy of the library (%s)" % ours["LD_PRELOAD"])
    return res


def check_env_cases(res):
    """printenv run with the caller's, an empty, a cleared-LD_PRELOAD and a
    forged-policy environment gets ours; with the copy deleted, the library
    it was made from, and terraform destroy is still refused."""
    ours, how, printed = res["env"], res.how, res.printed
    want = [ours["LD_PRELOAD"], ours["EXECGUARD_POLICY"]]
    for name in ("same-env", "fresh-env", "no-preload", "forged-policy"):
        check(how(name) == "exit 0" and printed(name) == want,
              "%s: the program gets our LD_PRELOAD and EXECGUARD_POLICY (%s, %s)"
              % (name, how(name), printed(name)))
    gone = printed("copy-gone")
    check(how("copy-gone") == "exit 0" and gone[0] == ours["EXECGUARD_LIBRARY"] and
          gone[1] == ours["EXECGUARD_POLICY"],
          "copy deleted: the program gets the library it was made from (%s)" % gone)
    check(how("copy-gone-terraform") == "errno 13",
          "copy deleted: terraform destroy is still refused (%s)" % how("copy-gone-terraform"))


def run_cases(tmp):
    fake, tf, ssh, elf, marker, env = setup(tmp)
    child = os.path.join(tmp, "child.py")
    with open(child, "w") as f:
        f.write(CHILD)
    out = os.path.join(tmp, "result.json")
    r = subprocess.run([EXECGUARD, "run", "--", sys.executable, child, fake, tf, ssh, elf, out],
                       env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                       timeout=120)
    check(r.returncode == 0, "execguard run exits 0 (%d)%s"
          % (r.returncode, "" if r.returncode == 0 else ": " + r.stderr[-300:]))
    res = read_results(out)
    if res is None:
        return
    how, printed = res.how, res.printed
    check(how("true") == "exit 0", "/bin/true runs (%s)" % how("true"))
    check(how("terraform") == "errno 13", "terraform destroy is refused with EACCES (%s)"
          % how("terraform"))
    check(how("symlink") == "errno 13", "tf -> terraform: refused by the target's name (%s)"
          % how("symlink"))
    check(how("wrapper") not in (None, "exit 0"), "timeout 5 terraform destroy does not "
          "succeed (%s)" % how("wrapper"))
    check(how("ssh") == "errno 13", "ssh prod-host terraform destroy is refused (%s)" % how("ssh"))
    check(how("loader") == "errno 13", "ld-linux-x86-64.so.2 terraform destroy is refused (%s)"
          % how("loader"))
    check_env_cases(res)
    check(how("apply-prod") == "errno 13",
          "terraform apply in a prod directory is refused (the cwd condition) (%s)" % how("apply-prod"))
    check(how("apply-staging") == "exit 0",
          "terraform apply in a staging directory runs (%s)" % how("apply-staging"))
    try:
        with open(marker) as f:
            ran = f.read()
    except OSError:
        ran = ""
    check(ran == "apply -auto-approve\n",
          "no fake ran but the staging apply (%r)" % ran)


def trace(tmp, calls, program=TRACED, arg=None):
    """`program` (TRACED) under `execguard run` and strace, tracing `calls`,
    given `arg` (the fake terraform): the traced calls of each process by
    pid, the fake terraform and its marker; None without strace."""
    strace = shutil.which("strace")
    if strace is None:
        print("skip the strace checks: no strace")
        return None
    fake, _, _, _, marker, env = setup(tmp)
    prog = os.path.join(tmp, "traced.py")
    with open(prog, "w") as f:
        f.write(program)
    log = os.path.join(tmp, "strace.log")
    r = subprocess.run([EXECGUARD, "run", "--", strace, "-f", "-qq", "-o", log, "-e",
                        "trace=" + calls, sys.executable, prog, arg or fake],
                       env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                       timeout=120)
    check(r.returncode == 0, "strace (%s) under execguard run exits 0 (%d)%s"
          % (calls, r.returncode, "" if r.returncode == 0 else ": " + r.stderr[-300:]))
    by_pid = {}
    with open(log) as f:
        for line in f:
            m = re.match(r"(\d+)\s+(.*)", line)
            if m:
                by_pid.setdefault(m.group(1), []).append(m.group(2))
    return by_pid, fake, marker


def run_traced(tmp):
    traced = trace(tmp, "readlinkat,readlink,newfstatat,lstat,stat,execve")
    if traced is None:
        return
    by_pid, fake, marker = traced

    def child_calls(path):
        """The calls of the child that execs (or is refused) `path`: up to
        its execve, or all of them when there is none (a refusal)."""
        for calls in by_pid.values():
            if calls and calls[0].startswith("execve("):
                continue  # the traced program's own start
            for i, c in enumerate(calls):
                if c.startswith('execve("%s"' % path):
                    return calls[:i + 1]
            if any('"%s"' % path in c for c in calls):
                return calls
        return None

    true_calls = child_calls("/bin/true")
    check(true_calls is not None, "strace saw the child exec /bin/true")
    if true_calls:
        fast = [c for c in true_calls if re.match(r'readlinkat\(AT_FDCWD, "/bin/true", .*, 1\) = -1 EINVAL', c)]
        lstat = [c for c in true_calls if '"/bin/true"' in c and ("stat" in c.split("(")[0])]
        check(len(fast) == 1 and not lstat,
              "/bin/true: the fast way (readlink, no lstat): %s" % true_calls)
    tf_calls = child_calls(fake)
    check(tf_calls is not None, "strace saw the child try terraform")
    if tf_calls:
        lstat = [c for c in tf_calls if fake in c and "stat" in c.split("(")[0]]
        check(len(lstat) >= 1, "terraform: the full way (lstat of the program): %s" % tf_calls)
    check(not os.path.exists(marker), "the fake terraform never ran under strace")


def run_traced_memory(tmp):
    """A fork child's full check (terraform destroy, refused) maps nothing
    and unmaps nothing: the parent's fork hook mapped the check's scratch
    before the fork (guard.c, eg_guard_scratch_prepare), and the child's
    first check keeps its decoded regexes in that scratch (regex_lazy.c,
    check_cache_decode). Mapping and unmapping the scratch cost each such
    child an mmap and a munmap; the regex memory, one more mmap."""
    traced = trace(tmp, "mmap,munmap,madvise,execve,exit_group")
    if traced is None:
        return
    by_pid, fake, marker = traced
    # Each process ends in exit_group, so a child that maps nothing is seen.
    children = [c for c in by_pid.values() if c and not c[0].startswith("execve(")]
    tf = [c for c in children if not any(x.startswith('execve("/bin/true"') for x in c)]
    check(len(tf) == 1, "strace saw the child refused terraform (%d)" % len(tf))
    if len(tf) == 1:
        maps = [c for c in tf[0] if c.startswith(("mmap(", "munmap("))]
        check(not maps, "the terraform child's full check maps and unmaps nothing: %s" % tf[0])
    check(not os.path.exists(marker), "the fake terraform never ran under strace")


def run_traced_named(tmp):
    """A fork child's full check of a program the rules name, allowed (a fake
    git, a file, `git status`), makes no getcwd (no rule tried has a cwd
    condition), reads no link of the program (its lstat in the hook said
    it is none) and maps no memory for regexes (none runs: the arguments
    lack what each needs): in a fork child each system call and each stack page costs
    tens of microseconds on some machines. Through a symlink to it (as
    python3 -> python3.11), one lstat and the one readlink that resolves
    it. Each execs the fake."""
    git_dir = os.path.join(tmp, "gitbin")
    os.makedirs(os.path.join(git_dir, "link"))
    git = os.path.join(git_dir, "git")
    link = os.path.join(git_dir, "link", "git")
    os.symlink(git, link)
    ran = os.path.join(tmp, "git-ran")
    fake_program(git, ran)
    traced = trace(tmp, "getcwd,readlinkat,readlink,newfstatat,lstat,mmap,madvise,execve", TRACED_NAMED,
                   git)
    if traced is None:
        return
    by_pid, _, marker = traced

    def child_of(path):
        for calls in by_pid.values():
            for i, c in enumerate(calls):
                if c.startswith('execve("%s"' % path):
                    return calls[:i + 1]
        return None

    for path, want_links in ((git, 0), (link, 1)):
        child = child_of(path)
        check(child is not None, "strace saw the child exec %s" % path)
        if not child:
            continue
        lstat = [c for c in child if path in c and "stat" in c.split("(")[0]]
        check(len(lstat) == 1, "%s: the full way, one lstat of the program: %s" % (path, child))
        cwd = [c for c in child if c.startswith("getcwd(")]
        links = [c for c in child if c.startswith(("readlink(", "readlinkat("))]
        check(not cwd and len(links) == want_links,
              "%s status: no getcwd, %d readlink before the exec: %s" % (path, want_links, child))
        # no rule's regex runs: `status` holds none of the literals they
        # need (lib/regex_needs.h), so no regex memory is mapped
        maps = [c for c in child if c.startswith(("mmap(", "madvise("))]
        check(not maps, "%s status: no mmap or madvise before the exec: %s" % (path, child))
    try:
        with open(ran) as f:
            ran_text = f.read()
    except OSError:
        ran_text = ""
    check(ran_text == "status\nstatus\n", "git status ran twice (the fake git recorded it: %r)" % ran_text)
    check(not os.path.exists(marker), "the fake terraform never ran under strace")


def run_interposed(tmp):
    """With another library's execve hook preloaded after ours, a fork
    child's exec of /bin/true on the fast way goes through that hook (the
    fast way calls the next execve, never the system call itself), twice,
    and runs."""
    env = setup(tmp)[5]
    prog = os.path.join(tmp, "shimmed.py")
    with open(prog, "w") as f:
        f.write(SHIMMED)
    out = os.path.join(tmp, "shimmed.out")
    shim = os.path.join(os.environ["EG_TEST_BIN"], "eg_execve_shim.so")
    r = subprocess.run([EXECGUARD, "run", "--", sys.executable, prog, shim, out], env=env,
                       stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)
    check(r.returncode == 0, "the shimmed script exits 0 (%d)%s"
          % (r.returncode, "" if r.returncode == 0 else ": " + r.stderr[-300:]))
    try:
        with open(out) as f:
            preload, code = f.read().split("\n")[:2]
        with open(out + ".log") as f:
            log = f.read().split("\n")
    except (OSError, ValueError):
        check(False, "the shimmed script reported, and the shim logged")
        return
    check(preload.endswith(" " + shim) and code == "0",
          "under both libraries (%s), /bin/true runs (%s)" % (preload, code))
    check(log.count("execve /bin/true") == 2,
          "the other library's execve hook saw both execs of /bin/true: %s" % log)


def check_layout():
    """Each of the two hooks, and their fast way, lies in the first 64 KiB
    of the library, with the constructor: the window of code every
    guarded process has mapped, which a fork child's first page fault maps
    whole (the kernel's fault-around)."""
    nm = shutil.which("nm")
    if nm is None:
        print("skip the layout check: no nm")
        return
    out = subprocess.run([nm, "-S", "--defined-only", os.environ["EG_LIBRARY"]],
                         capture_output=True, text=True).stdout
    for name in ("execve", "execv", "eg_exec_fast_may"):
        m = re.search(r"^([0-9a-f]+) ([0-9a-f]+) [Tt] %s$" % name, out, re.M)
        check(m is not None, "%s is in the library's symbol table" % name)
        if m:
            start, size = int(m.group(1), 16), int(m.group(2), 16)
            check(start + size <= 0x10000,
                  "%s lies in the first 64 KiB (%#x, %d bytes)" % (name, start, size))


def main():
    check_layout()
    with tempfile.TemporaryDirectory(prefix="eg-execfast-") as tmp:
        os.makedirs(os.path.join(tmp, "cases"))
        os.makedirs(os.path.join(tmp, "traced"))
        os.makedirs(os.path.join(tmp, "traced-memory"))
        os.makedirs(os.path.join(tmp, "traced-named"))
        os.makedirs(os.path.join(tmp, "interposed"))
        run_cases(os.path.join(tmp, "cases"))
        run_traced(os.path.join(tmp, "traced"))
        run_traced_memory(os.path.join(tmp, "traced-memory"))
        run_traced_named(os.path.join(tmp, "traced-named"))
        run_interposed(os.path.join(tmp, "interposed"))
    print("%d failure(s)" % checks.failures)
    return 1 if checks.failures else 0


if __name__ == "__main__":
    sys.exit(main())
