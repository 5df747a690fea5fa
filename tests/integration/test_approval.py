#!/usr/bin/env python3
"""Approval channels, end to end: approver programs (and the two shipped
ones), the session's allow-once / refuse-cooldown memory, and
`execguard hook claude-code`.

The sessions reuse test_prompt.py's World (a temp dir with fake destructive
tools first in PATH that only append to a log) and Session (a real pty as
the controlling terminal). Dangerous commands only ever reach fakes; the
commands are argv lists, never shell here-documents.

No case asserts on wall-clock time; waits are upper bounds only.
Environment (set by meson): EG_EXECGUARD, EG_LIBRARY, EG_SOURCE_ROOT.
Output: TAP.
"""
import http.server
import json
import os
import re
import subprocess
import sys
import threading
import traceback
import urllib.error

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_prompt import (EXECGUARD, QUESTION, SOURCE_ROOT, Fail, Session, World,  # noqa: E402
                         bash_c, check, guarded)

APPROVERS = os.path.join(SOURCE_ROOT, "contrib", "approvers")


def write(path, text, mode=0o644):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)


class Approver:
    """A fake approver program: records its stdin and arguments, answers
    with the exit status written in its `answer` file."""

    def __init__(self, w, name="approver", answer=0):
        self.dir = os.path.join(w.root, name + ".d")
        os.makedirs(self.dir, exist_ok=True)
        self.path = os.path.join(self.dir, name)
        self.requests = os.path.join(self.dir, "requests")
        self.envfile = os.path.join(self.dir, "env")
        self.answer_file = os.path.join(self.dir, "answer")
        write(self.path,
              "#!/bin/sh\n"
              "cat >> '%s'\n"
              "env > '%s'\n"
              "exec sh -c \"$(cat '%s')\"\n" % (self.requests, self.envfile, self.answer_file),
              0o755)
        self.answer(answer)
        if os.path.exists(self.requests):
            os.unlink(self.requests)

    def answer(self, what):
        """An exit status, or a shell snippet (e.g. 'sleep 30')."""
        write(self.answer_file, "exit %d\n" % what if isinstance(what, int) else what + "\n")

    def seen(self):
        if not os.path.exists(self.requests):
            return []
        with open(self.requests) as f:
            return [json.loads(line) for line in f if line.strip()]

    def env(self):
        with open(self.envfile) as f:
            return dict(line.rstrip("\n").split("=", 1) for line in f if "=" in line)


def settings(w, text):
    """A settings file in the user's config dir (a file the test can remove)."""
    d = os.path.join(w.env["XDG_CONFIG_HOME"], "execguard")
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, "approval.rules")
    write(path, text)
    return path


def unset_settings(w):
    path = os.path.join(w.env["XDG_CONFIG_HOME"], "execguard", "approval.rules")
    if os.path.exists(path):
        os.unlink(path)


def run_plain(w, argv, env=None, stdin=None):
    """No terminal at all: the way an agent's pipes run things."""
    e = dict(w.env)
    e.update(env or {})
    return subprocess.run(argv, env=e, cwd=w.work, input=stdin, capture_output=True,
                          timeout=60, start_new_session=True)


def audit_records(w):
    path = os.path.join(w.env["XDG_STATE_HOME"], "execguard", "audit.jsonl")
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


# ------------------------------------------------------------ approver programs

def t_approver_yes(w):
    w.reset_log()
    a = Approver(w, answer=0)
    r = run_plain(w, [EXECGUARD, "run", "--approver", a.path, "--",
                      "bash", "-c", "terraform destroy -target=x; echo rc=$?"])
    out = r.stdout.decode()
    check("rc=0" in out, "approved command failed: %r %r" % (out, r.stderr))
    check(w.ran() == ["terraform destroy -target=x"], "ran: %r" % w.ran())
    reqs = a.seen()
    check(len(reqs) == 1, "approver asked %d times" % len(reqs))
    q = reqs[0]
    check(q["version"] == 1, "version %r" % q)
    check(q["argv"] == ["terraform", "destroy", "-target=x"], "argv %r" % q["argv"])
    check(q["command"] == "terraform destroy -target=x", "command %r" % q["command"])
    check(q["cwd"] == w.work, "cwd %r" % q["cwd"])
    check(q["rule"] == "terraform.destroy", "rule %r" % q["rule"])
    check(q["reason"], "no reason")
    check(re.search(r"\.rules:\d+$", q["rule_file"] or ""), "rule_file %r" % q["rule_file"])
    check(q["required"] == "yes", "required %r" % q["required"])
    check(isinstance(q["pid"], int) and q["pid"] > 1, "pid %r" % q["pid"])
    check(q["program"] == "bash", "program %r" % q["program"])
    check("execguard(" in q["parents"] or "bash(" in q["parents"] or q["parents"],
          "parents %r" % q["parents"])
    check(re.fullmatch(r"[0-9a-f]{16}", q["session"] or ""), "session %r" % q["session"])
    check(q["timeout"] == 120, "timeout %r" % q["timeout"])
    recs = [x for x in audit_records(w) if x.get("outcome") == "approved"]
    check(recs and recs[-1].get("channel") == "approver", "audit: %r" % recs[-1:])


def t_approver_no(w):
    w.reset_log()
    a = Approver(w, answer=1)
    r = run_plain(w, [EXECGUARD, "run", "--approver", a.path, "--",
                      "bash", "-c", "terraform destroy; echo rc=$?"])
    out, err = r.stdout.decode(), r.stderr.decode()
    check("rc=126" in out, "not refused: %r" % out)
    check("approver said no" in err, "message: %r" % err)
    check(w.ran() == [], "ran although refused: %r" % w.ran())


