#!/usr/bin/env python3
"""The audit trail (issue 6): JSONL records, syslog, alerts, `execguard log`.

Fake destructive tools only: a temp dir first in PATH holds `dropdb`,
`terraform` and `mytool` scripts that append a line to a file. The rules are
the test's own (EXECGUARD_PACKS_DIR), settings go in a file of the test's
"system" directory (EXECGUARD_SYSTEM_DIR). Commands are argv lists, never a
shell here-document.

No case asserts on wall-clock time: waits are upper bounds, and the one
"nothing happened" check (no alert for a `log` decision) waits for a later
event that must come after it.

Environment (set by meson): EG_EXECGUARD, EG_LIBRARY, EG_SOURCE_ROOT.
Output: TAP.
"""
import http.server
import json
import os
import pty
import re
import select
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
import traceback

EXECGUARD = os.environ.get("EG_EXECGUARD", "")
LIBRARY = os.environ.get("EG_LIBRARY", "")
SOURCE_ROOT = os.environ.get("EG_SOURCE_ROOT", "")
WAIT = 20.0  # upper bound for anything to appear

RULES = """rule test.dropdb
  program   dropdb
  match     .
  action    deny
  reason    Test rule: drops a database.
  example   dropdb prod

rule test.terraform-destroy
  program   terraform
  match     (^|\\s)destroy(\\s|$)
  action    confirm
  reason    Test rule: destroys every resource.
  example   terraform destroy
  safe      terraform plan

rule test.mytool
  program   mytool
  match     .
  action    log
  reason    Test rule: recorded, runs.
  example   mytool x
"""

TIME_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
SESSION_RE = re.compile(r"^[0-9a-f]{16}$")


class Fail(Exception):
    pass


