#!/usr/bin/env python3
"""Every command example in README.md is run, so that none can rot.

Blocks and what is done with them:

  ```sh        the block is a bash script (bash -e): it must exit 0.
  ```console   lines starting with "$ " are commands, run one after the
               other in one bash (so `echo $?` sees the previous one); the
               lines after a command are its expected output (stdout and
               stderr), where "…" matches any text within a line, a line
               that is only "…" matches any number of lines, and "pid N" and
               "name(N)" match any number. A command
               without expected lines whose trailing comment names a decision
               (# allow, # log, # confirm, # deny) must print that decision.
  <!-- readme-test: terminal -->
  ```console   a terminal transcript: the one command runs on a fresh
               pseudo-terminal; the answer shown after "... to run it...: "
               is typed; the screen must match the lines (as above); a
               following `$ echo $?` checks the exit status.
  <!-- readme-test: skip (why) -->
               just before a block: not run; the reason is required.

Other blocks (```dockerfile, ```json, plain ```) are not commands.

The sandbox, the same for every block, in README order: a private mount
namespace (root, or a user namespace) in which /usr/local is this build
freshly installed (`meson install --destdir`, relocated: the real
/usr/local/bin is hidden), /home is an empty tmpfs with HOME=/home/me and the
working directory /home/me/project (where build/cli/execguard is this
build's binary), fake destructive tools and fake agents first in PATH (they
only append their argv to a log), no terminal (a new session, stdin
/dev/null), and the system rule directory the installed example. A block that
starts a program through sudo, doas or su (which reset PATH and would find
the real tools) is an error unless it is skipped.

Environment (set by meson): EG_EXECGUARD, EG_BUILD_ROOT, EG_SOURCE_ROOT.
Output: TAP. Exit 77 (skip) when no mount namespace can be made.
"""
import fcntl
import os
import pty
import re
import select
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import termios
import time

EXECGUARD = os.environ.get("EG_EXECGUARD", "")
BUILD_ROOT = os.environ.get("EG_BUILD_ROOT", "")
SOURCE_ROOT = os.environ.get("EG_SOURCE_ROOT", "")
README = os.path.join(SOURCE_ROOT, "README.md")

HOME = "/home/me"
WORK = HOME + "/project"
FAKES = ("terraform", "tofu", "terragrunt", "dropdb", "psql", "mysql", "kubectl", "helm",
         "aws", "gcloud", "az", "docker", "podman", "pulumi", "claude", "codex", "aider",
         "gemini", "make")
BLOCK_TIMEOUT = 120  # seconds; an upper bound, never asserted on
DECISIONS = ("allow", "log", "confirm", "deny")
MARKER = re.compile(r"^<!--\s*readme-test:\s*(.*?)\s*-->\s*$")


# ---------------------------------------------------------------- README

class Block:
    def __init__(self, lang, line, marker):
        self.lang, self.line, self.marker, self.lines = lang, line, marker, []

    def name(self):
        return "README.md:%d ```%s" % (self.line, self.lang)


def parse_readme(path):
    blocks, marker, cur = [], None, None
    with open(path, encoding="utf-8") as f:
        for no, raw in enumerate(f, 1):
            line = raw.rstrip("\n")
            if cur is not None:
                if line.startswith("```"):
                    blocks.append(cur)
                    cur = None
                else:
                    cur.lines.append(line)
                continue
            if line.startswith("```"):
                cur = Block(line[3:].strip(), no, marker)
                marker = None
                continue
            m = MARKER.match(line.strip())
            if m:
                marker = (m.group(1), no)
            elif line.strip():
                marker = None  # a marker belongs to the block right after it
    return blocks


def commands_of(lines):
    """[(command, [expected lines])] of a console block; `\\` continues."""
    out, cmd = [], None
    for line in lines:
        if cmd is not None and cmd.endswith("\\"):
            cmd = cmd + "\n" + line
            out[-1] = (cmd, out[-1][1])
        elif line.startswith("$ "):
            cmd = line[2:]
            out.append((cmd, []))
        elif out:
            out[-1][1].append(line)
    return out


def first_words(script):
    """The program words of a script, roughly: the first word of each line
    and of each part after ; && || | ( ), not counting VAR=value."""
    words = []
    for line in script.replace("\\\n", " ").split("\n"):
        lex = shlex.shlex(line, posix=True, punctuation_chars=True)
        lex.whitespace_split = True
        lex.commenters = "#"
        try:
            toks = list(lex)
        except ValueError:
            toks = line.split()
        start = True
        for t in toks:
            if t and all(c in ";&|()" for c in t):
                start = True
            elif start and not re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", t):
                words.append(t)
                start = False
    return words


