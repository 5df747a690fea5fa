"""One line a check, "ok   ..." or "FAIL ...", and the count of failures,
for the Python integration tests (import it as `checks`; the test's own
directory is on sys.path when it runs)."""

failures = 0


def check(ok, what):
    global failures
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failures += 1


def binutils_skip(library, tools, sanitized_why):
    """The reason a test that reads the built library with binutils cannot
    run (the tools missing, or a sanitized build: its runtime is called and
    imported from everywhere), or None."""
    import shutil
    import subprocess
    if not all(shutil.which(t) for t in tools):
        return "no binutils"
    undefined = subprocess.run(["nm", "-u", library], capture_output=True, text=True).stdout
    if "__asan_init" in undefined or "__tsan_init" in undefined:
        return "a sanitized build " + sanitized_why
    return None


def icount(tool, env, *args):
    """Run bench/icount (`tool`) on /bin/true with `args` in `env`, check it
    exits 0, and return its counts by file (the loader's, each library's,
    "total") and what it printed on stdout (the -s counts by address)."""
    import re
    import subprocess
    r = subprocess.run([tool, *args, "/bin/true"], capture_output=True, text=True, env=env, timeout=120)
    check(r.returncode == 0, "bench/icount %s exits 0 (%d: %s)"
          % (" ".join(args), r.returncode, r.stderr.strip()[-200:]))
    files = {m.group(2): int(m.group(1)) for m in re.finditer(r"^ *(\d+)  (.*)$", r.stderr, re.M)}
    return files, r.stdout