class Skip(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Fail(msg)


def wait_for(pred, what, timeout=WAIT):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        time.sleep(0.05)
    raise Fail("timed out waiting for " + what)


class World:
    def __init__(self, settings=""):
        self.root = tempfile.mkdtemp(prefix="eg-audit-")
        self.bin = os.path.join(self.root, "fake")
        self.calls = os.path.join(self.root, "calls.log")
        self.work = os.path.join(self.root, "work")
        self.packs = os.path.join(self.root, "packs")
        self.sys = os.path.join(self.root, "sys")
        for d in (self.bin, self.work, self.packs, self.sys, os.path.join(self.root, "home"),
                  os.path.join(self.root, "cfg")):
            os.makedirs(d, exist_ok=True)
        for tool in ("dropdb", "terraform", "mytool"):
            p = os.path.join(self.bin, tool)
            with open(p, "w") as f:
                f.write("#!/bin/sh\nprintf '%%s\\n' \"%s $*\" >> '%s'\n" % (tool, self.calls))
            os.chmod(p, 0o755)
        with open(os.path.join(self.packs, "test.rules"), "w") as f:
            f.write(RULES)
        self.set(settings)
        self.state = os.path.join(self.root, "state")
        self.audit = os.path.join(self.state, "execguard", "audit.jsonl")
        self.env = {
            "PATH": self.bin + ":/usr/local/bin:/usr/bin:/bin",
            "HOME": os.path.join(self.root, "home"),
            "XDG_CONFIG_HOME": os.path.join(self.root, "cfg"),
            "XDG_STATE_HOME": self.state,
            "XDG_CACHE_HOME": os.path.join(self.root, "cache"),
            "EXECGUARD_PACKS_DIR": self.packs,
            "EXECGUARD_SYSTEM_DIR": self.sys,
            "LANG": "C.UTF-8",
        }

    def set(self, settings):
        with open(os.path.join(self.sys, "settings.rules"), "w") as f:
            f.write(settings)

    def run(self, argv, env=None, tty=False):
        """argv under `execguard run`, no controlling terminal."""
        e = dict(self.env)
        e.update(env or {})
        return subprocess.run(["setsid", "-w", EXECGUARD, "run", "--"] + argv, env=e,
                              cwd=self.work, stdin=subprocess.DEVNULL, capture_output=True,
                              text=True, timeout=120)

    def execguard(self, args, env=None):
        e = dict(self.env)
        e.update(env or {})
        return subprocess.run([EXECGUARD] + args, env=e, cwd=self.work,
                              stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              timeout=60)

    def records(self, path=None):
        path = path or self.audit
        if not os.path.exists(path):
            return []
        with open(path) as f:
            return [json.loads(line) for line in f]

    def ran(self):
        if not os.path.exists(self.calls):
            return []
        with open(self.calls) as f:
            return f.read().splitlines()

    def cleanup(self):
        shutil.rmtree(self.root, ignore_errors=True)


def on_pty(argv, env, cwd, answer=None, cols=100):
    """argv as the foreground job of a fresh pty; type `answer` at the
    question. Returns (status, output bytes)."""
    pid, master = pty.fork()
    if pid == 0:
        try:
            os.chdir(cwd)
            os.execve(argv[0], argv, env)
        finally:
            os._exit(127)
    import fcntl
    import struct
    import termios
    fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", 40, cols, 0, 0))
    out = b""
    answered = False
    end = time.monotonic() + WAIT
    status = None
    while time.monotonic() < end:
        r, _, _ = select.select([master], [], [], 0.1)
        if r:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                chunk = b""
            out += chunk
            if answer is not None and not answered and b"Type '" in out:
                os.write(master, answer.encode() + b"\r")
                answered = True
            if not chunk:
                break
        wpid, st = os.waitpid(pid, os.WNOHANG)
        if wpid == pid:
            status = st
            # drain what is left
            while True:
                r, _, _ = select.select([master], [], [], 0.2)
                if not r:
                    break
                try:
                    chunk = os.read(master, 65536)
                except OSError:
                    break
                if not chunk:
                    break
                out += chunk
            break
    if status is None:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        _, status = os.waitpid(pid, 0)
    os.close(master)
    return status, out


# ------------------------------------------------------------------ cases


def case_record_fields(w):
    """a deny, a log and a confirm without terminal: every field"""
    r = w.run(["sh", "-c", "dropdb prod; mytool a; terraform destroy; true"])
    check(r.returncode == 0, "sh exit %d: %s" % (r.returncode, r.stderr))
    check(w.ran() == ["mytool a"], "calls: %r" % w.ran())
    st = os.stat(w.audit)
    check(stat.S_IMODE(st.st_mode) == 0o600, "audit log mode %o" % stat.S_IMODE(st.st_mode))
    recs = w.records()
    check(len(recs) == 3, "records: %r" % recs)
    deny, log, confirm = recs
    for rec in recs:
        check(TIME_RE.match(rec["time"]), "time %r" % rec["time"])
        check(SESSION_RE.match(rec["session"] or ""), "session %r" % rec.get("session"))
        check(rec["session"] == deny["session"], "one session for the run")
        check(rec["uid"] == os.getuid(), "uid")
        check(isinstance(rec["pid"], int) and isinstance(rec["ppid"], int), "pid/ppid")
        check(rec["cwd"] == w.work, "cwd %r" % rec["cwd"])
        check(rec["parents"] and rec["parents"][0] == "sh", "parents %r" % rec.get("parents"))
        check(rec["rule_file"] == os.path.join(w.packs, "test.rules"), "rule_file")
        check(isinstance(rec["rule_line"], int) and rec["rule_line"] > 0, "rule_line")
        check(rec["channel"] == "none", "channel %r" % rec["channel"])
        check(rec["route"] == "exec", "route")
    check(deny["action"] == "deny" and deny["outcome"] == "refused" and deny["why"] == "denied",
          "deny record %r" % deny)
    check(deny["rule"] == "test.dropdb" and deny["argv"] == ["dropdb", "prod"], "deny rule/argv")
    check(deny["exe"] == os.path.join(w.bin, "dropdb"), "exe %r" % deny["exe"])
    check(deny["rule_line"] == 1, "deny rule_line %r" % deny["rule_line"])
    check(log["action"] == "log" and log["outcome"] == "ran" and log["argv"] == ["mytool", "a"],
          "log record %r" % log)
    check(confirm["action"] == "confirm" and confirm["outcome"] == "refused" and
          confirm["why"] == "no-terminal", "confirm record %r" % confirm)


def case_session(w):
    """execguard run makes a session id; a nested run keeps it; runs differ"""
    marker = os.path.join(w.root, "session.txt")
    r = w.run(["sh", "-c", 'printf %s "$EXECGUARD_SESSION" > "$1"; execguard run -- dropdb x',
               "sh", marker], env={"PATH": w.bin + ":" + os.path.dirname(EXECGUARD) + ":/usr/bin:/bin"})
    check(r.returncode != 0, "nested dropdb refused")
    with open(marker) as f:
        outer = f.read()
    check(SESSION_RE.match(outer), "EXECGUARD_SESSION %r" % outer)
    recs = w.records()
    check(len(recs) == 1 and recs[0]["session"] == outer, "nested run record %r" % recs)
    w.run(["dropdb", "y"])
    recs = w.records()
    check(len(recs) == 2 and SESSION_RE.match(recs[1]["session"]) and recs[1]["session"] != outer,
          "second run has its own session: %r" % recs)
    # the run's own check of CMD carries it too (route "run")
    check(recs[1]["route"] == "run", "route %r" % recs[1]["route"])


def case_shell_init_session(w):
    """shell-init: a guarded interactive shell records its own session id"""
    bash = shutil.which("bash")
    if not bash:
        raise Skip("bash not installed")
    rc = os.path.join(w.env["HOME"], ".bashrc")  # the re-exec'd shell reads it again
    with open(rc, "w") as f:
        f.write('eval "$(\'%s\' shell-init bash)"\ndropdb from-shell\nexit\n' % EXECGUARD)
    env = dict(w.env)
    env["TERM"] = "dumb"
    status, out = on_pty([bash, "-i"], env, w.work)
    recs = wait_for(w.records, "the shell's refusal in the log: %r" % out[-600:])
    check(recs[0]["argv"] == ["dropdb", "from-shell"] and recs[0]["outcome"] == "refused",
          "record %r" % recs)
    check(SESSION_RE.match(recs[0]["session"] or ""), "session %r" % recs[0]["session"])
    check(w.ran() == [], "dropdb did not run")


def case_concurrent(w):
    """80 processes at once, big records, vfork children: whole lines only"""
    pad = "p" * 3000
    script = 'for i in $(seq 1 40); do mytool "$i" "$1" & done; wait'
    py = ("import subprocess, sys\n"
          "ps = [subprocess.Popen(['mytool', 'v%d' % i, sys.argv[1]]) for i in range(40)]\n"
          "[p.wait() for p in ps]\n")
    r = w.run(["sh", "-c", script + '; python3 -c "$2" "$1"', "sh", pad, py])
    check(r.returncode == 0, "exit %d %s" % (r.returncode, r.stderr))
    with open(w.audit) as f:
        lines = f.read().splitlines()
    recs = [json.loads(line) for line in lines]  # raises on a torn line
    args = sorted(rec["argv"][1] for rec in recs)
    want = sorted([str(i) for i in range(1, 41)] + ["v%d" % i for i in range(40)])
    check(args == want, "records: %d, args %r" % (len(recs), args[:5]))
    check(all(rec["argv"][2] == pad for rec in recs), "every record whole")


def case_audit_execs(w):
    """set audit-execs on: an exec no rule names is recorded; off: it is not"""
    w.run(["sh", "-c", "ls / >/dev/null"])
    check(w.records() == [], "audit-execs off: nothing recorded")
    w.set("set audit-execs on\n")
    w.run(["sh", "-c", "ls / >/dev/null; dropdb x"])
    recs = w.records()
    execs = [r for r in recs if r["action"] == "exec"]
    check(any(r["argv"] == ["ls", "/"] and r["outcome"] == "ran" and r["rule"] is None
              for r in execs), "ls recorded: %r" % recs)
    check(any(r["action"] == "deny" for r in recs), "the deny is still recorded")
    check(not any(r["action"] == "exec" and r["argv"][0] == "dropdb" for r in recs),
          "a decided exec is recorded once, as its decision")


class Syslog:
    def __init__(self, w):
        self.path = os.path.join(w.root, "log.sock")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.sock.settimeout(WAIT)

    def recv(self):
        return self.sock.recv(1 << 20).decode()

    def close(self):
        self.sock.close()


def parse_syslog(msg):
    m = re.match(r"^<(\d+)>execguard\[(\d+)\]: (\{.*\})$", msg)
    check(m, "syslog datagram %r" % msg[:200])
    return int(m.group(1)), int(m.group(2)), json.loads(m.group(3))


def case_syslog(w):
    """set syslog on: authpriv datagrams; default off under LD_PRELOAD"""
    s = Syslog(w)
    try:
        env = {"EXECGUARD_SYSLOG_SOCKET": s.path}
        w.run(["dropdb", "off-by-default"], env=env)  # nothing may arrive for this one
        w.set("set syslog on\n")
        w.run(["sh", "-c", "dropdb on; mytool on"], env=env)
        pri, pid, rec = parse_syslog(s.recv())
        check(rec["argv"] == ["dropdb", "on"], "first datagram is the first with syslog on: %r" % rec)
        check(pri == 10 * 8 + 4, "refusal: authpriv.warning, got %d" % pri)
        check(pid == rec["pid"], "TAG[PID] is the deciding process")
        pri, pid, rec = parse_syslog(s.recv())
        check(rec["argv"] == ["mytool", "on"] and pri == 10 * 8 + 6, "log: authpriv.info %d" % pri)
        file_recs = w.records()
        check(len(file_recs) == 3, "the file has them all too")
    finally:
        s.close()


def in_ld_so_preload(w, script_args, env):
    """Run a shell script in a private mount namespace whose /etc/ld.so.preload
    names the library (the host's /etc is never touched)."""
    if os.getuid() != 0 or subprocess.run(["unshare", "-m", "true"],
                                          capture_output=True).returncode != 0:
        raise Skip("needs root and unshare -m")
    ns = os.path.join(w.root, "ns.sh")
    with open(ns, "w") as f:
        f.write('set -e\nT=$1 LIB=$2\nshift 2\n'
                'if [ -e /etc/ld.so.preload ]; then\n'
                '  { cat /etc/ld.so.preload; echo "$LIB"; } > "$T/ld.so.preload"\n'
                '  mount --bind "$T/ld.so.preload" /etc/ld.so.preload\n'
                'else\n'
                '  cp -a /etc "$T/etc"\n'
                '  echo "$LIB" > "$T/etc/ld.so.preload"\n'
                '  mount --bind "$T/etc" /etc\n'
                'fi\n'
                'set +e\n'
                '"$@"\n')
    e = dict(w.env)
    e.update(env)
    return subprocess.run(["setsid", "-w", "unshare", "-m", "--propagation", "private", "sh", ns,
                           w.root, LIBRARY] + script_args, env=e, cwd=w.work,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)


def case_syslog_system_wide(w):
    """loaded from /etc/ld.so.preload: syslog is on without a setting"""
    s = Syslog(w)
    try:
        r = in_ld_so_preload(w, ["sh", "-c", 'dropdb system-wide; "$1" run -- sh -c "dropdb under-run"',
                                 "sh", EXECGUARD], {"EXECGUARD_SYSLOG_SOCKET": s.path})
        check("blocked: dropdb system-wide" in r.stderr, "refused: %r" % r.stderr)
        pri, _, rec = parse_syslog(s.recv())
        check(rec["argv"] == ["dropdb", "system-wide"] and pri == 84, "datagram %r" % rec)
        check(rec["session"] is None, "no execguard run, no session")
        # under an `execguard run` there, LD_PRELOAD names the library too;
        # the run's own EXECGUARD_* values (policy, session) give way to the
        # library's, as everywhere in a guarded process: no session
        check("blocked: dropdb under-run" in r.stderr, "refused: %r" % r.stderr)
        pri, _, rec = parse_syslog(s.recv())
        check(rec["argv"] == ["dropdb", "under-run"] and pri == 84 and rec["session"] is None,
              "datagram under run %r" % rec)
    finally:
        s.close()


def report_lines(stderr):
    return [line for line in stderr.splitlines() if "the decision stands" in line]


SPAWN_TWICE = ("import os, sys\n"
               "for a in ('one', 'two'):\n"
               "    try:\n"
               "        os.waitpid(os.posix_spawnp('dropdb', ['dropdb', a], os.environ), 0)\n"
               "    except PermissionError:\n"
               "        print('refused', a)\n"
               "os.waitpid(os.posix_spawnp('mytool', ['mytool', 'ok'], os.environ), 0)\n")


def failing_log(w, env, what):
    r = w.run(["python3", "-c", SPAWN_TWICE], env=env)
    check(r.stdout.splitlines() == ["refused one", "refused two"],
          "%s: refusals stand: %r %r" % (what, r.stdout, r.stderr))
    check(w.ran() == ["mytool ok"], "%s: calls %r" % (what, w.ran()))
    check(r.stderr.count("execguard: blocked: dropdb") == 2, "%s: both messages" % what)
    reports = report_lines(r.stderr)
    check(len(reports) == 1, "%s: reported once per process: %r" % (what, r.stderr))
    return reports[0]


def case_failing_log(w):
    """disk full, unwritable directory, no syslog: decisions stand, said once"""
    line = failing_log(w, {"EXECGUARD_AUDIT_LOG": "/dev/full"}, "/dev/full")
    check("/dev/full" in line and "ENOSPC" in line, "says where and why: %r" % line)
    os.unlink(w.calls)
    blocker = os.path.join(w.root, "a-file")
    with open(blocker, "w"):
        pass
    line = failing_log(w, {"EXECGUARD_AUDIT_LOG": blocker + "/audit.jsonl"}, "not a directory")
    check("ENOTDIR" in line, "ENOTDIR: %r" % line)
    os.unlink(w.calls)
    w.set("set syslog on\n")
    line = failing_log(w, {"EXECGUARD_SYSLOG_SOCKET": os.path.join(w.root, "no.sock")},
                       "no syslog")
    check("syslog" in line and "ENOENT" in line, "syslog report: %r" % line)
    check(len(w.records()) == 3, "the file still got the records")
    # a benign command under a failing log: runs, prints nothing
    os.unlink(w.calls)
    r = w.run(["sh", "-c", "ls / >/dev/null && echo fine"], env={"EXECGUARD_AUDIT_LOG": "/dev/full"})
    check(r.stdout == "fine\n" and r.stderr == "", "benign exec untouched: %r" % r.stderr)


def case_full_disk(w):
    """a real full file system (tmpfs in a private mount namespace)"""
    if os.getuid() != 0 or subprocess.run(["unshare", "-m", "true"],
                                          capture_output=True).returncode != 0:
        raise Skip("needs root and unshare -m")
    disk = os.path.join(w.root, "disk")
    os.makedirs(disk)
    script = os.path.join(w.root, "full.sh")
    with open(script, "w") as f:
        f.write('set -e\nmount -t tmpfs -o size=64k tmpfs "$1"\n'
                'mkdir -p "$1/execguard"\n'
                'dd if=/dev/zero of="$1/fill" bs=4k 2>/dev/null || true\n'
                'set +e\nshift\nexec "$@"\n')
    e = dict(w.env)
    e["EXECGUARD_AUDIT_LOG"] = os.path.join(disk, "execguard", "audit.jsonl")
    r = subprocess.run(["setsid", "-w", "unshare", "-m", "--propagation", "private", "sh", script,
                        disk, EXECGUARD, "run", "--", "python3", "-c", SPAWN_TWICE], env=e,
                       cwd=w.work, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                       timeout=120)
    check(r.stdout.splitlines() == ["refused one", "refused two"], "refusals stand: %r %r"
          % (r.stdout, r.stderr))
    check(w.ran() == ["mytool ok"], "calls %r" % w.ran())
    reports = report_lines(r.stderr)
    check(len(reports) == 1 and "ENOSPC" in reports[0], "reported once: %r" % r.stderr)


def case_alert(w):
    """alert on refusal, not on log; a refusal inside the alert starts none"""
    alerts = os.path.join(w.root, "alerts.jsonl")
    w.set("set alert cat >> '%s'; dropdb from-alert\n" % alerts)
    r = w.run(["sh", "-c", "mytool quiet; dropdb loud"])
    check(r.returncode != 0, "dropdb refused")
    recs = wait_for(lambda: [x for x in w.records() if x["argv"] == ["dropdb", "from-alert"]],
                    "the alert's own dropdb refusal in the log")
    check(recs[0]["outcome"] == "refused", "refused inside the alert")
    check("mytool quiet" in w.ran() and not any(c.startswith("dropdb") for c in w.ran()),
          "calls %r" % w.ran())
    # the alert saw the record on stdin, once: the log decision started no
    # alert (it came first), the refusal inside the alert started none
    with open(alerts) as f:
        got = [json.loads(line) for line in f]
    check(len(got) == 1 and got[0]["argv"] == ["dropdb", "loud"], "alerts: %r" % got)
    check(got[0] == [x for x in w.records() if x["argv"] == ["dropdb", "loud"]][0],
          "the alert got the record as logged")


def case_alert_approval(w):
    """a human's yes on the terminal: channel terminal, and an alert"""
    alerts = os.path.join(w.root, "alerts.jsonl")
    w.set("set alert cat >> '%s'\n" % alerts)
    env = dict(w.env)
    env["TERM"] = "xterm"
    status, out = on_pty([EXECGUARD, "run", "--", "terraform", "destroy"], env, w.work,
                         answer="yes")
    check(os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, "exit %r: %r" % (status, out[-300:]))
    check(w.ran() == ["terraform destroy"], "approved, ran: %r" % w.ran())
    recs = w.records()
    check(len(recs) == 1 and recs[0]["outcome"] == "approved" and recs[0]["channel"] == "terminal",
          "record %r" % recs)
    got = wait_for(lambda: os.path.exists(alerts) and open(alerts).read(), "the approval alert")
    check(json.loads(got.splitlines()[0])["outcome"] == "approved", "alert %r" % got)
    # and a no on the terminal: refused, the terminal answered
    status, out = on_pty([EXECGUARD, "run", "--", "terraform", "destroy"], env, w.work,
                         answer="no")
    recs = w.records()
    check(recs[-1]["outcome"] == "refused" and recs[-1]["why"] == "said-no" and
          recs[-1]["channel"] == "terminal", "said no: %r" % recs[-1])


class Hook(http.server.BaseHTTPRequestHandler):
    bodies = []

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        Hook.bodies.append((self.path, self.headers.get("Content-Type"), self.rfile.read(n)))
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *a):
        pass