def unsafe(script):
    for w in first_words(script):
        base = os.path.basename(w)
        if base in ("sudo", "doas", "su", "pkexec", "run0"):
            return "it runs %s, which resets PATH (the real tools would be found): " \
                   "mark it <!-- readme-test: skip (why) -->" % base
        if "/" in w and base in FAKES:
            return "it runs %s by path, not the fake" % w
    return None


# ---------------------------------------------------------------- matching

def line_regex(expected):
    parts = []
    for piece in re.split(r"(…)", expected):
        if piece == "…":
            parts.append(".*")
        else:
            # "pid 4242" and "bash(4100)" match any number
            sub = re.split(r"((?:pid )\d+|(?<=[\w.-])\(\d+\))", piece)
            for s in sub:
                if re.fullmatch(r"pid \d+", s):
                    parts.append(r"pid \d+")
                elif re.fullmatch(r"\(\d+\)", s):
                    parts.append(r"\(\d+\)")
                else:
                    parts.append(re.escape(s))
    return re.compile("^" + "".join(parts) + "$")


def lines_match(expected, actual):
    """Expected lines (with … wildcards) against actual lines."""
    def go(i, j):
        if i == len(expected):
            return j == len(actual)
        if expected[i].strip() == "…":
            return any(go(i + 1, k) for k in range(j, len(actual) + 1))
        return j < len(actual) and line_regex(expected[i]).match(actual[j]) is not None \
            and go(i + 1, j + 1)
    return go(0, 0)


# ---------------------------------------------------------------- running

class Sandbox:
    def __init__(self, root, log):
        self.root, self.log = root, log
        self.env = {
            "PATH": os.path.join(root, "fakes") + ":/usr/local/bin:/usr/bin:/bin",
            "HOME": HOME,
            "USER": "me",
            "LOGNAME": "me",
            "SHELL": "/bin/bash",
            "LANG": "C.UTF-8",
            "TERM": "xterm",
            "EXECGUARD_SYSTEM_DIR": os.path.join(root, "sysrules"),
            # a login session's private runtime directory, as systemd-logind makes it
            "XDG_RUNTIME_DIR": os.path.join(root, "xdg-run"),
        }
        os.makedirs(self.env["XDG_RUNTIME_DIR"], mode=0o700, exist_ok=True)

    def ran(self):
        if not os.path.exists(self.log):
            return []
        with open(self.log) as f:
            return f.read().splitlines()

    def bash(self, script):
        """Run a script in bash, no terminal. (status, output)."""
        try:
            p = subprocess.run(["bash", "-c", script], cwd=WORK, env=self.env,
                               stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, start_new_session=True,
                               timeout=BLOCK_TIMEOUT)
        except subprocess.TimeoutExpired as e:
            return -1, (e.output or b"").decode(errors="replace") + "\n(timed out)"
        return p.returncode, p.stdout.decode(errors="replace")

    def terminal(self, command, answer):
        """Run one command on a fresh pty as the foreground job; type the
        answer after the question. (status, screen text)."""
        master, slave = pty.openpty()
        pid = os.fork()
        if pid == 0:
            try:
                os.close(master)
                os.setsid()
                fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
                for fd in (0, 1, 2):
                    os.dup2(slave, fd)
                os.chdir(WORK)
                os.execve("/bin/bash", ["bash", "-c", command + "\nexit $?"], self.env)
            finally:
                os._exit(127)
        os.close(slave)
        out, typed = b"", False
        deadline = time.monotonic() + BLOCK_TIMEOUT
        while time.monotonic() < deadline:
            r, _, _ = select.select([master], [], [], 1.0)
            if not r:
                continue
            try:
                data = os.read(master, 4096)
            except OSError:
                break
            if not data:
                break
            out += data
            if not typed and answer is not None and re.search(
                    rb"to run it(, anything else refuses)?: $", out):
                os.write(master, answer.encode() + b"\r")
                typed = True
        else:
            os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
        os.close(master)
        text = out.decode(errors="replace").replace("\r\n", "\n").replace("\r", "")
        # what a screen shows: no bell, no escape sequences
        text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]|[\x00-\x08\x0b-\x1f\x7f]", "", text)
        return os.waitstatus_to_exitcode(status), text