def t_approver_timeout(w):
    w.reset_log()
    a = Approver(w, answer="sleep 60; exit 0")
    settings(w, "set prompt-timeout 1\n")
    try:
        r = run_plain(w, [EXECGUARD, "run", "--approver", a.path, "--",
                          "bash", "-c", "terraform destroy; echo rc=$?"])
    finally:
        unset_settings(w)
    out, err = r.stdout.decode(), r.stderr.decode()
    check("rc=126" in out, "not refused: %r" % out)
    check("gave no answer" in err, "message: %r" % err)
    check(w.ran() == [], "ran although the approver never answered")


def t_approver_setting(w):
    """`set approver` in a rule file works like --approver; it answers with
    no terminal at all, and a critical rule's word reaches it."""
    w.reset_log()
    a = Approver(w, answer=0)
    settings(w, "set approver %s\n" % a.path)
    try:
        r = run_plain(w, guarded("terraform", "destroy"))
    finally:
        unset_settings(w)
    check(r.returncode == 0, "status %r: %r" % (r.returncode, r.stderr))
    check(w.ran() == ["terraform destroy"], "ran: %r" % w.ran())
    check(len(a.seen()) == 1, "approver asked %d times" % len(a.seen()))


def t_approver_env_is_not_the_agents(w):
    """The agent's PATH (and anything else it sets) does not reach the
    approver: a same-named fake first in the agent's PATH is not run."""
    w.reset_log()
    fake = os.path.join(w.bin, "eg-test-approver")
    write(fake, "#!/bin/sh\nexit 0\n", 0o755)  # the agent's "approver": always yes
    a = Approver(w, answer=1)
    try:
        r = run_plain(w, [EXECGUARD, "run", "--approver", "eg-test-approver", "--",
                          "bash", "-c", "terraform destroy; echo rc=$?"])
        check("rc=126" in r.stdout.decode(), "approved through the agent's PATH: %r"
              % r.stdout)
        check(w.ran() == [], "ran: %r" % w.ran())
        # and what the real approver sees: fixed PATH, no preload, no agent
        # variables, and the display the session started with, not the one
        # the agent points at later
        run_plain(w, [EXECGUARD, "run", "--approver", a.path, "--",
                      "bash", "-c", "export DISPLAY=:55 XAUTHORITY=/agent; terraform destroy"],
                  env={"AGENT_SECRET": "x", "BASH_ENV": "/dev/null", "DISPLAY": ":99"})
        e = a.env()
        check(e.get("DISPLAY") == ":99" and "XAUTHORITY" not in e,
              "the agent moved the approver's display: %r" % e)
        check(e.get("PATH") == "/usr/local/bin:/usr/bin:/bin", "PATH %r" % e.get("PATH"))
        check("LD_PRELOAD" not in e and "AGENT_SECRET" not in e and "BASH_ENV" not in e,
              "agent environment leaked: %r" % sorted(e))
        check(re.fullmatch(r"[0-9a-f]{16}", e.get("EXECGUARD_SESSION", "")), "session %r" % e)
    finally:
        os.unlink(fake)


def t_approver_not_from_inside(w):
    """A guarded program cannot start a nested session with its own approver."""
    w.reset_log()
    r = run_plain(w, guarded("bash", "-c",
                             EXECGUARD + " run --approver true -- terraform destroy; echo rc=$?"))
    out, err = r.stdout.decode(), r.stderr.decode()
    check("rc=64" in out, "nested --approver accepted: %r %r" % (out, err))
    check("inside a guarded session" in err, "message: %r" % err)
    check(w.ran() == [], "ran: %r" % w.ran())


def t_approver_one_line(w):
    r = run_plain(w, [EXECGUARD, "run", "--approver", "true\nset allow-once 60", "--", "true"])
    check(r.returncode == 78, "status %r: %r" % (r.returncode, r.stderr))


# ------------------------------------------------------------ the session's memory

def t_cooldown_default(w):
    """After a no, the same command from a new process of the session is
    refused without a question; the message tells the agent to stop."""
    w.reset_log()
    s = Session(w, bash_c("terraform destroy; echo rc1=$?; "
                          "bash -c 'terraform destroy'; echo rc2=$?"))
    try:
        s.expect(QUESTION)
        pos = len(s.out)
        s.send(b"no\r")
        s.expect(b"rc1=126", start=pos)
        s.expect(b"rc2=126", start=pos)
        s.wait()
        check(s.out.count(b"needs your approval") == 1, "asked again:\n" + s.text())
        check(b"refused again without asking" in s.out, "message:\n" + s.text())
        check(b"Stop retrying" in s.out, "message:\n" + s.text())
        check(w.ran() == [], "ran: %r" % w.ran())
    finally:
        s.close()
    recs = [x for x in audit_records(w) if x.get("why") == "refused-recently"]
    check(recs, "no audit record for the repeated refusal")


def t_cooldown_off(w):
    w.reset_log()
    settings(w, "set refuse-cooldown 0\n")
    s = Session(w, bash_c("terraform destroy; echo rc1=$?; "
                          "bash -c 'terraform destroy'; echo rc2=$?"))
    try:
        s.expect(QUESTION)
        pos = len(s.out)
        s.send(b"no\r")
        s.expect(b"rc1=126", start=pos)
        s.expect(QUESTION, start=pos)
        pos = len(s.out)
        s.send(b"yes\r")
        s.expect(b"rc2=0", start=pos)
        s.wait()
        check(w.ran() == ["terraform destroy"], "ran: %r" % w.ran())
    finally:
        s.close()
        unset_settings(w)


def t_cooldown_not_other_sessions(w):
    """The memory is the session's: a new `execguard run` asks again."""
    w.reset_log()
    for answer, expect_rc in ((b"no\r", b"rc=126"), (b"yes\r", b"rc=0")):
        s = Session(w, bash_c("terraform destroy; echo rc=$?"))
        try:
            s.expect(QUESTION)
            pos = len(s.out)
            s.send(answer)
            s.expect(expect_rc, start=pos)
            s.wait()
        finally:
            s.close()
    check(w.ran() == ["terraform destroy"], "ran: %r" % w.ran())


