"""One line a check, "ok   ..." or "FAIL ...", and the count of failures,
for the Python integration tests (import it as `checks`; the test's own
directory is on sys.path when it runs)."""

failures = 0


def check(ok, what):
    global failures
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failures += 1
