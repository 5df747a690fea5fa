#!/usr/bin/env python3
"""The confirm prompt under faults, on a real pseudo-terminal (issue 9).

test_prompt.py covers the answers, Ctrl-Z as a key, SIGTERM, SIGINT, one
SIGWINCH and a hangup. Here: SIGTSTP sent as a signal, the asking process
stopped (SIGSTOP) and continued mid-question, a burst of SIGWINCH then
SIGTSTP then a hangup, and no file descriptor left for the terminal
(EMFILE). In every case: the fake tool does not run unless a human typed
yes, nothing hangs, and the terminal's modes are restored.

Reuses World and Session from test_prompt.py. Output: TAP.
"""
import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_prompt as tp  # noqa: E402
from test_prompt import QUESTION, Fail, Session, World, asking_pid, bash_c, check, guarded  # noqa: E402


def t_sigtstp_signal(w):
    """kill -TSTP (not the key) during the question: no, terminal restored;
    the process is not left stopped with the question open."""
    w.reset_log()
    s = Session(w, bash_c("terraform destroy; echo rc=$?"))
    try:
        s.expect(QUESTION)
        os.kill(asking_pid(s), signal.SIGTSTP)
        s.expect(b"execguard: refused (interrupted by a signal)")
        # Stopped or not after the refusal (an orphaned process group
        # ignores SIGTSTP): continue it, it must finish on its own.
        try:
            os.killpg(s.pid, signal.SIGCONT)
        except ProcessLookupError:
            pass
        s.expect(b"rc=126")
        s.wait()
        check(w.ran() == [], "ran after SIGTSTP")
        check(s.modes() == s.initial, "terminal modes not restored after SIGTSTP")
    finally:
        s.close()


def t_stop_continue(w):
    """SIGSTOP then SIGCONT mid-question (a job stopped and resumed by
    someone else): the question goes on, and only yes runs the tool."""
    w.reset_log()
    s = Session(w, bash_c("terraform destroy; echo rc=$?"))
    try:
        pos = s.expect(QUESTION)
        pid = asking_pid(s)
        os.kill(pid, signal.SIGSTOP)
        check(s.absent_for(b"execguard:", 0.3, start=pos), "a stop ended the question")
        os.kill(pid, signal.SIGCONT)
        check(s.absent_for(b"execguard:", 0.3, start=pos), "a continue ended the question")
        s.send(b"no\r")
        s.expect(b"rc=126", start=pos)
        s.wait()
        check(w.ran() == [], "ran after no")
        check(s.modes() == s.initial, "terminal modes not restored")
    finally:
        s.close()


def t_winch_tstp_hangup(w):
    """A resize storm, then SIGTSTP, then the terminal goes away: refused
    once, nobody hangs, nothing runs."""
    w.reset_log()
    err = os.path.join(w.root, "storm.err")
    s = Session(w, bash_c("terraform destroy; echo rc=$? >&2"), stderr_file=err)
    try:
        s.expect(QUESTION)
        pid = asking_pid(s)
        for _ in range(50):
            os.kill(pid, signal.SIGWINCH)
        os.kill(pid, signal.SIGTSTP)
        try:
            os.killpg(s.pid, signal.SIGCONT)
        except ProcessLookupError:
            pass
        os.close(s.master)
        s.master = os.open("/dev/null", os.O_RDONLY)
        s.wait()
        check(w.ran() == [], "ran after resize, SIGTSTP and hangup")
        with open(err) as f:
            msg = f.read()
        check(msg.count("execguard: blocked:") <= 1, "refused more than once:\n" + msg)
    finally:
        s.close()


def t_emfile(w):
    """No descriptor left to open the terminal: refused at once, with a
    message; the tool does not run and the terminal is untouched."""
    w.reset_log()
    driver = os.path.join(tp.TEST_BIN, "eg_harden")
    s = Session(w, guarded(driver, "emfile", os.path.join(w.bin, "terraform"), "destroy"))
    try:
        s.expect(b"exec failed: errno=EACCES")
        s.wait()
        text = s.text()
        check(w.ran() == [], "ran with no descriptor left")
        check("execguard: blocked:" in text, "no refusal message:\n" + text)
        # a terminal exists: the message must not claim there is none
        check("question could not be asked" in text, "message does not say why:\n" + text)
        check("needs your approval" not in text, "asked without a terminal descriptor?\n" + text)
        check(s.modes() == s.initial, "terminal modes changed")
    finally:
        s.close()


def t_emfile_benign(w):
    """No descriptor left, a command no rule names: not refused."""
    w.reset_log()
    driver = os.path.join(tp.TEST_BIN, "eg_harden")
    s = Session(w, guarded(driver, "emfile", os.path.join(w.bin, "terraform"), "plan"))
    try:
        s.wait()
        text = s.text()
        check("exec failed" not in text and "execguard:" not in text,
              "a benign command was refused:\n" + text)
    finally:
        s.close()


CASES = [
    ("SIGTSTP by kill during the question: no, restored, not left hanging", t_sigtstp_signal),
    ("SIGSTOP + SIGCONT mid-question: the question goes on", t_stop_continue),
    ("SIGWINCH storm, SIGTSTP, hangup: refused once, nothing hangs", t_winch_tstp_hangup),
    ("EMFILE at prompt time: refused with a message", t_emfile),
    ("EMFILE, benign command: not refused", t_emfile_benign),
]


def main():
    if not tp.EXECGUARD or not os.access(tp.EXECGUARD, os.X_OK):
        print("1..0 # SKIP EG_EXECGUARD not set")
        return 0
    w = World()
    failed = 0
    print("1..%d" % len(CASES))
    try:
        for i, (name, fn) in enumerate(CASES, 1):
            try:
                fn(w)
                print("ok %d - %s" % (i, name))
            except Fail as e:
                failed += 1
                print("not ok %d - %s" % (i, name))
                for line in str(e).splitlines():
                    print("#   " + line)
            except Exception:
                import traceback
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