def t_allow_once_off_by_default(w):
    w.reset_log()
    s = Session(w, bash_c("terraform destroy; bash -c 'terraform destroy'; echo done"))
    try:
        s.expect(QUESTION)
        pos = len(s.out)
        s.send(b"yes\r")
        s.expect(QUESTION, start=pos)
        s.send(b"yes\r")
        s.expect(b"done")
        s.wait()
        check(w.ran() == ["terraform destroy"] * 2, "ran: %r" % w.ran())
    finally:
        s.close()


def t_allow_once_window(w):
    """allow-once: the same argv in the same cwd runs again without a
    question; another cwd or another argv is asked."""
    w.reset_log()
    settings(w, "set allow-once 600\n")
    other = os.path.join(w.root, "other")
    os.makedirs(other, exist_ok=True)
    s = Session(w, bash_c("terraform destroy; echo rc1=$?; bash -c 'terraform destroy'; "
                          "echo rc2=$?; cd '%s' && terraform destroy; echo rc3=$?; "
                          "terraform destroy -auto-approve; echo rc4=$?" % other))
    try:
        s.expect(QUESTION)
        pos = len(s.out)
        s.send(b"yes\r")
        s.expect(b"rc2=0", start=pos)
        # only up to rc2: the next (other cwd) question may already be in
        # the same read
        window = s.out[pos:s.out.index(b"rc2=0", pos)]
        check(window.count(QUESTION) == 0, "asked again in the window:\n" + s.text())
        s.expect(QUESTION, start=pos)   # other cwd
        pos = len(s.out)
        s.send(b"no\r")
        s.expect(b"rc3=126", start=pos)
        s.expect(QUESTION, start=pos)   # other argv
        pos = len(s.out)
        s.send(b"no\r")
        s.expect(b"rc4=126", start=pos)
        s.wait()
        check(w.ran() == ["terraform destroy"] * 2, "ran: %r" % w.ran())
    finally:
        s.close()
        unset_settings(w)
    recs = [x for x in audit_records(w) if x.get("why") == "allow-once"]
    check(recs, "no audit record for the remembered approval")


def t_allow_once_approver(w):
    """Memory works with the approver too: asked once, then remembered."""
    w.reset_log()
    a = Approver(w, answer=0)
    settings(w, "set allow-once 600\nset approver %s\n" % a.path)
    try:
        r = run_plain(w, guarded("bash", "-c", "terraform destroy; terraform destroy; "
                                 "sh -c 'terraform destroy'"))
    finally:
        unset_settings(w)
    check(r.returncode == 0, "status %r %r" % (r.returncode, r.stderr))
    check(w.ran() == ["terraform destroy"] * 3, "ran: %r" % w.ran())
    check(len(a.seen()) == 1, "approver asked %d times" % len(a.seen()))


def t_memory_file_private(w):
    """The memory page is 0600 in a 0700 directory; a foreign-mode file is
    ignored (asked again), never trusted."""
    w.reset_log()
    a = Approver(w, answer=1)
    r = run_plain(w, [EXECGUARD, "run", "--approver", a.path, "--",
                      "bash", "-c", "terraform destroy; terraform destroy"])
    check(len(a.seen()) == 1, "approver asked %d times" % len(a.seen()))
    d = os.path.join(w.env["XDG_RUNTIME_DIR"], "execguard")
    files = [f for f in os.listdir(d) if f.startswith("memory-")]
    check(files, "no memory file in %s" % d)
    for f in files:
        st = os.stat(os.path.join(d, f))
        check(st.st_mode & 0o777 == 0o600, "mode %o" % st.st_mode)
    check(os.stat(d).st_mode & 0o077 == 0, "directory mode %o" % os.stat(d).st_mode)
    check(r.returncode == 126, "status %r" % r.returncode)


# ------------------------------------------------------------ agent hooks

def claude_hook(w, request):
    data = request if isinstance(request, (bytes, str)) else json.dumps(request)
    if isinstance(data, str):
        data = data.encode()
    r = run_plain(w, [EXECGUARD, "hook", "claude-code"], stdin=data)
    check(r.returncode == 0, "hook exit %r: %r" % (r.returncode, r.stderr))
    out = r.stdout.decode()
    if not out.strip():
        return None
    answer = json.loads(out)
    h = answer["hookSpecificOutput"]
    check(h["hookEventName"] == "PreToolUse", "event %r" % h)
    check(set(h) == {"hookEventName", "permissionDecision", "permissionDecisionReason"},
          "fields %r" % h)
    return h


def bash_request(command, **more):
    req = {"session_id": "abc", "transcript_path": "/dev/null", "cwd": "/tmp",
           "hook_event_name": "PreToolUse", "tool_name": "Bash",
           "tool_input": {"command": command, "description": "test"}}
    req.update(more)
    return req


def t_hook_ask(w):
    h = claude_hook(w, bash_request("cd infra && terraform destroy -auto-approve"))
    check(h and h["permissionDecision"] == "ask", "answer %r" % h)
    check("terraform.destroy" in h["permissionDecisionReason"], "reason %r" % h)
    h = claude_hook(w, bash_request("bash -c 'dropdb orders'"))
    check(h and h["permissionDecision"] == "ask", "answer %r" % h)
    check("postgres.dropdb" in h["permissionDecisionReason"], "reason %r" % h)
    check(w.ran() == [], "the hook ran something: %r" % w.ran())


def t_hook_allow_is_silent(w):
    for cmd in ("ls -la", "terraform plan", "git status && make -j4"):
        h = claude_hook(w, bash_request(cmd))
        check(h is None, "answered %r for %r" % (h, cmd))
    h = claude_hook(w, {"tool_name": "Read", "tool_input": {"file_path": "/etc/hosts"}})
    check(h is None, "answered %r for a Read" % h)


