#!/usr/bin/env python3
"""The loader binds three symbols of the preload library, and has no
dependency of it to look up and no version of it to check.

With -z now the loader binds every symbol a library imports when it loads
it, in every guarded process, whether that process ever execs or not: each
is a lookup through the global scope, and each version the library needs
from libc is a walk of libc's version definitions. Counted with a
single-stepping tracer, the six imports and two versions that went in the
twentieth round of issue 7 (major/minor/makedev from <sys/sysmacros.h>,
not inlined at -Os; strcat; lseek64; PCRE2's __stack_chk_fail) were 4,000
of the loader's instructions in each process, 40 % of what it spent on the
library. The library defines the system-call wrappers it needs
(lib/preload/libc_direct.c) and calls the rest lazily (libc_lazy.c): a
new import here is a regression, and this names it. What stays: errno's
location and environ (libc's, per thread and per process), and _r_debug
(the loader's list, where the constructor finds itself).

Since the twenty-first round the library is linked against no shared
object (lib/preload/meson.build): those three are found in the global
scope, so it names no DT_NEEDED and needs no version (the loader matched
each needed name against every object it had loaded, and checked each
version against libc's definitions: 3,900 of its instructions in each
process). A needed object or version here is a regression too.
"""
import os
import re
import subprocess
import sys

import checks
from checks import check

LIBRARY = os.environ["EG_LIBRARY"]

ALLOWED_IMPORTS = {"__errno_location", "environ", "_r_debug"}


def main():
    why = checks.binutils_skip(LIBRARY, ("readelf", "nm"), "imports its runtime")
    if why:
        print("skip: " + why)
        return 0
    relocs = subprocess.run(["readelf", "-rW", LIBRARY], capture_output=True, text=True).stdout
    bound = set()
    for line in relocs.splitlines():
        f = line.split()
        # offset info type value name[@version] + addend
        if len(f) >= 5 and f[2].startswith("R_X86_64_") and f[2] != "R_X86_64_RELATIVE":
            bound.add(f[4].split("@")[0])
    check(bound, "the loader binds some symbols of the library: %s" % ", ".join(sorted(bound)))
    for name in sorted(bound - ALLOWED_IMPORTS):
        check(False, "%s is imported: define it in libc_direct.c, call it lazily (libc_lazy.c), "
              "or avoid it" % name)
    check(bound <= ALLOWED_IMPORTS, "no import beyond %s" % ", ".join(sorted(ALLOWED_IMPORTS)))

    dynamic = subprocess.run(["readelf", "-dW", LIBRARY], capture_output=True, text=True).stdout
    check("(SONAME)" in dynamic, "readelf -d read the dynamic section")
    needed = re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", dynamic)
    check(not needed, "the library needs no shared object (needs: %s)" % ", ".join(needed))
    check("(VERNEED)" not in dynamic, "the library needs no symbol version")
    versions = subprocess.run(["readelf", "-VW", LIBRARY], capture_output=True, text=True).stdout
    needs = versions.split("Version needs section", 1)
    names = set(re.findall(r"Name: (\S+)", needs[1])) if len(needs) == 2 else set()
    check(not names, "no version needed (needed: %s)" % ", ".join(sorted(names)))

    # and it still loads: the three resolve in a program's global scope
    env = dict(os.environ, LD_PRELOAD=LIBRARY)
    for name in ("EXECGUARD_POLICY", "EXECGUARD_LIBRARY"):
        env.pop(name, None)
    r = subprocess.run(["/bin/sh", "-c", "exit 7"], env=env, capture_output=True, text=True)
    check(r.returncode == 7 and "error" not in r.stderr,
          "a program starts with the library preloaded (rc %d, %r)" % (r.returncode, r.stderr[:200]))
    print("%d failure(s)" % checks.failures)
    return 1 if checks.failures else 0


if __name__ == "__main__":
    sys.exit(main())
