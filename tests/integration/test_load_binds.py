#!/usr/bin/env python3
"""The loader binds three symbols of the preload library, and checks two
versions of libc's.

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

And a dynamically linked program that has no libc of its own (built with
-nostdlib, its own _start making the exit system call) still starts and
exits as it would without the library: the library names libc as needed,
so the loader brings libc along for its three symbols. Linked against no
shared object (tried in the twenty-first round: 3,900 fewer loader
instructions a process), it made such a program fail to start.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

import checks
from checks import check

LIBRARY = os.environ["EG_LIBRARY"]

ALLOWED_IMPORTS = {"__errno_location", "environ", "_r_debug"}
ALLOWED_VERSIONS = {"GLIBC_2.2.5", "GLIBC_ABI_DT_RELR"}


def libc_less():
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        print("skip the program without libc: no C compiler")
        return
    with tempfile.TemporaryDirectory(prefix="eg-nolibc.") as tmp:
        src, prog = os.path.join(tmp, "x.c"), os.path.join(tmp, "x")
        with open(src, "w") as f:
            f.write('void _start(void) { __asm__ volatile("mov $60, %eax; mov $7, %edi; syscall"); }\n')
        r = subprocess.run([cc, "-nostdlib", "-fPIE", "-pie", "-o", prog, src], capture_output=True, text=True)
        interp = subprocess.run(["readelf", "-lW", prog], capture_output=True, text=True).stdout
        if r.returncode != 0 or "INTERP" not in interp:
            print("skip the program without libc: it does not build as a dynamic program here")
            return
        plain = subprocess.run([prog], capture_output=True, text=True)
        env = {"PATH": "/usr/bin:/bin", "LD_PRELOAD": LIBRARY}
        guarded = subprocess.run([prog], env=env, capture_output=True, text=True)
        check(plain.returncode == 7 and guarded.returncode == 7 and guarded.stderr == "",
              "a dynamically linked program without libc starts with the library preloaded "
              "(rc %d without it, %d with it%s)" % (plain.returncode, guarded.returncode,
                                                   ": " + guarded.stderr.strip()[:200] if guarded.stderr else ""))


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

    versions = subprocess.run(["readelf", "-VW", LIBRARY], capture_output=True, text=True).stdout
    needs = versions.split("Version needs section", 1)
    needed = set(re.findall(r"Name: (\S+)", needs[1])) if len(needs) == 2 else set()
    check("GLIBC_2.2.5" in needed, "the library needs libc's base version (%s)"
          % ", ".join(sorted(needed)))
    check(needed <= ALLOWED_VERSIONS, "no version needed beyond %s (needed: %s)"
          % (", ".join(sorted(ALLOWED_VERSIONS)), ", ".join(sorted(needed))))
    libc_less()
    print("%d failure(s)" % checks.failures)
    return 1 if checks.failures else 0


if __name__ == "__main__":
    sys.exit(main())