def t_hook_deny(w):
    settings(w, "rule test.never\n  program   eg-fake-never\n  match     now\n  action    deny\n"
                "  reason    Never from an agent.\n  example   eg-fake-never now\n")
    try:
        h = claude_hook(w, bash_request("sudo eg-fake-never now"))
    finally:
        unset_settings(w)
    check(h and h["permissionDecision"] == "deny", "answer %r" % h)
    check("test.never" in h["permissionDecisionReason"] and
          "Never from an agent." in h["permissionDecisionReason"], "reason %r" % h)


def t_hook_fails_closed(w):
    for bad in (b"", b"{", b'{"tool_name":"Bash","tool_input":{"command":"ls"},}',
                b'{"tool_name":"Bash","tool_input":{"command":"ls","command":"x"}}',
                b'{"tool_name":"Bash","tool_input":{}}',
                b'{"tool_name":"Bash","tool_input":{"command":["ls"]}}'):
        h = claude_hook(w, bad)
        check(h and h["permissionDecision"] == "deny", "answer %r for %r" % (h, bad))
    settings(w, "rule broken\n  program x\n  match (\n  action deny\n")
    try:
        h = claude_hook(w, bash_request("ls"))
    finally:
        unset_settings(w)
    check(h and h["permissionDecision"] == "deny", "broken rules: answer %r" % h)


def t_hook_usage(w):
    r = run_plain(w, [EXECGUARD, "hook", "codex"])
    check(r.returncode == 64, "status %r" % r.returncode)
    r = run_plain(w, [EXECGUARD, "hook"])
    check(r.returncode == 64, "status %r" % r.returncode)
    r = run_plain(w, [EXECGUARD, "hook", "--help"])
    check(r.returncode == 0 and b"PreToolUse" in r.stdout, "help %r" % r.stdout)


# ------------------------------------------------------------ the shipped approvers

DESKTOP = os.path.join(APPROVERS, "execguard-approve-desktop")
WEBHOOK = os.path.join(APPROVERS, "execguard-approve-webhook")
RELAY = os.path.join(APPROVERS, "execguard-slack-relay")


def fake_dialog(w, name, status, prints=""):
    """A fake zenity/kdialog first in a private PATH: records its argv."""
    d = os.path.join(w.root, "dialogbin")
    os.makedirs(d, exist_ok=True)
    rec = os.path.join(w.root, name + ".args")
    if os.path.exists(rec):
        os.unlink(rec)
    write(os.path.join(d, name),
          "#!/bin/sh\nfor a in \"$@\"; do printf '%%s\\n' \"$a\"; done >> '%s'\n"
          "printf '%s'\nexit %d\n" % (rec, prints, status), 0o755)
    return d, rec


def sample_request(**more):
    req = {"version": 1, "command": "terraform destroy", "argv": ["terraform", "destroy"],
           "cwd": "/srv/infra", "rule": "terraform.destroy", "reason": "Destroys everything.",
           "rule_file": "/x/terraform.rules:3", "required": "yes", "pid": 42,
           "program": "bash", "parents": "claude(40)", "session": "00", "timeout": 30}
    req.update(more)
    return json.dumps(req).encode()


def run_desktop(w, dialog_dir, request, display=True):
    env = {"PATH": dialog_dir + ":/usr/bin:/bin", "HOME": w.env["HOME"]}
    if display:
        env["DISPLAY"] = ":99"
    return subprocess.run([sys.executable, DESKTOP], input=request, env=env,
                          capture_output=True, timeout=60)


def t_desktop_zenity(w):
    d, rec = fake_dialog(w, "zenity", 0)
    r = run_desktop(w, d, sample_request())
    check(r.returncode == 0, "Run it clicked, exit %r %r" % (r.returncode, r.stderr))
    with open(rec) as f:
        args = f.read()
    check("--question" in args and "terraform destroy" in args and "/srv/infra" in args
          and "Destroys everything." in args and "--no-markup" in args, "dialog: %r" % args)
    check("--default-cancel" in args, "Refuse is not the default: %r" % args)
    d, rec = fake_dialog(w, "zenity", 1)
    r = run_desktop(w, d, sample_request())
    check(r.returncode == 1, "Refuse clicked, exit %r" % r.returncode)
    d, rec = fake_dialog(w, "zenity", 5)  # zenity's timeout status
    check(run_desktop(w, d, sample_request()).returncode == 1, "timeout approved")


def t_desktop_word_and_fallbacks(w):
    d, rec = fake_dialog(w, "zenity", 0, prints="orders\n")
    r = run_desktop(w, d, sample_request(required="orders"))
    check(r.returncode == 0, "the right word refused: %r" % r.stderr)
    d, rec = fake_dialog(w, "zenity", 0, prints="yes\n")
    check(run_desktop(w, d, sample_request(required="orders")).returncode == 1,
          "the wrong word approved")
    d, rec = fake_dialog(w, "zenity", 0)
    r = run_desktop(w, d, sample_request(), display=False)
    check(r.returncode == 1 and not os.path.exists(rec), "no display, yet asked/approved")
    check(run_desktop(w, d, b"{not json").returncode == 1, "garbage approved")
    check(run_desktop(w, d, sample_request(version=2)).returncode == 1, "version 2 approved")
    os.unlink(os.path.join(d, "zenity"))
    d, rec = fake_dialog(w, "kdialog", 0)
    r = run_desktop(w, d, sample_request())
    check(r.returncode == 0 and os.path.exists(rec), "kdialog not used: %r" % r.stderr)
    os.unlink(os.path.join(d, "kdialog"))
    r = run_desktop(w, d, sample_request())
    check(r.returncode == 1 and b"neither zenity nor kdialog" in r.stderr, "no dialog: %r" % r.stderr)


