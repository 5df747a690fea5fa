#!/usr/bin/env python3
"""The confirm prompt, driven through a real pseudo-terminal.

Every case starts `execguard run -- ...` as the session leader of a fresh
pty (setsid + TIOCSCTTY, so the pty is its controlling terminal and it is
the foreground process group) and types the answers a person would type on
the master side. The destructive tools are fakes (a temp dir first in PATH)
that append a line to a log: the log says whether the command ran.

No case asserts on wall-clock time; waits are upper bounds only.

Environment (set by meson): EG_EXECGUARD, EG_LIBRARY, EG_SOURCE_ROOT.
Output: TAP.
"""
import fcntl
import os
import pty
import re
import select
import shutil
import signal
import struct
import sys
import tempfile
import termios
import time
import traceback

EXECGUARD = os.environ.get("EG_EXECGUARD", "")
TEST_BIN = os.environ.get("EG_TEST_BIN", "")
SOURCE_ROOT = os.environ.get("EG_SOURCE_ROOT", "")
WAIT = 20.0  # upper bound for anything to appear

QUESTION = b"Type 'yes' to run it, anything else refuses: "


class Fail(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Fail(msg)


class World:
    """A temp dir with fake tools first in PATH and a private config."""

    def __init__(self):
        self.root = tempfile.mkdtemp(prefix="eg-prompt-")
        self.bin = os.path.join(self.root, "bin")
        self.log = os.path.join(self.root, "ran.log")
        self.work = os.path.join(self.root, "work dir")  # a blank, to see quoting
        for d in (self.bin, self.work, "home", "config", "state", "cache", "sysrules"):
            os.makedirs(os.path.join(self.root, d), exist_ok=True)
        run = os.path.join(self.root, "run")
        os.makedirs(run, mode=0o700, exist_ok=True)
        for tool in ("terraform", "dropdb"):
            p = os.path.join(self.bin, tool)
            with open(p, "w") as f:
                f.write("#!/bin/sh\nprintf '%%s\\n' \"%s $*\" >> '%s'\n" % (tool, self.log))
            os.chmod(p, 0o755)
        self.env = {
            "PATH": self.bin + ":" + os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": os.path.join(self.root, "home"),
            "XDG_CONFIG_HOME": os.path.join(self.root, "config"),
            "XDG_STATE_HOME": os.path.join(self.root, "state"),
            "XDG_CACHE_HOME": os.path.join(self.root, "cache"),
            "XDG_RUNTIME_DIR": run,
            "EXECGUARD_SYSTEM_DIR": os.path.join(self.root, "sysrules"),
            "EXECGUARD_PACKS_DIR": os.path.join(SOURCE_ROOT, "patterns"),
            "TERM": "xterm",
            "LANG": "C.UTF-8",
        }

    def reset_log(self):
        if os.path.exists(self.log):
            os.unlink(self.log)

    def ran(self):
        if not os.path.exists(self.log):
            return []
        with open(self.log) as f:
            return f.read().splitlines()

    def cleanup(self):
        shutil.rmtree(self.root, ignore_errors=True)


class Session:
    """One program on a fresh pty, as the foreground job of a new session."""

    def __init__(self, world, argv, env=None, modes=None, background=False, stderr_file=None):
        self.master, self.slave = pty.openpty()
        fcntl.ioctl(self.master, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
        if modes is not None:
            termios.tcsetattr(self.slave, termios.TCSANOW, modes)
        self.initial = termios.tcgetattr(self.slave)
        self.out = b""
        self.status = None
        e = dict(world.env)
        e.update(env or {})
        pid = os.fork()
        if pid == 0:
            try:
                os.close(self.master)
                os.setsid()
                fcntl.ioctl(self.slave, termios.TIOCSCTTY, 0)
                for fd in (0, 1, 2):
                    os.dup2(self.slave, fd)
                if self.slave > 2:
                    os.close(self.slave)
                os.chdir(world.work)
                if background:
                    # A job in its own process group: not the foreground.
                    child = os.fork()
                    if child == 0:
                        os.setpgid(0, 0)
                        if stderr_file:
                            fd = os.open(stderr_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
                            os.dup2(fd, 2)
                        os.execvpe(argv[0], argv, e)
                    _, st = os.waitpid(child, 0)
                    os._exit(os.waitstatus_to_exitcode(st) & 0xFF)
                if stderr_file:
                    fd = os.open(stderr_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
                    os.dup2(fd, 2)
                os.execvpe(argv[0], argv, e)
            except BaseException:
                traceback.print_exc()
            os._exit(127)
        self.pid = pid

    def _pump(self, timeout):
        r, _, _ = select.select([self.master], [], [], timeout)
        if r:
            try:
                d = os.read(self.master, 65536)
            except OSError:
                d = b""
            self.out += d
            return bool(d)
        return False

    def _reap(self):
        if self.status is None:
            p, st = os.waitpid(self.pid, os.WNOHANG)
            if p == self.pid:
                self.status = os.waitstatus_to_exitcode(st)
        return self.status is not None

    @staticmethod
    def _find_end(hay, pattern):
        """End offset of the first match in hay, or -1."""
        if hasattr(pattern, "search"):
            m = pattern.search(hay)
            return m.end() if m else -1
        i = hay.find(pattern)
        return i + len(pattern) if i >= 0 else -1

    def expect(self, pattern, timeout=WAIT, start=0):
        """Wait until `pattern` (bytes or compiled regex) is in the output;
        return the offset just past the match (data after it may already
        have arrived in the same read)."""
        deadline = time.monotonic() + timeout
        while True:
            end = self._find_end(self.out[start:], pattern)
            if end >= 0:
                return start + end
            if time.monotonic() > deadline:
                raise Fail("timed out waiting for %r; output so far:\n%s" % (pattern, self.text()))
            if not self._pump(0.05) and self._reap():
                # drain what is left, then one last look
                while self._pump(0.05):
                    pass
                end = self._find_end(self.out[start:], pattern)
                if end >= 0:
                    return start + end
                raise Fail("process ended (status %r) before %r; output:\n%s"
                           % (self.status, pattern, self.text()))

    def absent_for(self, pattern, seconds, start=0):
        """Read for a while; `pattern` must not show up (count-based)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self._pump(0.05)
        return pattern not in self.out[start:]

    def send(self, data):
        os.write(self.master, data)

    def wait(self, timeout=WAIT):
        deadline = time.monotonic() + timeout
        while not self._reap():
            if time.monotonic() > deadline:
                os.kill(self.pid, signal.SIGKILL)
                raise Fail("process did not end; output:\n%s" % self.text())
            self._pump(0.05)
        while self._pump(0.05):
            pass
        return self.status

    def modes(self):
        return termios.tcgetattr(self.slave)

    def text(self):
        return self.out.decode("utf-8", "replace")

    def close(self):
        if self.status is None:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            try:
                os.waitpid(self.pid, 0)
            except ChildProcessError:
                pass
        for fd in (self.master, self.slave):
            try:
                os.close(fd)
            except OSError:
                pass


def guarded(*cmd):
    return [EXECGUARD, "run", "--"] + list(cmd)


def bash_c(script):
    return guarded("bash", "-c", script)


def asking_pid(s):
    m = re.search(rb"asked by: .*?\(pid (\d+)\)", s.out)
    check(m, "no pid in the question:\n" + s.text())
    return int(m.group(1))


def modes_equal(a, b):
    return a == b


# ---------------------------------------------------------------- the cases

def answer_case(w, answer, approved, result_re, cmd="terraform destroy; echo rc=$?"):
    w.reset_log()
    s = Session(w, bash_c(cmd))
    try:
        s.expect(QUESTION)
        pos = len(s.out)
        s.send(answer)
        s.expect(re.compile(result_re), start=pos)
        s.expect(b"rc=", start=pos)
        s.wait()
        check(s.modes() == s.initial, "terminal modes not restored")
        if approved:
            check(w.ran() == ["terraform destroy"], "tool should have run once: %r" % w.ran())
            check(b"rc=0" in s.out[pos:], "approved command failed:\n" + s.text())
        else:
            check(w.ran() == [], "tool ran although refused: %r" % w.ran())
            check(b"rc=126" in s.out[pos:], "refusal not reported as 126:\n" + s.text())
        return s
    finally:
        s.close()


def t_yes(w):
    answer_case(w, b"yes\r", True, rb"execguard: approved")


def t_yes_echoed(w):
    w.reset_log()
    s = Session(w, bash_c("terraform destroy; echo rc=$?"))
    try:
        s.expect(QUESTION)
        pos = len(s.out)
        s.send(b"ye")
        s.expect(b"ye", start=pos)  # what is typed is echoed
        s.send(b"s\r")
        s.expect(b"execguard: approved", start=pos)
        s.wait()
        check(w.ran() == ["terraform destroy"], "tool should have run once")
    finally:
        s.close()


def t_no(w):
    answer_case(w, b"no\r", False, rb"execguard: refused \(only 'yes' approves\)")


def t_empty(w):
    answer_case(w, b"\r", False, rb"execguard: refused")


def t_uppercase(w):
    answer_case(w, b"YES\r", False, rb"execguard: refused \(only 'yes' approves\)")


def t_y(w):
    answer_case(w, b"y\r", False, rb"execguard: refused")


def t_blanks_around(w):
    # documented: blanks around the word are ignored, nothing else is
    answer_case(w, b"  yes \r", True, rb"execguard: approved")


def t_line_editing(w):
    # "nox", erase, Ctrl-U, then yes: the line as edited counts
    answer_case(w, b"nox\x7f\x15yes\r", True, rb"execguard: approved")


def t_yes_then_more(w):
    answer_case(w, b"yess\r", False, rb"execguard: refused")


def t_ctrl_c(w):
    # Ctrl-C answers no and kills nothing: bash goes on and prints rc=126
    answer_case(w, b"ye\x03", False, rb"execguard: refused \(Ctrl-C\)")


def t_ctrl_backslash(w):
    answer_case(w, b"\x1c", False, rb"execguard: refused \(Ctrl-\\\)")


def t_ctrl_d(w):
    answer_case(w, b"\x04", False, rb"execguard: refused \(Ctrl-D\)")


def t_ctrl_z(w):
    # not stopped: the host program carries on at once
    answer_case(w, b"\x1a", False, rb"execguard: refused \(Ctrl-Z\)")


def t_timeout(w):
    w.reset_log()
    s = Session(w, bash_c("terraform destroy; echo rc=$?"), env={"EXECGUARD_PROMPT_TIMEOUT": "2"})
    try:
        s.expect(QUESTION)
        s.expect(b"execguard: refused (no answer within 2 s)")
        s.expect(b"rc=126")
        s.wait()
        check(w.ran() == [], "ran after a timeout")
        check(s.modes() == s.initial, "terminal modes not restored")
    finally:
        s.close()


def t_timeout_setting(w):
    # `set prompt-timeout` in a rule file replaces the default of 120 s
    w.reset_log()
    d = w.env["EXECGUARD_SYSTEM_DIR"]
    os.makedirs(d, exist_ok=True)
    conf = os.path.join(d, "settings.rules")
    with open(conf, "w") as f:
        f.write("set prompt-timeout 2\n")
    s = Session(w, bash_c("terraform destroy; echo rc=$?"))
    try:
        s.expect(QUESTION)
        s.expect(b"execguard: refused (no answer within 2 s)")
        s.expect(b"rc=126")
        s.wait()
        check(w.ran() == [], "ran after a timeout")
    finally:
        s.close()
        os.unlink(conf)


def t_typed_ahead(w):
    """`yes` typed before the question appeared is thrown away."""
    w.reset_log()
    go = os.path.join(w.root, "go")
    if os.path.exists(go):
        os.unlink(go)
    script = ("echo READY; while [ ! -e '%s' ]; do sleep 0.05; done; terraform destroy; echo rc=$?"
              % go)
    s = Session(w, bash_c(script), env={"EXECGUARD_PROMPT_TIMEOUT": "2"})
    try:
        s.expect(b"READY")
        s.send(b"yes\r")
        time.sleep(0.2)  # let the line reach the terminal's input queue
        open(go, "w").close()
        s.expect(QUESTION)
        s.expect(b"execguard: refused (no answer within 2 s)")
        s.wait()
        check(w.ran() == [], "a typed-ahead yes approved the command")
    finally:
        s.close()


def t_shows_everything(w):
    w.reset_log()
    s = Session(w, bash_c("terraform -chdir='my infra' destroy; echo rc=$?"))
    try:
        s.expect(QUESTION)
        t = s.text()
        check("execguard: this command needs your approval" in t, "no title")
        check("command:  terraform '-chdir=my infra' destroy" in t
              or "command:  terraform -chdir='my infra' destroy" in t, "command not shown quoted:\n" + t)
        check("cwd:      " + w.work in t, "cwd not shown:\n" + t)
        check(re.search(r"rule:     terraform\.destroy  \(\S*terraform\.rules:\d+\)", t),
              "rule id and file:line not shown:\n" + t)
        check("reason:   Destroys every resource" in t, "reason not shown:\n" + t)
        check(re.search(r"asked by: \S+ \(pid \d+\)", t), "asking process not shown:\n" + t)
        s.send(b"no\r")
        s.wait()
    finally:
        s.close()


def t_critical_word(w):
    w.reset_log()
    # The wrong word is a refusal, and a refusal is remembered for the
    # session (refuse-cooldown): switched off to see the second question.
    conf = os.path.join(w.env["EXECGUARD_SYSTEM_DIR"], "settings.rules")
    with open(conf, "w") as f:
        f.write("set refuse-cooldown 0\n")
    s = Session(w, bash_c("dropdb orders; echo rc=$?; dropdb orders; echo rc=$?"))
    try:
        s.expect(b"Type the name 'orders' to run it: ")
        check(QUESTION not in s.out, "critical rule asked for yes")
        pos = len(s.out)
        s.send(b"yes\r")
        s.expect(b"execguard: refused (only 'orders' approves)", start=pos)
        pos = s.expect(b"rc=126", start=pos)
        s.expect(b"Type the name 'orders' to run it: ", start=pos)
        s.send(b"orders\r")
        s.expect(b"execguard: approved", start=pos)
        s.wait()
        check(w.ran() == ["dropdb orders"], "dropdb should have run once: %r" % w.ran())
    finally:
        s.close()
        os.unlink(conf)


def t_background(w):
    """A job outside the terminal's foreground group is refused, not stopped,
    and the terminal is neither written nor reconfigured."""
    w.reset_log()
    err = os.path.join(w.root, "bg.err")
    s = Session(w, bash_c("terraform destroy; echo rc=$?"), background=True, stderr_file=err)
    try:
        status = s.wait()
        check(b"Type" not in s.out, "a background job asked on the terminal:\n" + s.text())
        check(b"rc=126" in s.out, "background job not refused:\n" + s.text())
        with open(err) as f:
            msg = f.read()
        check(re.search(r"foreground|another job", msg), "message does not say why:\n" + msg)
        check(w.ran() == [], "ran from the background")
        check(s.modes() == s.initial, "terminal modes changed by a background job")
        check(status == 0, "session leader status %r" % status)
    finally:
        s.close()


def t_modes_restored_from_raw(w):
    """A TUI agent keeps the terminal raw: the prompt works and puts it back."""
    w.reset_log()
    m, sl = pty.openpty()
    raw = termios.tcgetattr(sl)
    os.close(m)
    os.close(sl)
    raw[3] &= ~(termios.ICANON | termios.ECHO | termios.ISIG | termios.IEXTEN)
    raw[1] &= ~termios.OPOST
    raw[0] &= ~termios.ICRNL
    raw[6][termios.VMIN] = 1
    raw[6][termios.VTIME] = 0
    s = Session(w, bash_c("terraform destroy; echo rc=$?"), modes=raw)
    try:
        s.expect(QUESTION)
        pos = len(s.out)
        s.send(b"yes\r")
        s.expect(b"execguard: approved", start=pos)
        s.wait()
        check(w.ran() == ["terraform destroy"], "tool should have run once")
        check(s.modes() == s.initial, "raw modes not restored")
    finally:
        s.close()


def t_sigterm(w):
    """SIGTERM during the question: no, terminal restored, then the signal
    takes its normal effect (the asking process dies of it)."""
    w.reset_log()
    s = Session(w, bash_c("terraform destroy; echo rc=$?"))
    try:
        s.expect(QUESTION)
        pid = asking_pid(s)
        os.kill(pid, signal.SIGTERM)
        s.expect(b"execguard: refused (interrupted by a signal)")
        s.expect(b"rc=143")  # 128 + SIGTERM: the signal was delivered after the restore
        s.wait()
        check(w.ran() == [], "ran after SIGTERM")
        check(s.modes() == s.initial, "terminal modes not restored after SIGTERM")
    finally:
        s.close()


def t_sigint_kill(w):
    """kill -INT (not the key) during the question: no, restored."""
    w.reset_log()
    s = Session(w, bash_c("terraform destroy; echo rc=$?"))
    try:
        s.expect(QUESTION)
        os.kill(asking_pid(s), signal.SIGINT)
        s.expect(b"execguard: refused (interrupted by a signal)")
        s.expect(b"rc=130")
        s.wait()
        check(w.ran() == [], "ran after SIGINT")
        check(s.modes() == s.initial, "terminal modes not restored after SIGINT")
    finally:
        s.close()


def t_sigwinch(w):
    """A window resize during the question changes nothing, also in a
    program with a SIGWINCH handler (poll is interrupted, the question goes on)."""
    w.reset_log()
    code = ("import os, signal\n"
            "signal.signal(signal.SIGWINCH, lambda *a: None)\n"
            "os.execvp('terraform', ['terraform', 'destroy'])\n")
    s = Session(w, guarded("python3", "-c", code))
    try:
        s.expect(QUESTION)
        pos = len(s.out)
        fcntl.ioctl(s.master, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
        pid = asking_pid(s)
        for _ in range(3):
            os.kill(pid, signal.SIGWINCH)
        check(s.absent_for(b"execguard:", 0.5, start=pos), "a resize ended the question")
        s.send(b"yes\r")
        s.expect(b"execguard: approved", start=pos)
        s.wait()
        check(w.ran() == ["terraform destroy"], "tool should have run once")
        check(s.modes() == s.initial, "terminal modes not restored")
    finally:
        s.close()


def t_hangup(w):
    """The terminal goes away mid-question: refused, nobody hangs."""
    w.reset_log()
    err = os.path.join(w.root, "hup.err")
    s = Session(w, bash_c("terraform destroy"), stderr_file=err)
    try:
        s.expect(QUESTION)
        os.close(s.master)
        s.master = os.open("/dev/null", os.O_RDONLY)  # keep close() simple
        s.wait()
        check(w.ran() == [], "ran after a hangup")
        with open(err) as f:
            msg = f.read()
        # The hangup also sends SIGHUP, which ends the asking process once
        # the terminal is restored; if it got to write its refusal first,
        # the refusal must name the terminal failure.
        check(msg == "" or "terminal error" in msg,
              "refusal does not say the terminal failed:\n" + msg)
    finally:
        s.close()


def t_concurrent(w):
    """make -j2 with two dangerous targets: one question at a time."""
    w.reset_log()
    mk = os.path.join(w.work, "Makefile")
    with open(mk, "w") as f:
        f.write("all: a b\n"
                "a:\n\tterraform destroy -target=a; echo a-rc=$$?\n"
                "b:\n\tterraform destroy -target=b; echo b-rc=$$?\n")
    s = Session(w, guarded("make", "-s", "-j2"))
    try:
        s.expect(QUESTION)
        check(s.absent_for(QUESTION, 1.5, start=s.out.index(QUESTION) + 1),
              "two questions on screen at once:\n" + s.text())
        first = b"target=a" if b"destroy -target=a" in s.out else b"target=b"
        pos = len(s.out)
        s.send(b"yes\r")
        s.expect(b"execguard: approved", start=pos)
        s.expect(QUESTION, start=pos)
        pos2 = len(s.out)
        s.send(b"no\r")
        s.expect(b"execguard: refused", start=pos2)
        s.wait()
        check(s.out.count(QUESTION) == 2, "expected two questions:\n" + s.text())
        check(w.ran() == ["terraform destroy -" + first.decode()],
              "exactly the approved one should have run: %r" % w.ran())
        check(s.modes() == s.initial, "terminal modes not restored")
    finally:
        s.close()


def t_once_bash_c(w):
    """`execguard run -- bash -c 'terraform destroy'` asks exactly once."""
    w.reset_log()
    s = Session(w, bash_c("terraform destroy"))
    try:
        s.expect(QUESTION)
        s.send(b"yes\r")
        s.wait()
        check(s.out.count(b"needs your approval") == 1, "asked more than once:\n" + s.text())
        check(w.ran() == ["terraform destroy"], "tool should have run once: %r" % w.ran())
        check(s.status == 0, "status %r" % s.status)
    finally:
        s.close()


def t_once_run_direct(w):
    """`execguard run -- terraform destroy`: run checks CMD itself, once."""
    w.reset_log()
    s = Session(w, guarded("terraform", "destroy"))
    try:
        s.expect(QUESTION)
        s.send(b"yes\r")
        s.wait()
        check(s.out.count(b"needs your approval") == 1, "asked more than once:\n" + s.text())
        check(w.ran() == ["terraform destroy"], "tool should have run once: %r" % w.ran())
    finally:
        s.close()


def t_run_refused_126(w):
    w.reset_log()
    s = Session(w, guarded("terraform", "destroy"))
    try:
        s.expect(QUESTION)
        s.send(b"no\r")
        status = s.wait()
        check(status == 126, "execguard run should exit 126 when refused, got %r" % status)
        check(w.ran() == [], "ran although refused")
    finally:
        s.close()


def t_once_nested_run(w):
    """A nested `execguard run` inside a guarded session asks once."""
    w.reset_log()
    s = Session(w, bash_c("'%s' run -- terraform destroy; echo rc=$?" % EXECGUARD))
    try:
        s.expect(QUESTION)
        s.send(b"yes\r")
        s.expect(b"rc=")
        s.wait()
        check(s.out.count(b"needs your approval") == 1, "asked more than once:\n" + s.text())
        check(w.ran() == ["terraform destroy"], "tool should have run once: %r" % w.ran())
    finally:
        s.close()


def t_python_vfork_child(w):
    """python3 subprocess (the question is asked in its vfork child)."""
    w.reset_log()
    code = ("import subprocess\n"
            "r = subprocess.run(['terraform', 'destroy'])\n"
            "print('py-rc=%d' % r.returncode)\n")
    s = Session(w, guarded("python3", "-c", code))
    try:
        s.expect(QUESTION)
        pos = len(s.out)
        s.send(b"yes\r")
        s.expect(b"py-rc=0", start=pos)
        s.wait()
        check(w.ran() == ["terraform destroy"], "tool should have run once: %r" % w.ran())
        check(s.out.count(b"needs your approval") == 1, "asked more than once:\n" + s.text())
        check(s.modes() == s.initial, "terminal modes not restored")
    finally:
        s.close()


def t_benign_untouched(w):
    w.reset_log()
    s = Session(w, bash_c("terraform plan; echo rc=$?"))
    try:
        s.expect(b"rc=0")
        s.wait()
        check(b"approval" not in s.out, "asked for a harmless command")
        check(w.ran() == ["terraform plan"], "benign command did not run")
        check(s.modes() == s.initial, "terminal modes changed")
    finally:
        s.close()


def t_popen_once(w):
    """popen asks once, in the caller, for the whole line; the shell it
    starts stays guarded: a script that shell runs is asked about anew."""
    w.reset_log()
    script = os.path.join(w.root, "cleanup.sh")
    with open(script, "w") as f:
        f.write("#!/bin/sh\ndropdb prod\necho cleanup-rc=$?\n")
    os.chmod(script, 0o755)
    driver = os.path.join(TEST_BIN, "eg_exec_variants")
    s = Session(w, guarded(driver, "popen", "terraform destroy; '%s'" % script))
    try:
        pos = s.expect(QUESTION)
        check(b"terraform destroy; " in s.out, "popen's whole line not shown:\n" + s.text())
        s.send(b"yes\r")
        pos = s.expect(b"Type the name 'prod' to run it: ", start=pos)
        check(s.out.count(QUESTION) == 1, "terraform destroy asked twice:\n" + s.text())
        s.send(b"no\r")
        s.expect(b"popen: status", start=pos)
        s.wait()
        check(w.ran() == ["terraform destroy"], "ran: %r\n%s" % (w.ran(), s.text()))
        check(b"cleanup-rc=126" in s.out, "the script's dropdb was not refused:\n" + s.text())
    finally:
        s.close()


CASES = [
    ("yes approves, the tool runs once", t_yes),
    ("typed characters are echoed", t_yes_echoed),
    ("no refuses", t_no),
    ("an empty line refuses", t_empty),
    ("YES refuses (case matters)", t_uppercase),
    ("y refuses", t_y),
    ("yess refuses", t_yes_then_more),
    ("blanks around yes are ignored", t_blanks_around),
    ("line editing: erase and Ctrl-U", t_line_editing),
    ("Ctrl-C refuses without killing the host", t_ctrl_c),
    ("Ctrl-\\ refuses without killing the host", t_ctrl_backslash),
    ("Ctrl-D refuses", t_ctrl_d),
    ("Ctrl-Z refuses without stopping the host", t_ctrl_z),
    ("timeout refuses (EXECGUARD_PROMPT_TIMEOUT=2)", t_timeout),
    ("timeout from `set prompt-timeout 2` in a rule file", t_timeout_setting),
    ("a yes typed ahead is flushed", t_typed_ahead),
    ("the question shows command, cwd, rule, file:line, reason, pid", t_shows_everything),
    ("a critical rule asks for its word", t_critical_word),
    ("a background process group is refused, terminal untouched", t_background),
    ("raw terminal modes of a TUI host are restored", t_modes_restored_from_raw),
    ("SIGTERM during the question: no, restored, then delivered", t_sigterm),
    ("SIGINT by kill during the question: no, restored", t_sigint_kill),
    ("SIGWINCH during the question is ignored", t_sigwinch),
    ("hangup during the question refuses", t_hangup),
    ("make -j2: one question at a time", t_concurrent),
    ("execguard run -- bash -c 'terraform destroy' asks once", t_once_bash_c),
    ("execguard run -- terraform destroy asks once", t_once_run_direct),
    ("execguard run exits 126 when refused", t_run_refused_126),
    ("nested execguard run asks once", t_once_nested_run),
    ("python3 subprocess: asked in the vfork child, approved once", t_python_vfork_child),
    ("a harmless command is not asked about", t_benign_untouched),
    ("popen: asked once in the caller, its shell's scripts still guarded", t_popen_once),
]


def main():
    if not EXECGUARD or not os.access(EXECGUARD, os.X_OK):
        print("1..0 # SKIP EG_EXECGUARD not set")
        return 0
    only = sys.argv[1:]
    cases = [c for c in CASES if not only or any(o in c[1].__name__ for o in only)]
    w = World()
    failed = 0
    print("1..%d" % len(cases))
    try:
        for i, (name, fn) in enumerate(cases, 1):
            try:
                fn(w)
                print("ok %d - %s" % (i, name))
            except Fail as e:
                failed += 1
                print("not ok %d - %s" % (i, name))
                for line in str(e).splitlines():
                    print("#   " + line)
            except Exception:
                failed += 1
                print("not ok %d - %s" % (i, name))
                for line in traceback.format_exc().splitlines():
                    print("#   " + line)
            sys.stdout.flush()
    finally:
        w.cleanup()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
