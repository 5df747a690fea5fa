#!/usr/bin/env python3
"""A Python test suite that leans on subprocess, for test_workloads.sh.

It runs once without the guard and once under `execguard run`; the two
verbose unittest reports must be the same. Every way Python starts a
program is used: subprocess (vfork and, with preexec_fn, fork), shells,
pipes, os.system, os.popen, os.posix_spawn, multiprocessing with the fork,
spawn and forkserver start methods, a process pool, fresh and empty
environments, new sessions, file descriptors passed on, timeouts and
signals. Nothing here runs a destructive tool.
"""
import concurrent.futures
import multiprocessing
import os
import signal
import subprocess
import sys
import tempfile
import unittest


def square(x):
    return x * x


def child_pid_and_env(q):
    q.put((os.getpid() != os.getppid(), "LD_PRELOAD" in os.environ))


class Subprocess(unittest.TestCase):
    def test_run_capture(self):
        r = subprocess.run(["sh", "-c", "echo out; echo err >&2; exit 3"], capture_output=True)
        self.assertEqual((r.returncode, r.stdout, r.stderr), (3, b"out\n", b"err\n"))

    def test_check_output_text(self):
        self.assertEqual(subprocess.check_output(["printf", "%s-%s", "a", "b"], text=True), "a-b")

    def test_shell_true_pipeline(self):
        out = subprocess.check_output("seq 1 100 | sort -rn | head -n 3 | tr '\\n' ' '", shell=True)
        self.assertEqual(out, b"100 99 98 ")

    def test_popen_communicate_large(self):
        data = b"x" * (1 << 20)
        p = subprocess.Popen(["cat"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        out, _ = p.communicate(data)
        self.assertEqual((p.returncode, len(out)), (0, len(data)))

    def test_preexec_fn_forces_fork(self):
        r = subprocess.run(["sh", "-c", "echo $$ >/dev/null; exit 7"], preexec_fn=lambda: None)
        self.assertEqual(r.returncode, 7)

    def test_missing_program(self):
        with self.assertRaises(FileNotFoundError) as cm:
            subprocess.run(["no-such-program-eg-workload"])
        self.assertEqual(cm.exception.errno, 2)

    def test_not_executable(self):
        with tempfile.NamedTemporaryFile("w", suffix=".sh", delete=False) as f:
            f.write("#!/bin/sh\nexit 0\n")
        try:
            with self.assertRaises(PermissionError) as cm:
                subprocess.run([f.name])
            self.assertEqual(cm.exception.errno, 13)
        finally:
            os.unlink(f.name)

    def test_empty_env(self):
        r = subprocess.run(["/usr/bin/env"], env={}, capture_output=True, text=True)
        names = sorted(line.split("=", 1)[0] for line in r.stdout.splitlines()
                       if not line.startswith(("LD_PRELOAD=", "EXECGUARD_")))
        self.assertEqual((r.returncode, names), (0, []))

    def test_fresh_env_and_cwd(self):
        with tempfile.TemporaryDirectory() as d:
            r = subprocess.run(["sh", "-c", 'echo "$FOO:$(pwd)"'], env={"FOO": "bar", "PATH": "/usr/bin:/bin"},
                               cwd=d, capture_output=True, text=True)
            self.assertEqual(r.stdout.strip(), "bar:" + os.path.realpath(d))

    def test_pass_fds(self):
        r, w = os.pipe()
        p = subprocess.Popen(["sh", "-c", "echo through >&%d" % w], pass_fds=(w,))
        os.close(w)
        p.wait()
        self.assertEqual(os.read(r, 100), b"through\n")
        os.close(r)

    def test_start_new_session(self):
        out = subprocess.check_output(["sh", "-c", "ps -o sid= -p $$"], start_new_session=True, text=True)
        self.assertNotEqual(int(out), os.getsid(0))

    def test_timeout(self):
        with self.assertRaises(subprocess.TimeoutExpired):
            subprocess.run(["sleep", "5"], timeout=0.2)

    def test_signal_exit(self):
        p = subprocess.Popen(["sleep", "5"])
        p.send_signal(signal.SIGTERM)
        self.assertEqual(p.wait(), -signal.SIGTERM)

    def test_many_children(self):
        procs = [subprocess.Popen(["sh", "-c", "exit %d" % (i % 5)]) for i in range(50)]
        self.assertEqual([p.wait() for p in procs], [i % 5 for i in range(50)])


class OsLevel(unittest.TestCase):
    def test_os_system(self):
        self.assertEqual(os.waitstatus_to_exitcode(os.system("exit 4")), 4)

    def test_os_popen(self):
        with os.popen("echo popen-works") as f:
            self.assertEqual(f.read(), "popen-works\n")

    def test_posix_spawnp(self):
        pid = os.posix_spawnp("sh", ["sh", "-c", "exit 9"], os.environ)
        self.assertEqual(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]), 9)

    def test_fork_exec(self):
        pid = os.fork()
        if pid == 0:
            try:
                os.execvp("sh", ["sh", "-c", "exit 11"])
            finally:
                os._exit(127)
        self.assertEqual(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]), 11)

    def test_execve_enoent_errno(self):
        pid = os.fork()
        if pid == 0:
            try:
                os.execv("/nonexistent/prog", ["prog"])
            except OSError as e:
                os._exit(e.errno)
            os._exit(0)
        self.assertEqual(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]), 2)


class Multiprocessing(unittest.TestCase):
    def _run(self, method):
        ctx = multiprocessing.get_context(method)
        q = ctx.Queue()
        p = ctx.Process(target=child_pid_and_env, args=(q,))
        p.start()
        got = q.get(timeout=60)
        p.join()
        self.assertEqual(p.exitcode, 0)
        self.assertTrue(got[0])
        with ctx.Pool(2) as pool:
            self.assertEqual(pool.map(square, range(10)), [x * x for x in range(10)])

    def test_fork(self):
        self._run("fork")

    def test_spawn(self):
        self._run("spawn")

    def test_forkserver(self):
        self._run("forkserver")

    def test_process_pool_executor(self):
        with concurrent.futures.ProcessPoolExecutor(2) as ex:
            self.assertEqual(list(ex.map(square, range(8))), [x * x for x in range(8)])


if __name__ == "__main__":
    unittest.main(verbosity=2)