def t_desktop_through_the_guard(w):
    """End to end: the guard runs the desktop approver, which runs the fake
    zenity; DISPLAY reaches it, the agent's PATH does not."""
    w.reset_log()
    d, rec = fake_dialog(w, "zenity", 0)
    approver = "PATH=%s:/usr/bin:/bin %s" % (d, DESKTOP)
    r = run_plain(w, [EXECGUARD, "run", "--approver", approver, "--",
                      "bash", "-c", "terraform destroy; echo rc=$?"], env={"DISPLAY": ":99"})
    check(b"rc=0" in r.stdout, "not approved: %r %r" % (r.stdout, r.stderr))
    check(w.ran() == ["terraform destroy"], "ran: %r" % w.ran())
    check(os.path.exists(rec), "zenity was not asked")


class FakeSlack:
    """Stands in for Slack's incoming webhook: keeps the messages posted."""

    def __init__(self):
        self.messages = []
        outer = self

        class H(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                outer.messages.append(json.loads(self.rfile.read(n))["text"])
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = "http://127.0.0.1:%d/hook" % self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def wait_code(self, n, timeout=20):
        import time
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if len(self.messages) >= n:
                m = re.search(r"/approve (\d{6})", self.messages[n - 1])
                check(m, "no code in the message: %r" % self.messages[n - 1])
                return m.group(1)
            time.sleep(0.05)
        raise Fail("nothing posted to Slack")

    def close(self):
        self.httpd.shutdown()


class RelayWorld:
    def __init__(self, w):
        import time
        self.secret = "s3cret-signing"
        d = os.path.join(w.root, "relay")
        os.makedirs(d, exist_ok=True)
        self.slack = FakeSlack()
        files = {}
        for name, text in (("webhook", self.slack.url), ("signing", self.secret),
                           ("token", "relay-token")):
            files[name] = os.path.join(d, name)
            write(files[name], text + "\n", 0o600)
        self.token_file = files["token"]
        self.proc = subprocess.Popen(
            [sys.executable, RELAY, "--listen", "127.0.0.1:0", "--slack-webhook-file",
             files["webhook"], "--signing-secret-file", files["signing"], "--token-file",
             files["token"], "--allow-user", "U1", "--allow-user", "U2"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        line = self.proc.stdout.readline().decode()
        m = re.search(r"http://127\.0\.0\.1:(\d+)", line)
        check(m, "relay did not start: %r" % line)
        self.base = "http://127.0.0.1:%s" % m.group(1)
        self.time = time

    def slash(self, command, code, user="U1", secret=None, ts=None):
        """What Slack sends for `/approve CODE`, signed like Slack signs it."""
        import hashlib
        import hmac
        import urllib.parse
        import urllib.request
        body = urllib.parse.urlencode({"command": command, "text": code, "user_id": user}).encode()
        ts = str(int(self.time.time()) if ts is None else ts)
        sig = "v0=" + hmac.new((secret or self.secret).encode(), b"v0:" + ts.encode() + b":" + body,
                               hashlib.sha256).hexdigest()
        req = urllib.request.Request(self.base + "/slack/command", data=body, headers={
            "X-Slack-Request-Timestamp": ts, "X-Slack-Signature": sig,
            "Content-Type": "application/x-www-form-urlencoded"})
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, None

    def approver(self):
        return "%s %s/requests --token-file %s" % (WEBHOOK, self.base, self.token_file)

    def close(self):
        self.proc.kill()
        self.proc.wait()
        self.slack.close()


def t_webhook_slack_flow(w):
    """The README's Slack flow, with a local stand-in for Slack: the request
    is posted to the channel with a code; a forged, a wrongly signed, an
    unlisted user's and a wrong code do nothing; `/approve CODE` approves."""
    import urllib.error  # noqa: F401 (used by RelayWorld.slash)
    w.reset_log()
    rw = RelayWorld(w)
    try:
        agent = subprocess.Popen(
            [EXECGUARD, "run", "--approver", rw.approver(), "--",
             "bash", "-c", "terraform destroy -target=db; echo rc=$?"],
            env=dict(w.env), cwd=w.work, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            start_new_session=True)
        try:
            code = rw.slack.wait_code(1)
            msg = rw.slack.messages[0]
            check("terraform destroy -target=db" in msg and "terraform.destroy" in msg,
                  "message: %r" % msg)
            wrong = "%06d" % ((int(code) + 1) % 1000000)
            st, ans = rw.slash("/approve", wrong)
            check(st == 200 and "No waiting request" in ans["text"], "wrong code: %r" % ans)
            st, _ = rw.slash("/approve", code, secret="not-the-secret")
            check(st == 401, "a badly signed command was accepted: %r" % st)
            st, _ = rw.slash("/approve", code, ts=1)
            check(st == 401, "a replayed command was accepted: %r" % st)
            st, ans = rw.slash("/approve", code, user="U9")
            check(st == 200 and "not allowed" in ans["text"], "unlisted user: %r" % ans)
            check(agent.poll() is None and w.ran() == [], "ran before the approval")
            st, ans = rw.slash("/approve", code, user="U2")
            check(st == 200 and "approved" in ans["text"], "approve: %r" % ans)
            out, err = agent.communicate(timeout=30)
        finally:
            if agent.poll() is None:
                agent.kill()
                agent.wait()
        check(b"rc=0" in out, "not approved: %r %r" % (out, err))
        check(w.ran() == ["terraform destroy -target=db"], "ran: %r" % w.ran())
        st, ans = rw.slash("/approve", code)
        check("No waiting request" in ans["text"], "a code worked twice: %r" % ans)
    finally:
        rw.close()


def t_webhook_deny_and_dead_relay(w):
    w.reset_log()
    rw = RelayWorld(w)
    try:
        agent = subprocess.Popen(
            [EXECGUARD, "run", "--approver", rw.approver(), "--",
             "bash", "-c", "terraform destroy; echo rc=$?"],
            env=dict(w.env), cwd=w.work, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            start_new_session=True)
        try:
            code = rw.slack.wait_code(1)
            st, ans = rw.slash("/deny", code)
            check(st == 200 and "refused" in ans["text"], "deny: %r" % ans)
            out, err = agent.communicate(timeout=30)
        finally:
            if agent.poll() is None:
                agent.kill()
                agent.wait()
        check(b"rc=126" in out and b"approver said no" in err, "not refused: %r %r" % (out, err))
        approver = rw.approver()
    finally:
        rw.close()
    # the relay is gone: refused at once, nothing runs
    r = run_plain(w, [EXECGUARD, "run", "--approver", approver, "--",
                      "bash", "-c", "terraform destroy; echo rc=$?"])
    check(b"rc=126" in r.stdout, "approved without a relay: %r" % r.stdout)
    check(w.ran() == [], "ran: %r" % w.ran())


# ------------------------------------------------------------ approve from another terminal

CODE_RE = re.compile(rb"execguard approve ([a-z2-9]{4}-[a-z2-9]{4})")
ID_RE = re.compile(rb"execguard deny ([a-z2-9]{4}-\d+)")


def elsewhere(*cmd):
    return [EXECGUARD, "run", "--approve-elsewhere", "--"] + list(cmd)


def eg(w, *args):
    """`execguard ARGS` from another process: no terminal, like a second
    terminal's shell (it shares only the user's runtime directory)."""
    return run_plain(w, [EXECGUARD] + list(args))


def next_code(s, start=0):
    """The next request shown on the session's terminal: its code and id."""
    s.expect(CODE_RE, start=start)
    m = CODE_RE.search(s.out, start)
    s.expect(ID_RE, start=m.end())
    ids = ID_RE.search(s.out, m.end())
    return m.group(1).decode(), ids.group(1).decode(), ids.end()


def t_elsewhere_approve(w):
    """The code is read from the session's terminal (not from the agent's
    pipes) and approved from a second process."""
    w.reset_log()
    out = os.path.join(w.root, "agent-output")
    s = Session(w, elsewhere("bash", "-c", "terraform destroy >'%s' 2>&1; echo rc=$? >>'%s'; "
                             "echo finished" % (out, out)))
    try:
        code, rid, pos = next_code(s)
        check(w.ran() == [], "ran before the approval")
        check(QUESTION not in s.out, "asked on the terminal as well:\n" + s.text())
        r = eg(w, "pending")
        listing = r.stdout.decode()
        check(r.returncode == 0 and rid in listing and "terraform destroy" in listing,
              "pending: %r %r" % (listing, r.stderr))
        check(code not in listing and code.replace("-", "") not in listing,
              "pending shows the code: %r" % listing)
        r = eg(w, "approve", code)
        check(r.returncode == 0 and b"approved" in r.stdout, "approve: %r %r" % (r.stdout, r.stderr))
        s.expect(b"approved from another terminal", start=pos)
        s.expect(b"finished", start=pos)
        s.wait()
        check(s.status == 0, "status %r" % s.status)
        check(w.ran() == ["terraform destroy"], "ran: %r" % w.ran())
        with open(out) as f:
            agent_saw = f.read()
        check("rc=0" in agent_saw, "agent output: %r" % agent_saw)
        check(code not in agent_saw and code.replace("-", "") not in agent_saw,
              "the agent's output holds the code: %r" % agent_saw)
        r = eg(w, "approve", code)
        check(r.returncode != 0, "a code worked after its session ended")
    finally:
        s.close()
    recs = [x for x in audit_records(w) if x.get("outcome") == "approved"]
    check(recs and recs[-1].get("channel") == "elsewhere", "audit: %r" % recs[-1:])


def t_elsewhere_wrong_code_then_right(w):
    w.reset_log()
    s = Session(w, elsewhere("bash", "-c", "terraform destroy; echo rc=$?"))
    try:
        code, rid, pos = next_code(s)
        wrong = ("2" if code[-1] != "2" else "3")
        wrong = code[:-1] + wrong
        r = eg(w, "approve", wrong)
        check(r.returncode == 1 and b"no waiting request has that code" in r.stderr,
              "wrong code: %r %r" % (r.returncode, r.stderr))
        s.expect(b"a wrong approval code was tried", start=pos)
        check(w.ran() == [], "a wrong code ran it")
        r = eg(w, "approve", "not-even-close")
        check(r.returncode == 1, "garbage code: %r" % r.returncode)
        r = eg(w, "approve", code.upper().replace("-", ""))  # as typed in a hurry
        check(r.returncode == 0, "right code refused: %r %r" % (r.stdout, r.stderr))
        s.expect(b"rc=0", start=pos)
        s.wait()
        check(w.ran() == ["terraform destroy"], "ran: %r" % w.ran())
    finally:
        s.close()


def t_elsewhere_guessing_refuses_all(w):
    w.reset_log()
    s = Session(w, elsewhere("bash", "-c", "terraform destroy; echo rc=$?"))
    try:
        code, rid, pos = next_code(s)
        for k in range(5):
            eg(w, "approve", code[:2] + "zz-zzz" + str(k + 2))
        s.expect(b"wrong approval codes were tried; every waiting request is refused", start=pos)
        s.expect(b"rc=126", start=pos)
        check(b"Wrong approval codes were tried" in s.out, "message:\n" + s.text())
        r = eg(w, "approve", code)
        check(r.returncode != 0, "the code still worked after the lock-out")
        s.wait()
        check(w.ran() == [], "ran: %r" % w.ran())
    finally:
        s.close()


def t_elsewhere_expired(w):
    w.reset_log()
    settings(w, "set prompt-timeout 2\n")
    s = Session(w, elsewhere("bash", "-c", "terraform destroy; echo rc=$?; read x; echo bye"))
    try:
        code, rid, pos = next_code(s)
        s.expect(b"refused: no approval within 2 s", start=pos)
        s.expect(b"rc=126", start=pos)
        r = eg(w, "approve", code)  # the broker still runs: `read x` waits
        check(r.returncode == 1, "an expired code: %r %r" % (r.stdout, r.stderr))
        s.send(b"\r")
        s.expect(b"bye", start=pos)
        s.wait()
        check(w.ran() == [], "ran: %r" % w.ran())
    finally:
        s.close()
        unset_settings(w)


def t_elsewhere_deny(w):
    w.reset_log()
    s = Session(w, elsewhere("bash", "-c", "terraform destroy; echo rc=$?"))
    try:
        code, rid, pos = next_code(s)
        r = eg(w, "deny", rid)
        check(r.returncode == 0 and b"refused" in r.stdout, "deny: %r %r" % (r.stdout, r.stderr))
        s.expect(b"rc=126", start=pos)
        check(b"The human at the terminal said no" in s.out or b"said no" in s.out,
              "message:\n" + s.text())
        s.wait()
        check(w.ran() == [], "ran: %r" % w.ran())
        r = eg(w, "deny", rid)
        check(r.returncode != 0, "denied twice")
    finally:
        s.close()


def t_elsewhere_broker_dies(w):
    """The broker is killed while a request waits: refused, nothing runs.
    (It is started by a shell here, as a person would: were it the pty's
    session leader, its death would hang up the whole terminal.)"""
    w.reset_log()
    inner = "terraform destroy; echo rc=$?; terraform destroy; echo rc2=$?"
    s = Session(w, ["bash", "-c", "'%s' run --approve-elsewhere -- bash -c '%s'; sleep 5"
                    % (EXECGUARD, inner)])
    try:
        code, rid, pos = next_code(s)
        m = re.search(rb"execguard\((\d+)\)", s.out)
        check(m, "no broker pid in the chain:\n" + s.text())
        os.kill(int(m.group(1)), 9)  # the `execguard run` process is the broker
        s.expect(b"rc=126", start=pos)
        s.expect(b"rc2=126", start=pos)
        check(b"approval service of this session is not running" in s.out,
              "message:\n" + s.text())
        check(w.ran() == [], "ran: %r" % w.ran())
        r = eg(w, "approve", code)
        check(r.returncode != 0, "approved with no broker")
    finally:
        s.close()


FAKE_BROKER = """
import os, socket, sys
path = os.environ["EXECGUARD_BROKER"].split(":", 1)[1]
os.unlink(path)
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(path)
srv.listen(8)
open(sys.argv[1], "w").close()
while True:
    c, _ = srv.accept()
    c.recv(1 << 20)
    c.sendall(b"YES\\n")
    c.close()
"""


def t_elsewhere_fake_broker(w):
    """The agent replaces the broker's socket with its own that says YES:
    the hooks see the peer is not the session's broker and refuse."""
    w.reset_log()
    fake = os.path.join(w.root, "fakebroker.py")
    ready = os.path.join(w.root, "fake-ready")
    write(fake, FAKE_BROKER)
    if os.path.exists(ready):
        os.unlink(ready)
    s = Session(w, elsewhere("bash", "-c",
                             "python3 '%s' '%s' & f=$!; while [ ! -e '%s' ]; do sleep 0.05; done; "
                             "terraform destroy; echo rc=$?; kill $f" % (fake, ready, ready)))
    try:
        s.expect(b"rc=", timeout=30)
        s.wait()
        check(b"rc=126" in s.out, "the fake broker approved:\n" + s.text())
        check(w.ran() == [], "ran: %r" % w.ran())
    finally:
        s.close()


def t_elsewhere_two_agents(w):
    """Two sessions and two requests in one session, interleaved: each code
    approves its own request only; a request is refused by id."""
    w.reset_log()
    a = Session(w, elsewhere("bash", "-c", "terraform destroy -target=a1 & "
                             "sleep 0.5; terraform destroy -target=a2; wait; echo a-done"))
    b = Session(w, elsewhere("bash", "-c", "dropdb orders_b; echo b-rc=$?"))
    try:
        a_code1, a_id1, pa = next_code(a)
        a_code2, a_id2, pa = next_code(a, start=pa)
        b_code, b_id, pb = next_code(b)
        check(len({a_code1, a_code2, b_code}) == 3, "codes repeat")
        r = eg(w, "pending")
        lst = r.stdout.decode()
        for i in (a_id1, a_id2, b_id):
            check(i in lst, "%s not pending: %r" % (i, lst))
        check(eg(w, "approve", b_code).returncode == 0, "b's code")
        b.expect(b"b-rc=0", start=pb)
        check(w.ran() == ["dropdb orders_b"], "ran: %r" % w.ran())
        # b's code again, in a's session: nothing
        check(eg(w, "approve", b_code).returncode != 0, "b's code reused")
        # which of a's requests has which code: the terminal says, by id
        m1 = re.search(rb"\[(%s)\][\r\n]+  command:  terraform destroy -target=(a\d)" % a_id1.encode(), a.out)
        check(m1, "request %s not on the terminal:\n%s" % (a_id1, a.text()))
        target1 = m1.group(2).decode()
        check(eg(w, "deny", a_id2).returncode == 0, "deny a2")
        check(eg(w, "approve", a_code1).returncode == 0, "approve a1")
        a.expect(b"a-done", start=pa)
        a.wait()
        b.wait()
        ran = sorted(w.ran())
        check(ran == sorted(["dropdb orders_b", "terraform destroy -target=%s" % target1]),
              "ran: %r (a1 is %s)" % (ran, target1))
    finally:
        a.close()
        b.close()


def t_elsewhere_run_cmd_itself(w):
    """`execguard run --approve-elsewhere -- terraform destroy`: CMD itself
    waits for the broker, which is already up."""
    w.reset_log()
    s = Session(w, elsewhere("terraform", "destroy"))
    try:
        code, rid, pos = next_code(s)
        check(eg(w, "approve", code).returncode == 0, "approve")
        s.wait()
        check(s.status == 0, "status %r" % s.status)
        check(w.ran() == ["terraform destroy"], "ran: %r" % w.ran())
    finally:
        s.close()
    s = Session(w, elsewhere("terraform", "destroy"))
    try:
        code, rid, pos = next_code(s)
        check(eg(w, "deny", rid).returncode == 0, "deny")
        s.wait()
        check(s.status == 126, "status %r" % s.status)
    finally:
        s.close()


def t_elsewhere_no_terminal(w):
    w.reset_log()
    r = run_plain(w, elsewhere("bash", "-c", "terraform destroy; echo rc=$?"))
    check(b"rc=126" in r.stdout, "approved with no terminal: %r" % r.stdout)
    check(b"no terminal" in r.stderr, "message: %r" % r.stderr)
    check(w.ran() == [], "ran: %r" % w.ran())


def t_elsewhere_not_from_inside(w):
    r = run_plain(w, guarded("bash", "-c",
                             EXECGUARD + " run --approve-elsewhere -- true; echo rc=$?"))
    check(b"rc=64" in r.stdout, "nested --approve-elsewhere accepted: %r %r" % (r.stdout, r.stderr))


def t_elsewhere_no_broker(w):
    """`set approve-elsewhere on` in a session without a broker (shell-init,
    ld.so.preload, a sandbox): refused, fail closed."""
    w.reset_log()
    settings(w, "set approve-elsewhere on\n")
    try:
        env = dict(w.env)
        env["LD_PRELOAD"] = os.environ.get("EG_LIBRARY", "")
        r = subprocess.run(["bash", "-c", "terraform destroy; echo rc=$?"], env=env, cwd=w.work,
                           capture_output=True, timeout=60, start_new_session=True)
    finally:
        unset_settings(w)
    check(b"rc=126" in r.stdout, "not refused: %r %r" % (r.stdout, r.stderr))
    check(w.ran() == [], "ran: %r" % w.ran())


def t_approve_usage(w):
    check(eg(w, "approve").returncode == 64, "approve without a code")
    check(eg(w, "deny", "a", "b").returncode == 64, "deny with two")
    r = eg(w, "pending")
    check(r.returncode in (0, 69), "pending: %r" % r.returncode)


CASES = [
    ("approver: exit 0 approves; the JSON request carries everything", t_approver_yes),
    ("approver: non-zero exit refuses", t_approver_no),
    ("approver: no answer within the timeout refuses", t_approver_timeout),
    ("approver: `set approver` in a rule file, no terminal needed", t_approver_setting),
    ("approver: runs with a fixed PATH, not the agent's environment",
     t_approver_env_is_not_the_agents),
    ("approver: --approver refused inside a guarded session", t_approver_not_from_inside),
    ("approver: a multi-line --approver is a configuration error", t_approver_one_line),
    ("memory: a refusal is remembered by the session's other processes", t_cooldown_default),
    ("memory: refuse-cooldown 0 asks again", t_cooldown_off),
    ("memory: a new session asks again", t_cooldown_not_other_sessions),
    ("memory: allow-once is off by default", t_allow_once_off_by_default),
    ("memory: allow-once runs the same argv in the same cwd again", t_allow_once_window),
    ("memory: allow-once with an approver", t_allow_once_approver),
    ("memory: the memory file is private", t_memory_file_private),
    ("hook claude-code: ask for a confirm rule, with its reason", t_hook_ask),
    ("hook claude-code: nothing for allowed commands and other tools", t_hook_allow_is_silent),
    ("hook claude-code: deny for a deny rule", t_hook_deny),
    ("hook claude-code: bad requests and broken rules are denied", t_hook_fails_closed),
    ("hook: usage", t_hook_usage),
    ("desktop approver: zenity's answer, Refuse by default", t_desktop_zenity),
    ("desktop approver: critical word, no display, kdialog, no dialog", t_desktop_word_and_fallbacks),
    ("desktop approver: end to end through the guard", t_desktop_through_the_guard),
    ("webhook approver: the Slack /approve flow, with wrong and forged answers",
     t_webhook_slack_flow),
    ("webhook approver: /deny refuses; a dead relay refuses", t_webhook_deny_and_dead_relay),
    ("elsewhere: code read from the pty, approved from a second process", t_elsewhere_approve),
    ("elsewhere: a wrong code does nothing, the right one approves", t_elsewhere_wrong_code_then_right),
    ("elsewhere: guessing codes refuses every waiting request", t_elsewhere_guessing_refuses_all),
    ("elsewhere: an expired code approves nothing", t_elsewhere_expired),
    ("elsewhere: deny ID refuses", t_elsewhere_deny),
    ("elsewhere: the broker dies: refused (fail closed)", t_elsewhere_broker_dies),
    ("elsewhere: a fake broker on the socket path is not believed", t_elsewhere_fake_broker),
    ("elsewhere: two agents' requests interleaved", t_elsewhere_two_agents),
    ("elsewhere: execguard run's own CMD waits for the broker", t_elsewhere_run_cmd_itself),
    ("elsewhere: no terminal for the code: refused", t_elsewhere_no_terminal),
    ("elsewhere: not from inside a guarded session", t_elsewhere_not_from_inside),
    ("elsewhere: set without a broker: refused", t_elsewhere_no_broker),
    ("pending/approve/deny: usage", t_approve_usage),
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