def case_alert_slack_example(w):
    """examples/alert-slack.sh posts the record to a webhook (local stand-in)"""
    if not shutil.which("curl"):
        raise Skip("curl not installed")
    srv = http.server.HTTPServer(("127.0.0.1", 0), Hook)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    try:
        script = os.path.join(SOURCE_ROOT, "examples", "alert-slack.sh")
        url = "http://127.0.0.1:%d/services/T0/B0/x" % srv.server_address[1]
        w.set("set alert sh '%s' '%s'\n" % (script, url))
        w.run(["dropdb", "it's \"quoted\"\\"])
        wait_for(lambda: Hook.bodies, "the webhook POST")
        path, ctype, body = Hook.bodies[0]
        check(path == "/services/T0/B0/x" and ctype == "application/json", "request %r" % path)
        msg = json.loads(body)
        text = msg["text"]
        check("refused (denied), rule test.dropdb, session " in text, "summary: %r" % text)
        rec = json.loads(text.split("```")[1])
        check(rec["argv"] == ["dropdb", "it's \"quoted\"\\"], "record in the message: %r" % rec)
    finally:
        srv.shutdown()


def write_log(path, recs):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "a") as f:
        for r in recs:
            f.write(json.dumps(r, separators=(",", ":")) + "\n")


def rec(t, action, outcome, rule, session, argv, why=None):
    r = {"time": t, "pid": 1, "ppid": 0, "uid": 0, "route": "exec", "action": action,
         "outcome": outcome}
    if why:
        r["why"] = why
    r.update({"rule": rule, "channel": "none", "session": session, "cwd": "/w", "exe": None,
              "argv": argv})
    return r


