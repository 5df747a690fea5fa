#!/usr/bin/env python3
"""End to end with a real PostgreSQL server: the seed incident, on a throwaway cluster.

A fresh cluster is created in a temporary directory and listens on a Unix
socket in that directory only (listen_addresses is empty, so no TCP port).
Real `dropdb` and `psql` from the PostgreSQL package are run under
`execguard run` against that socket and nothing else: every command names
the socket with -h, and PGHOST/PGPORT point at it too. The cluster is
stopped and deleted at the end.

What is asserted is the data: after a refusal the database and its rows are
still there; after the human types the database's name on a real pty, it is
gone.

As root, the cluster runs as `nobody` (initdb refuses to run as root).
Environment (set by meson): EG_EXECGUARD, EG_SOURCE_ROOT. Output: TAP.
"""
import glob
import json
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_prompt as tp  # noqa: E402  (the pty Session and helpers)

EXECGUARD = os.environ.get("EG_EXECGUARD", "")
SOURCE_ROOT = os.environ.get("EG_SOURCE_ROOT", "")
ROLE = "pgadmin"
PORT = "54329"


def pg_bindir():
    dirs = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
    for d in reversed(dirs):
        if all(os.access(os.path.join(d, t), os.X_OK) for t in ("initdb", "pg_ctl", "dropdb", "psql")):
            return d
    return None


