#!/usr/bin/env python3
"""The preload library's hot text calls nothing outside it but rare paths.

What every guarded process runs (the constructor, the hooks) and what the
first check of a program the rules name runs lie in .text.hot_path, the
library's first 128 KiB of code (lib/preload/hot_path.ld): two windows of the
kernel's fault-around. A function called from there that lies elsewhere is
a third window, a page fault and 64 KiB more of resident memory in every
process that takes that way; the library is built for size, so the compiler
keeps small helpers out of line where it used to inline them. This reads
the built library's disassembly (objdump) and lists every direct call or
jump from that section to a function outside it: each must be one of the
rare ways named below (a refusal, a question, an error, an audit record,
valgrind's or a loader's odd setups, PCRE2's compiler and JIT), or be
marked EG_HOT_TEXT (lib/hot_text.h). test_session_copy.sh measures what a
first check maps; this catches a new callee before any run takes it.
"""
import os
import re
import subprocess
import sys

import checks
from checks import check

LIBRARY = os.environ["EG_LIBRARY"]

# Called from the hot text, on ways a guarded process rarely takes.
RARE = {
    "approved_by_parent",      # a session's approval passed to a child
    "audit_exec",              # audit-execs: every exec recorded
    "decided",                 # a rule applies: confirm, deny, log
    "eg_refuse_env_not_built", # an environment that cannot be re-injected
    "in_ld_so_preload",        # loaded from /etc/ld.so.preload
    "kept_realpath",           # an LD_PRELOAD entry that is not our path
    "token_resolves_to_self",  # ... literally (valgrind adds its own)
    "real_sym_dl",             # a libc whose symbol tables cannot tell
    "set_load_error",          # a policy missing or damaged
    "dlsym",                   # the lazy libc stubs' fallback
    "malloc", "free",          # PCRE2's default allocator (we pass our own)
    "__ctype_b_loc",           # PCRE2's glob conversion
    "__stack_chk_fail",        # PCRE2's stack protector (Debian's build)
    "cache_create",            # regex memory: a process's second check that runs a regex
    "compile_source",          # a regex without a usable stored code
    "decode_alone",            # a stored code too large for a stage (no pack has one)
    "overflow_get",            # more than 64 regexes kept in one process
}
# PCRE2's compiler, JIT and the opcodes few patterns use
RARE_PREFIXES = ("_pcre2_", "pcre2_jit_")


def section_range(lib, name):
    out = subprocess.run(["readelf", "-SW", lib], capture_output=True, text=True).stdout
    for line in out.splitlines():
        f = line.replace("[ ", "[").split()
        if len(f) > 5 and f[1] == name:
            return int(f[3], 16), int(f[3], 16) + int(f[5], 16)
    return None


def function_starts(lib):
    out = subprocess.run(["nm", "--defined-only", lib], capture_output=True, text=True).stdout
    starts = {}
    for line in out.splitlines():
        f = line.split()
        if len(f) == 3 and f[1] in "tT":
            starts.setdefault(int(f[0], 16), f[2])
    return starts


def main():
    why = checks.binutils_skip(LIBRARY, ("objdump", "readelf", "nm"), "calls its runtime from everywhere")
    if why:
        print("skip: " + why)
        return 0
    hot = section_range(LIBRARY, ".text.hot_path")
    check(hot is not None, "the library has a .text.hot_path section")
    if hot is None:
        return 1
    starts = function_starts(LIBRARY)
    check(len(starts) > 100, "the library's symbol table lists its functions (%d)" % len(starts))
    dis = subprocess.run(["objdump", "-d", "--no-show-raw-insn", "--start-address=%d" % hot[0],
                          "--stop-address=%d" % hot[1], LIBRARY],
                         capture_output=True, text=True).stdout
    caller, outside = None, {}
    for line in dis.splitlines():
        m = re.match(r"^[0-9a-f]+ <(.*)>:", line)
        if m:
            caller = m.group(1)
            continue
        m = re.match(r"\s*[0-9a-f]+:\s+(call|jmp)\s+([0-9a-f]+) <", line)
        if not m:
            continue
        target = int(m.group(2), 16)
        # a function's start only: the jump tables PCRE2's match keeps in
        # this section disassemble as nonsense
        if hot[0] <= target < hot[1] or target not in starts:
            continue
        outside.setdefault(starts[target], set()).add(caller)
    check(len(outside) > 0, "some calls leave the hot text (the rare ways): %d callees" % len(outside))
    for callee, callers in sorted(outside.items()):
        name = callee.split("@")[0]
        ok = (name in RARE or name.startswith(RARE_PREFIXES) or name.endswith(".cold")
              or ".cold." in name)
        check(ok, "%s, outside the hot text, is called from %s%s"
              % (callee, ", ".join(sorted(callers)[:4]),
                 "" if ok else ": mark it EG_HOT_TEXT, or name it here if its way is rare"))
    print("%d failure(s)" % checks.failures)
    return 1 if checks.failures else 0


if __name__ == "__main__":
    sys.exit(main())