SAMPLE = [
    rec("2026-11-20T10:00:00.000001Z", "deny", "refused", "disks.rm-root", "aaaa111122223333",
        ["rm", "-rf", "/"], "denied"),
    rec("2026-11-21T10:00:00.000002Z", "confirm", "approved", "terraform.destroy",
        "bbbb111122223333", ["terraform", "destroy", "-auto-approve"]),
    rec("2026-11-22T10:00:00.000003Z", "confirm", "refused", "postgres.dropdb",
        "bbbb111122223333", ["dropdb", "prod"], "timeout"),
    rec("2026-11-23T10:00:00.000004Z", "log", "ran", "git.push-force", None,
        ["git", "push", "--force", "x" * 300]),
]


def case_log_cli(w):
    """execguard log: table, filters, --json"""
    write_log(w.audit, SAMPLE)
    r = w.execguard(["log"])
    check(r.returncode == 0 and "\033" not in r.stdout, "no colour into a pipe")
    rows = r.stdout.splitlines()
    check(len(rows) == 4, "one row a record, no header into a pipe: %r" % rows)
    check(re.match(r"^2026-11-20 10:00:00Z +deny/refused +disks\.rm-root +aaaa111122223333 +rm -rf /$",
                   rows[0]), "row %r" % rows[0])
    check(re.search(r"confirm/timeout +postgres\.dropdb", rows[2]), "timed out: %r" % rows[2])
    check(re.search(r"log/ran +git\.push-force +- +git push --force x{300}$", rows[3]),
          "not cut into a pipe: %r" % rows[3])

    def rules(args):
        r = w.execguard(["log", "--json"] + args)
        check(r.returncode == 0, "log %r: %s" % (args, r.stderr))
        return [json.loads(x)["rule"] for x in r.stdout.splitlines()]

    check(rules([]) == [x["rule"] for x in SAMPLE], "--json: all, oldest first")
    check(rules(["--decision", "refused"]) == ["disks.rm-root", "postgres.dropdb"], "refused")
    check(rules(["--decision", "approved,timeout"]) == ["terraform.destroy", "postgres.dropdb"],
          "a list of words")
    check(rules(["--decision", "confirm"]) == ["terraform.destroy", "postgres.dropdb"], "action")
    check(rules(["--rule", "terraform.*"]) == ["terraform.destroy"], "--rule pattern")
    check(rules(["--session", "bbbb"]) == ["terraform.destroy", "postgres.dropdb"], "--session prefix")
    check(rules(["--session", "bbbb", "--decision", "refused"]) == ["postgres.dropdb"], "combined")
    check(rules(["--since", "2026-11-22"]) == ["postgres.dropdb", "git.push-force"], "--since")
    check(rules(["-n", "1", "--rule", "*.d*"]) == ["postgres.dropdb"], "-n after filters")
    r = w.execguard(["log", "--json", "--rule", "disks.rm-root"])
    with open(w.audit) as f:
        check(r.stdout == f.readline(), "--json prints the stored line as is")
    r = w.execguard(["log", "--decision", ""])
    check(r.returncode == 64, "--decision '' is a usage error")


