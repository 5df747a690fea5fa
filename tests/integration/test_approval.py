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
    check(recs and recs[-1].get("why") == "approver", "audit: %r" % recs[-1:])


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
        # and what the real approver sees: fixed PATH, no preload, no agent variables
        run_plain(w, [EXECGUARD, "run", "--approver", a.path, "--",
                      "bash", "-c", "terraform destroy"],
                  env={"AGENT_SECRET": "x", "BASH_ENV": "/dev/null"})
        e = a.env()
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
        check(s.out[pos:].count(QUESTION) == 0, "asked again in the window:\n" + s.text())
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
