#!/usr/bin/env python3
"""Interactive programs on a pseudo-terminal, for test_workloads.sh.

  workload_tty.py less FILE [PREFIX...]
  workload_tty.py vim FILE [PREFIX...]

PREFIX (e.g. `execguard run --`) is put before the program. `less` shows
FILE and is quit with q; `vim` waits for FILE's first line ("first line"),
appends a line and writes the file. Prints what a human would notice: the
exit status, for less every byte it wrote to the terminal (as a hash and a length), whether the terminal's modes are the
ones it started with, and for vim the file afterwards. test_workloads.sh
runs it without and with the guard and compares: a library that touched
the terminal when nothing matched would show here.
"""
import fcntl
import hashlib
import os
import pty
import select
import struct
import sys
import termios
import time


def run(argv, keys, until, env):
    master, slave = pty.openpty()
    fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    initial = termios.tcgetattr(slave)
    pid = os.fork()
    if pid == 0:
        os.close(master)
        os.setsid()
        fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
        for fd in (0, 1, 2):
            os.dup2(slave, fd)
        os.close(slave)
        try:
            os.execvpe(argv[0], argv, env)
        finally:
            os._exit(127)
    out = b""
    deadline = time.monotonic() + 30
    sent = False
    status = None
    while time.monotonic() < deadline:
        r, _, _ = select.select([master], [], [], 0.05)
        if r:
            try:
                d = os.read(master, 65536)
            except OSError:
                d = b""
            out += d
        if not sent and until in out:
            # typed one key at a time, as a person would
            for k in keys:
                os.write(master, bytes([k]))
                time.sleep(0.01)
            sent = True
        p, st = os.waitpid(pid, os.WNOHANG)
        if p == pid:
            status = os.waitstatus_to_exitcode(st)
            while True:
                r, _, _ = select.select([master], [], [], 0.05)
                if not r:
                    break
                try:
                    d = os.read(master, 65536)
                except OSError:
                    break
                if not d:
                    break
                out += d
            break
    if status is None:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
        status = "hung"
    restored = termios.tcgetattr(slave) == initial
    os.close(master)
    os.close(slave)
    return status, out, restored


def main():
    prog, path, prefix = sys.argv[1], sys.argv[2], sys.argv[3:]
    env = dict(os.environ, TERM="xterm", LESSHISTFILE="-", LANG="C")
    env.pop("LESS", None)
    if prog == "less":
        status, out, restored = run(prefix + ["less", path], b"q", b"(END)", env)
        print("less status=%s bytes=%d sha256=%s modes-restored=%s"
              % (status, len(out), hashlib.sha256(out).hexdigest()[:16], restored))
    else:
        keys = b"Goappended by vim\x1b:wq\r"
        status, out, restored = run(prefix + ["vim", "-u", "NONE", "-i", "NONE", "-N", "-n", path],
                                    keys, b"first line", env)
        with open(path, "rb") as f:
            content = f.read()
        print("vim status=%s modes-restored=%s file=%r" % (status, restored, content))
    return 0


if __name__ == "__main__":
    sys.exit(main())