def case_log_tty(w):
    """execguard log on a terminal: header, colour, cut to the width; NO_COLOR"""
    write_log(w.audit, SAMPLE)
    env = dict(w.env)
    status, out = on_pty([EXECGUARD, "log"], env, w.work, cols=160)
    text = out.decode("utf-8", "replace")
    check(os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, "exit")
    check("TIME (UTC)" in text and "COMMAND" in text, "header: %r" % text[:200])
    check("\033[1;31mdeny/refused" in text and "\033[1;32mconfirm/approved" in text,
          "colour: %r" % text[:400])
    plain = re.sub(r"\033\[[0-9;]*m", "", text)
    check(all(len(line) <= 160 for line in plain.replace("\r", "").split("\n")),
          "rows cut to 160 columns")
    check("x" * 20 + "..." in plain, "the long command is cut with ...")
    env["NO_COLOR"] = "1"
    status, out = on_pty([EXECGUARD, "log"], env, w.work, cols=100)
    check(b"\033[" not in out and b"deny/refused" in out, "NO_COLOR: %r" % out[:200])


def case_log_follow(w):
    """execguard log -f: waits for the file, prints what is appended, follows rotation"""
    path = os.path.join(w.root, "follow", "audit.jsonl")
    e = dict(w.env)
    e["EXECGUARD_AUDIT_LOG"] = path
    p = subprocess.Popen([EXECGUARD, "log", "-f", "--json", "--decision", "refused"], env=e,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        got = []

        def line():
            r, _, _ = select.select([p.stdout], [], [], WAIT)
            check(r, "log -f printed nothing")
            s = p.stdout.readline()
            if not s:
                raise Fail("log -f ended: %r" % p.stderr.read())
            return json.loads(s)

        # the file does not exist yet: a guarded refusal creates it
        w.run(["dropdb", "first"], env={"EXECGUARD_AUDIT_LOG": path})
        got.append(line())
        check(got[0]["argv"] == ["dropdb", "first"], "first: %r" % got[0])
        # appended by hand, in two pieces (a record is only printed whole),
        # after a record the filter drops
        write_log(path, [SAMPLE[1]])
        s = json.dumps(SAMPLE[0], separators=(",", ":")) + "\n"
        with open(path, "a") as f:
            f.write(s[:50])
            f.flush()
            time.sleep(0.3)
            f.write(s[50:])
        got.append(line())
        check(got[1]["rule"] == "disks.rm-root", "appended: %r" % got[1])
        # rotation: the file is renamed and a new one written
        os.rename(path, path + ".1")
        write_log(path, [SAMPLE[2]])
        got.append(line())
        check(got[2]["rule"] == "postgres.dropdb", "after rotation: %r" % got[2])
    finally:
        p.terminate()
        p.wait(timeout=WAIT)


CASES = [
    case_record_fields,
    case_session,
    case_shell_init_session,
    case_concurrent,
    case_audit_execs,
    case_syslog,
    case_syslog_system_wide,
    case_failing_log,
    case_full_disk,
    case_alert,
    case_alert_approval,
    case_alert_slack_example,
    case_log_cli,
    case_log_tty,
    case_log_follow,
]


def main():
    if not EXECGUARD or not LIBRARY:
        print("1..0 # SKIP EG_EXECGUARD/EG_LIBRARY not set")
        return 0
    failed = 0
    for n, case in enumerate(CASES, 1):
        w = World()
        name = case.__doc__.strip()
        try:
            case(w)
            print("ok %d - %s" % (n, name))
        except Skip as s:
            print("ok %d - %s # SKIP %s" % (n, name, s))
        except Exception as e:  # noqa: BLE001 - report and go on
            failed += 1
            print("not ok %d - %s" % (n, name))
            detail = str(e) if isinstance(e, Fail) else traceback.format_exc()
            for line in detail.splitlines():
                print("#   " + line)
        finally:
            w.cleanup()
        sys.stdout.flush()
    print("1..%d" % len(CASES))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
