#!/usr/bin/env python3
"""The table of where the wrapped functions lie in libc (lib/real_table.h),
which `execguard run` fills in its session copy of the library.

- the copy made holds the table filled: this libc's build ID, the offset of
  its dynamic section, an offset for each of the twelve functions, each
  where libc's own symbol table has it;
- a process on the copy takes the functions from the table: a copy whose
  table says `system` is where libc's `getpid` is makes os.system return
  the process's pid (the hook calls what the table gives);
- a table for another libc (its build ID or its dynamic section's offset
  changed) is not used: os.system then runs `true` and returns 0;
- the library as installed holds the table empty.

Runs no program but true, python3 and the execguard tool.
"""
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile

import checks
from checks import check

EXECGUARD = os.environ["EG_EXECGUARD"]
MAGIC = b"execguard-reals1"
# struct eg_real_table: magic[16], u64 ld_off, u32 id_len, id[32], u64 off[12]
LD_OFF, ID_LEN, ID, OFFS = 16, 24, 28, 64
NAMES = ["execve", "execveat", "fexecve", "execvpe", "posix_spawn@GLIBC_2.15", "posix_spawn@GLIBC_2.2.5",
         "posix_spawnp@GLIBC_2.15", "posix_spawnp@GLIBC_2.2.5", "system", "popen", "wordexp", "fork"]


def libc_path():
    with open("/proc/self/maps") as f:
        for line in f:
            path = line.split()[-1]
            if re.search(r"/libc\.so\.6$|/libc-[0-9.]+\.so$", path):
                return path
    return None


def libc_symbols(path):
    """name (name@version for the versioned ones we want) -> offset"""
    out = subprocess.run(["nm", "-D", "--defined-only", path], capture_output=True, text=True).stdout
    syms = {}
    for line in out.splitlines():
        f = line.split()
        if len(f) != 3:
            continue
        addr, name = int(f[0], 16), f[2]
        if "@@" in name:  # the default version: by its name alone too
            base, ver = name.split("@@")
            syms[base] = syms[base + "@" + ver] = addr
        else:
            syms[name] = addr
    return syms


def build_id(path):
    out = subprocess.run(["readelf", "-n", path], capture_output=True, text=True).stdout
    m = re.search(r"Build ID: ([0-9a-f]+)", out)
    return bytes.fromhex(m.group(1)) if m else None


def session_env(tmp):
    env = {"PATH": "/usr/bin:/bin", "HOME": tmp, "XDG_CACHE_HOME": os.path.join(tmp, "cache"),
           "XDG_CONFIG_HOME": os.path.join(tmp, "cfg"), "XDG_STATE_HOME": os.path.join(tmp, "state")}
    r = subprocess.run([EXECGUARD, "run", "--", "/usr/bin/env"], env=env, stdin=subprocess.DEVNULL,
                       capture_output=True, text=True, timeout=60)
    check(r.returncode == 0, "execguard run -- env exits 0 (%d)" % r.returncode)
    ours = dict(line.split("=", 1) for line in r.stdout.splitlines() if "=" in line)
    return env, {k: v for k, v in ours.items() if k == "LD_PRELOAD" or k.startswith("EXECGUARD_")}


def system_and_pid(env, ours, library):
    """os.system("true") and the pid of a python3 on `library`"""
    e = dict(env, **ours)
    e["LD_PRELOAD"] = library
    r = subprocess.run([sys.executable, "-c", "import os; print(os.system('true'), os.getpid())"],
                       env=e, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    f = r.stdout.split()
    return (int(f[0]), int(f[1])) if r.returncode == 0 and len(f) == 2 else (None, r.stderr[-300:])


def main():
    for tool in ("nm", "readelf"):
        if shutil.which(tool) is None:
            print("skip: no %s" % tool)
            return 0
    libc = libc_path()
    if libc is None:
        print("skip: no libc.so.6 in this process's mappings")
        return 0
    syms, libc_id = libc_symbols(libc), build_id(libc)
    with open(os.environ["EG_LIBRARY"], "rb") as f:
        installed = f.read()
    at = installed.find(MAGIC)
    check(at >= 0 and installed.find(MAGIC, at + 1) < 0, "the installed library holds one table")
    check(at >= 0 and installed[at + 16:at + OFFS + 8 * 12] == bytes(OFFS - 16 + 8 * 12),
          "... and it is empty")
    with tempfile.TemporaryDirectory(prefix="eg-realtable-") as tmp:
        env, ours = session_env(tmp)
        copy = ours.get("LD_PRELOAD", "")
        check(copy.startswith(os.path.join(tmp, "cache")), "the session runs on a copy (%s)" % copy)
        with open(copy, "rb") as f:
            img = bytearray(f.read())
        at = img.find(MAGIC)
        check(at >= 0 and img.find(MAGIC, at + 1) < 0, "the copy holds one table")
        if at < 0:
            return 1
        id_len = struct.unpack_from("<I", img, at + ID_LEN)[0]
        check(bytes(img[at + ID:at + ID + id_len]) == libc_id,
              "its build ID is this libc's (%s)" % bytes(img[at + ID:at + ID + id_len]).hex())
        check(struct.unpack_from("<Q", img, at + LD_OFF)[0] != 0, "it holds the dynamic section's offset")
        offs = struct.unpack_from("<12Q", img, at + OFFS)
        for name, off in zip(NAMES, offs):
            check(off != 0 and syms.get(name) == off,
                  "%s: at %#x, where libc's symbol table has it (%s)"
                  % (name, off, hex(syms[name]) if name in syms else None))

        rc, pid = system_and_pid(env, ours, copy)
        check(rc == 0 and isinstance(pid, int), "on the copy, os.system('true') returns 0 (%s, %s)" % (rc, pid))

        def patched(name, change):
            b = bytearray(img)
            change(b)
            path = os.path.join(tmp, name, "libexecguard.so")
            os.makedirs(os.path.dirname(path))
            with open(path, "wb") as f:
                f.write(b)
            return path

        def system_is_getpid(b):
            struct.pack_into("<Q", b, at + OFFS + 8 * NAMES.index("system"), syms["getpid"])

        def and_other_id(b):
            system_is_getpid(b)
            b[at + ID] ^= 1

        def and_other_ld(b):
            system_is_getpid(b)
            struct.pack_into("<Q", b, at + LD_OFF, struct.unpack_from("<Q", b, at + LD_OFF)[0] + 8)

        rc, pid = system_and_pid(env, ours, patched("getpid", system_is_getpid))
        check(rc is not None and rc == pid,
              "a table that puts system at getpid: os.system returns the pid (%s, %s)" % (rc, pid))
        for name, change in (("other-id", and_other_id), ("other-ld", and_other_ld)):
            rc, pid = system_and_pid(env, ours, patched(name, change))
            check(rc == 0 and isinstance(pid, int),
                  "%s: the table is not used, os.system('true') returns 0 (%s, %s)" % (name, rc, pid))
    print("%d failure(s)" % checks.failures)
    return 1 if checks.failures else 0


if __name__ == "__main__":
    sys.exit(main())