# ---------------------------------------------------------------- TAP

class Tap:
    def __init__(self):
        self.n = self.failed = 0

    def ok(self, name, cond, why=""):
        self.n += 1
        if cond:
            print("ok %d - %s" % (self.n, name))
        else:
            self.failed += 1
            print("not ok %d - %s" % (self.n, name))
            for line in why.splitlines()[-60:]:
                print("#   " + line)
        sys.stdout.flush()

    def skip(self, name, why):
        self.n += 1
        print("ok %d - %s # SKIP %s" % (self.n, name, why))


def run_sh(tap, sb, b):
    script = "\n".join(b.lines) + "\n"
    bad = unsafe(script)
    if bad:
        tap.ok(b.name() + ": safe to run", False, bad)
        return
    rc, out = sb.bash("set -e\n" + script)
    tap.ok(b.name() + ": runs (exit 0)", rc == 0, "exit %d\n%s" % (rc, out))


def run_console(tap, sb, b):
    cmds = commands_of(b.lines)
    if not cmds:
        tap.ok(b.name() + ": has commands", False, "no line starts with '$ '")
        return
    bad = unsafe("\n".join(c for c, _ in cmds))
    if bad:
        tap.ok(b.name() + ": safe to run", False, bad)
        return
    script = []
    for i, (cmd, _) in enumerate(cmds):
        script.append("__s=$?; printf '\\n@@README-CMD %d@@\\n'; (exit $__s)\n{ %s\n} 2>&1" % (i, cmd))
    rc, out = sb.bash("\n".join(script) + "\n")
    parts = re.split(r"\n?@@README-CMD (\d+)@@\n", out)
    got = {int(parts[k]): parts[k + 1] for k in range(1, len(parts) - 1, 2)}
    for i, (cmd, expected) in enumerate(cmds):
        actual = got.get(i, "").rstrip("\n").split("\n") if got.get(i, "") else []
        name = "%s: $ %s" % (b.name(), cmd.split("\n")[0][:90])
        problem = None
        if i not in got:
            problem = "did not run (the block stopped early)"
        elif re.search(r"command not found|No such file or directory", "\n".join(actual)):
            problem = "a program is missing"
        elif expected:
            if not lines_match(expected, actual):
                problem = "output differs"
        else:
            m = re.search(r"#\s*(\w+)\s*$", cmd)
            if m and m.group(1) in DECISIONS and not (actual and actual[0].startswith(m.group(1) + ":")):
                problem = "the decision is not %s" % m.group(1)
        tap.ok(name, problem is None, "%s\nexpected:\n%s\nactual:\n%s" % (
            problem, "\n".join(expected), "\n".join(actual)))


def run_terminal(tap, sb, b):
    cmds = commands_of(b.lines)
    if not cmds or (len(cmds) > 1 and any(c.strip() != "echo $?" for c, _ in cmds[1:])):
        tap.ok(b.name() + ": a terminal transcript", False,
               "one command, then optionally `$ echo $?`")
        return
    cmd, expected = cmds[0]
    bad = unsafe(cmd)
    if bad:
        tap.ok(b.name() + ": safe to run", False, bad)
        return
    answer = None
    for line in expected:
        m = re.search(r"to run it(?:, anything else refuses)?: (.*)$", line)
        if m:
            answer = m.group(1)
    before = len(sb.ran())
    rc, screen = sb.terminal(cmd, answer)
    actual = screen.rstrip("\n").split("\n")
    tap.ok("%s: $ %s (answer %r) shows what the README shows" % (b.name(), cmd, answer),
           lines_match(expected, actual),
           "expected:\n%s\nactual:\n%s" % ("\n".join(expected), "\n".join(actual)))
    if len(cmds) > 1:
        want = cmds[1][1][0].strip() if cmds[1][1] else ""
        tap.ok("%s: exit status %s" % (b.name(), want), str(rc) == want, "got %d" % rc)
    if answer is not None:
        ran = sb.ran()[before:]
        if answer == "yes":
            tap.ok(b.name() + ": approved, the (fake) program ran", len(ran) > 0, "nothing ran")
        else:
            tap.ok(b.name() + ": refused, the (fake) program did not run", ran == [],
                   "ran: %s" % ran)


