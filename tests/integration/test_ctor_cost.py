#!/usr/bin/env python3
"""What loading the library costs a process that never execs, counted in
instructions (bench/icount single-steps /bin/true), not timed.

On this project's development machine a guarded /bin/true child pays for
the library twice: the loader's work on it, and the constructor's. Side by
side, a copy of the session library with its constructor switched off
measured 0.6-1.0 % over the empty library and the whole 1.5-2.4 % (the
twenty-first round, README): the constructor's work is time, instruction
for instruction (a spin of as many cycles cost the same). So its count is
kept, in an environment of fixed size (the session's variables, HOME and
PATH): the constructor under `execguard run` under 8,000 instructions (it
was 11,050 before the twenty-first round, 6,120 after, on the release
build in `env -i`; about 12,000 and 6,800 here), and the loader under
7,000 more than for the empty library given the same environment (about
5,500 here: our relocations, the three symbols bound, our two needed
objects and two versions; test_load_binds.py says which). Generous
margins: a compiler or libc may move the counts by hundreds; a change that
brings back a byte-by-byte walk of a path, or imports much more, shows.
Runs only /bin/true.
"""
import os
import subprocess
import sys
import tempfile

import checks
from checks import check

BUILD = os.environ["EG_BUILD_ROOT"]
EXECGUARD = os.environ["EG_EXECGUARD"]
ICOUNT = os.path.join(BUILD, "bench", "icount")
EMPTY = os.path.join(BUILD, "bench", "empty_preload.so")
CTOR_MAX = 8000
LOADER_MORE_MAX = 7000


def main():
    if not os.access(ICOUNT, os.X_OK):
        print("skip: no bench/icount")
        return 0
    with tempfile.TemporaryDirectory(prefix="eg-ctor-cost.") as tmp:
        base = {"HOME": tmp, "PATH": "/usr/bin:/bin", "XDG_CONFIG_HOME": tmp + "/config",
                "XDG_CACHE_HOME": tmp + "/cache", "XDG_STATE_HOME": tmp + "/state"}
        r = subprocess.run([EXECGUARD, "run", "--", "/usr/bin/env"], env=base, capture_output=True,
                           text=True, timeout=120, stdin=subprocess.DEVNULL)
        check(r.returncode == 0, "execguard run -- env exits 0 (%d: %s)" % (r.returncode, r.stderr[-300:]))
        ours = dict(line.split("=", 1) for line in r.stdout.splitlines()
                    if line.startswith(("LD_PRELOAD=", "EXECGUARD_")))
        library = ours.get("LD_PRELOAD", "")
        check(library.startswith(tmp + "/cache/"), "the session runs on a copy of the library (%s)" % library)
        session = {"HOME": tmp, "PATH": "/usr/bin:/bin", **ours}
        guarded, _ = checks.icount(ICOUNT, session)
        empty, _ = checks.icount(ICOUNT, dict(session, LD_PRELOAD=EMPTY))
        loader = [f for f in guarded if "ld-linux" in f]
        check(len(loader) == 1 and library in guarded and EMPTY in empty,
              "counted the loader and each library (%s; %s)" % (guarded, empty))
        if len(loader) != 1 or library not in guarded or EMPTY not in empty:
            return 1
        ctor = guarded[library]
        more = guarded[loader[0]] - empty[loader[0]]
        print("constructor %d instructions; loader %d more than for the empty library" % (ctor, more))
        check(ctor < CTOR_MAX, "the constructor runs %d instructions, under %d" % (ctor, CTOR_MAX))
        check(more < LOADER_MORE_MAX, "the loader runs %d instructions more for the library than for the "
              "empty one, under %d" % (more, LOADER_MORE_MAX))
    print("%d failure(s)" % checks.failures)
    return 1 if checks.failures else 0


if __name__ == "__main__":
    sys.exit(main())