class Cluster:
    def __init__(self, bindir):
        self.bindir = bindir
        self.root = tempfile.mkdtemp(prefix="eg-pg-")
        os.chmod(self.root, 0o755)
        self.data = os.path.join(self.root, "data")
        self.sock = os.path.join(self.root, "sock")
        self.work = os.path.join(self.root, "work")
        for d in (self.sock, self.work, os.path.join(self.root, "home"),
                  os.path.join(self.root, "config"), os.path.join(self.root, "state"),
                  os.path.join(self.root, "cache"), os.path.join(self.root, "run")):
            os.makedirs(d, exist_ok=True)
        os.chmod(os.path.join(self.root, "run"), 0o700)
        self.as_user = None
        if os.geteuid() == 0:
            nobody = pwd.getpwnam("nobody")
            self.as_user = (nobody.pw_uid, nobody.pw_gid)
            os.chown(self.sock, *self.as_user)
            os.makedirs(self.data)
            os.chown(self.data, *self.as_user)
        self.env = {
            # the server's own tools first; nothing else named dropdb/psql can come first
            "PATH": bindir + ":/usr/bin:/bin",
            "HOME": os.path.join(self.root, "home"),
            "XDG_CONFIG_HOME": os.path.join(self.root, "config"),
            "XDG_STATE_HOME": os.path.join(self.root, "state"),
            "XDG_CACHE_HOME": os.path.join(self.root, "cache"),
            "XDG_RUNTIME_DIR": os.path.join(self.root, "run"),
            "EXECGUARD_SYSTEM_DIR": os.path.join(self.root, "sysrules"),
            "EXECGUARD_PACKS_DIR": os.path.join(SOURCE_ROOT, "patterns"),
            "PGHOST": self.sock,
            "PGPORT": PORT,
            "PGUSER": ROLE,
            "PGCONNECT_TIMEOUT": "5",
            "TERM": "xterm",
            "LANG": "C.UTF-8",
        }

    def _server(self, argv):
        """Run a server-side tool (as nobody when we are root)."""
        def demote():
            if self.as_user:
                os.setgroups([])
                os.setgid(self.as_user[1])
                os.setuid(self.as_user[0])
        return subprocess.run(argv, env=self.env, cwd=self.root, preexec_fn=demote,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)

    def start(self):
        r = self._server([os.path.join(self.bindir, "initdb"), "-D", self.data, "-U", ROLE,
                          "-A", "trust", "--no-sync", "-E", "UTF8", "--locale=C"])
        if r.returncode != 0:
            raise tp.Fail("initdb failed:\n" + r.stdout.decode(errors="replace"))
        opts = "-k %s -c listen_addresses='' -p %s -c fsync=off" % (self.sock, PORT)
        r = self._server([os.path.join(self.bindir, "pg_ctl"), "-D", self.data, "-o", opts,
                          "-l", os.path.join(self.data, "server.log"), "-w", "-t", "60", "start"])
        if r.returncode != 0:
            raise tp.Fail("pg_ctl start failed:\n" + r.stdout.decode(errors="replace"))

    def stop(self):
        if os.path.isdir(self.data):
            self._server([os.path.join(self.bindir, "pg_ctl"), "-D", self.data, "-m", "immediate",
                          "-w", "stop"])
        shutil.rmtree(self.root, ignore_errors=True)

    def sql(self, query, db="postgres"):
        """A query run directly (not guarded): the test's view of the data."""
        r = subprocess.run([os.path.join(self.bindir, "psql"), "-h", self.sock, "-p", PORT,
                            "-U", ROLE, "-d", db, "-XAtq", "-v", "ON_ERROR_STOP=1", "-c", query],
                           env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
        return r.returncode, r.stdout.decode(errors="replace").strip()

    def make_appdb(self):
        self.sql("DROP DATABASE IF EXISTS appdb")
        rc, out = self.sql("CREATE DATABASE appdb")
        tp.check(rc == 0, "createdb: " + out)
        rc, out = self.sql("CREATE TABLE users (id int primary key, name text);"
                           "INSERT INTO users SELECT g, 'user' || g FROM generate_series(1, 1000) g",
                           db="appdb")
        tp.check(rc == 0, "fill appdb: " + out)

    def rows(self):
        rc, out = self.sql("SELECT count(*) FROM users", db="appdb")
        return int(out) if rc == 0 and out.isdigit() else None

    def has_appdb(self):
        rc, out = self.sql("SELECT count(*) FROM pg_database WHERE datname = 'appdb'")
        return rc == 0 and out == "1"

    def guarded(self, argv):
        """argv under `execguard run`, no terminal (a new session, stdin /dev/null)."""
        return subprocess.run([EXECGUARD, "run", "--"] + argv, env=self.env, cwd=self.work,
                              stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, start_new_session=True, timeout=120)


def dropdb(c):
    return ["dropdb", "-h", c.sock, "-p", PORT, "-U", ROLE, "appdb"]


def t_dropdb_refused_without_terminal(c):
    c.make_appdb()
    r = c.guarded(dropdb(c))
    err = r.stderr.decode(errors="replace")
    tp.check(r.returncode == 126, "exit %d, stderr:\n%s" % (r.returncode, err))
    tp.check("postgres.dropdb" in err and "ask the user" in err, "message:\n" + err)
    tp.check(c.has_appdb() and c.rows() == 1000, "the database or its rows are gone")


def t_drop_database_through_bash_and_python(c):
    c.make_appdb()
    routes = [
        ["bash", "-c", "echo cleaning up; dropdb -h \"$PGHOST\" -p \"$PGPORT\" appdb && echo dropped"],
        ["python3", "-c", "import subprocess,sys; sys.exit(subprocess.call(['dropdb', 'appdb']))"],
        ["psql", "-h", c.sock, "-p", PORT, "-d", "postgres", "-c", "DROP DATABASE appdb"],
        ["sh", "-c", "psql -d postgres -c 'drop database if exists appdb'"],
    ]
    for argv in routes:
        r = c.guarded(argv)
        err = r.stderr.decode(errors="replace")
        tp.check(b"dropped" not in r.stdout, "ran via %r" % argv)
        tp.check("execguard: blocked" in err, "no refusal via %r:\n%s" % (argv, err))
        tp.check(c.has_appdb() and c.rows() == 1000, "data lost via %r" % argv)


def t_wrong_word_then_name_on_pty(c):
    c.make_appdb()
    # a critical rule: `yes` is not enough, the database's name is
    s = tp.Session(c, [EXECGUARD, "run", "--"] + dropdb(c))
    try:
        s.expect(b"Type the name 'appdb' to run it: ")
        s.send(b"yes\r")
        s.wait()
        tp.check(s.status == 126, "exit %r after a wrong word:\n%s" % (s.status, s.text()))
    finally:
        s.close()
    tp.check(c.has_appdb() and c.rows() == 1000, "dropped after a wrong word")

    s = tp.Session(c, [EXECGUARD, "run", "--"] + dropdb(c))
    try:
        s.expect(b"Type the name 'appdb' to run it: ")
        s.send(b"appdb\r")
        s.wait()
        tp.check(s.status == 0, "exit %r after the right word:\n%s" % (s.status, s.text()))
    finally:
        s.close()
    tp.check(not c.has_appdb(), "the database is still there after the human typed its name")


def t_audit_records_both(c):
    path = os.path.join(c.env["XDG_STATE_HOME"], "execguard", "audit.jsonl")
    tp.check(os.path.exists(path), "no audit log")
    with open(path) as f:
        recs = [json.loads(line) for line in f if line.strip()]
    drops = [r for r in recs if r.get("rule") == "postgres.dropdb"]
    outcomes = [r.get("outcome") for r in drops]
    tp.check("approved" in outcomes, "no approved dropdb record: %r" % outcomes)
    tp.check(outcomes.count("approved") == 1, "approved more than once: %r" % outcomes)
    tp.check(len([o for o in outcomes if o != "approved"]) >= 3,
             "fewer than 3 refused dropdb records: %r" % outcomes)
    approved = [r for r in drops if r.get("outcome") == "approved"][0]
    tp.check(approved.get("argv", [None])[-1] == "appdb", "argv: %r" % approved.get("argv"))


CASES = [
    ("dropdb under execguard run, no terminal: refused, 1000 rows intact", t_dropdb_refused_without_terminal),
    ("bash -c / python subprocess / psql DROP DATABASE: refused, data intact", t_drop_database_through_bash_and_python),
    ("pty: 'yes' is not the word (kept); the database name drops it", t_wrong_word_then_name_on_pty),
    ("the audit log records the refusals and the approval", t_audit_records_both),
]


def main():
    if not EXECGUARD or not os.access(EXECGUARD, os.X_OK):
        print("1..0 # SKIP EG_EXECGUARD not set")
        return 0
    bindir = pg_bindir()
    if bindir is None:
        print("1..0 # SKIP no PostgreSQL server (initdb, pg_ctl) under /usr/lib/postgresql")
        return 0
    c = Cluster(bindir)
    failed = 0
    print("1..%d" % len(CASES))
    try:
        c.start()
        for i, (name, fn) in enumerate(CASES, 1):
            try:
                fn(c)
                print("ok %d - %s" % (i, name))
            except Exception as e:
                failed += 1
                print("not ok %d - %s" % (i, name))
                detail = str(e) if isinstance(e, tp.Fail) else traceback.format_exc()
                for line in detail.splitlines():
                    print("#   " + line)
            sys.stdout.flush()
    except Exception:
        print("not ok 1 - cluster setup")
        for line in traceback.format_exc().splitlines():
            print("#   " + line)
        failed += 1
    finally:
        c.stop()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