def inside(root):
    """In the private mount namespace: lay out the sandbox, run the blocks."""
    prefix = os.path.join(root, "prefix")
    for args in (["mount", "--bind", prefix, "/usr/local"],
                 ["mount", "-t", "tmpfs", "tmpfs", "/home"]):
        subprocess.run(args, check=True)
    os.makedirs(WORK + "/build/cli")
    os.symlink(EXECGUARD, WORK + "/build/cli/execguard")
    sb = Sandbox(root, os.path.join(root, "ran.log"))
    tap = Tap()

    # The fakes are what the sandbox finds, and the real /usr/local is gone.
    rc, out = sb.bash("for t in %s; do command -v $t; done; command -v execguard" % " ".join(FAKES))
    want = [os.path.join(root, "fakes", t) for t in FAKES] + ["/usr/local/bin/execguard"]
    tap.ok("sandbox: fakes first in PATH, execguard from the fresh install",
           out.split() == want, out)
    if out.split() != want:
        return tap

    # The first command promises the test suite's dependencies: the same
    # packages as .ci/run installs.
    with open(README) as f:
        first = re.search(r"apt-get install -y ([^&]*)&&", f.read())
    with open(os.path.join(os.path.dirname(README), ".ci", "run")) as f:
        ci = re.search(r"apt-get install -y ((?:[^\n]*\\\n)*[^\n]*)", f.read())
    readme_pkgs = set(first.group(1).split()) if first else set()
    ci_pkgs = set(ci.group(1).replace("\\", " ").split()) if ci else set()
    tap.ok("the first command installs what .ci/run installs", readme_pkgs == ci_pkgs,
           "only in README: %s; only in .ci/run: %s" % (sorted(readme_pkgs - ci_pkgs),
                                                       sorted(ci_pkgs - readme_pkgs)))

    for b in parse_readme(README):
        kind = b.marker[0] if b.marker else None
        if kind is not None and kind.startswith("skip"):
            m = re.fullmatch(r"skip\s*\((.+)\)", kind)
            if m:
                tap.skip(b.name(), m.group(1))
            else:
                tap.ok(b.name() + ": skip marker says why", False,
                       "README.md:%d: write <!-- readme-test: skip (why) -->" % b.marker[1])
            continue
        if kind not in (None, "terminal"):
            tap.ok(b.name() + ": known marker", False, "unknown marker %r" % kind)
            continue
        if b.lang == "sh" and kind is None:
            run_sh(tap, sb, b)
        elif b.lang == "console" and kind == "terminal":
            run_terminal(tap, sb, b)
        elif b.lang == "console":
            run_console(tap, sb, b)
        elif kind == "terminal":
            tap.ok(b.name() + ": terminal marker on a console block", False, "")
    return tap


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--inside":
        tap = inside(sys.argv[2])
        print("1..%d" % tap.n)
        return 1 if tap.failed else 0

    root = tempfile.mkdtemp(prefix="eg-readme-")
    try:
        dest = os.path.join(root, "dest")
        p = subprocess.run(["meson", "install", "-C", BUILD_ROOT, "--no-rebuild", "--quiet",
                            "--destdir", dest], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        if p.returncode != 0:
            print("not ok 1 - meson install --destdir\n" +
                  "\n".join("#   " + l for l in p.stdout.decode().splitlines()) + "\n1..1")
            return 1
        exe = next(os.path.join(d, f) for d, _, fs in os.walk(dest) for f in fs
                   if f == "execguard" and d.endswith("/bin"))
        os.rename(os.path.dirname(os.path.dirname(exe)), os.path.join(root, "prefix"))
        sysrules = next(d for d, _, fs in os.walk(dest) if "local.rules" in fs)
        os.rename(sysrules, os.path.join(root, "sysrules"))
        fakes = os.path.join(root, "fakes")
        os.mkdir(fakes)
        log = os.path.join(root, "ran.log")
        for t in FAKES:
            with open(os.path.join(fakes, t), "w") as f:
                f.write("#!/bin/sh\nprintf '%%s\\n' \"%s $*\" >> '%s'\n" % (t, log))
            os.chmod(os.path.join(fakes, t), 0o755)
        os.chmod(root, 0o755)

        me = [sys.executable, os.path.abspath(__file__), "--inside", root]
        for ns in (["unshare", "-m", "--propagation", "private"],
                   ["unshare", "-r", "-m", "--propagation", "private"]):
            if subprocess.run(ns + ["true"], stderr=subprocess.DEVNULL).returncode == 0:
                return subprocess.run(ns + me).returncode
        print("1..0 # SKIP no private mount namespace (needs root or user namespaces)")
        return 77
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
