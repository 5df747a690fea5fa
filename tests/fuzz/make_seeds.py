#!/usr/bin/env python3
"""Regenerate the committed seed corpora under tests/fuzz/corpus/.

Seeds come from what the project already holds: the rule packs and small
rule texts (rules target), and the command lines of tests/corpus/commands.tsv
turned into the argv format of fuzz_input.h (subject and check targets).
Nothing is executed. Run from anywhere: python3 tests/fuzz/make_seeds.py
"""
import hashlib
import os
import shlex
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CORPUS = os.path.join(HERE, "corpus")

# Flag bits, as in fuzz_subject.c / fuzz_check.c.
UNWRAP_ALL, SHELL_OR_CWD = 1, 2


def put(target, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    name = hashlib.sha1(data).hexdigest()[:16]
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def argv_seed(flags, argv, env=()):
    words = [w.encode() for w in argv]
    if env:
        words.append(b"\xff")
        words += [e.encode() for e in env]
    return bytes([flags]) + b"\0".join(words)


def commands():
    with open(os.path.join(ROOT, "tests", "corpus", "commands.tsv"), encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line or line.startswith("#") or "\t" not in line:
                continue
            cmd = line.split("\t", 1)[1]
            if cmd.startswith("@cwd="):
                cmd = cmd.split(" ", 1)[1] if " " in cmd else ""
            yield cmd


def rules_seeds():
    pdir = os.path.join(ROOT, "patterns")
    for name in sorted(os.listdir(pdir)):
        if name.endswith(".rules"):
            with open(os.path.join(pdir, name), "rb") as f:
                put("rules", f.read())
    small = [
        b"rule a.b\n  program terraform\n  match (^|\\s)destroy(\\s|$)\n  action confirm\n"
        b"  reason r\n  example terraform destroy\n  safe terraform plan\n",
        b"rule x\n  program dropdb\n  match ^\n  action deny\n  reason r\n  severity critical\n",
        b"override x\n  program psql\n  match (?i)drop\n  unless (?i)select\n  action allow\n  reason r\n",
        b"rule e\n  program kubectl\n  match delete\n  env KUBECONFIG prod\n  cwd /prod$\n"
        b"  action log\n  reason r\n  example KUBECONFIG=prod kubectl delete pod x\n",
        b"# comment\n\nrule bad\n  program\n  match (\n  action maybe\n",
        b"rule u\n  program \xc3\xa9t\xe2\x80\xae\n  match \\x{202e}\n  action confirm\n  reason \x1b[2J\n",
    ]
    for s in small:
        put("rules", s)


def argv_seeds():
    n = 0
    for cmd in commands():
        try:
            words = shlex.split(cmd)
        except ValueError:
            words = [cmd]
        env = []
        while words and "=" in words[0] and words[0].split("=", 1)[0].isidentifier():
            env.append(words.pop(0))
        if not words:
            continue
        flags = UNWRAP_ALL if n % 3 else 0
        put("check", argv_seed(flags | (SHELL_OR_CWD if n % 7 == 0 else 0), words, env))
        if n % 2 == 0:
            put("subject", argv_seed(flags, words))
        if n % 5 == 0:
            put("subject", argv_seed(UNWRAP_ALL | SHELL_OR_CWD, [cmd]))
        n += 1
    extra = [
        ["sudo", "-u", "ops", "env", "-i", "A=1", "timeout", "5", "bash", "-c",
         "cd x && terraform destroy"],
        ["ld-linux-x86-64.so.2", "--library-path", "/x", "--argv0", "tf", "/opt/terraform", "destroy"],
        ["/lib64/ld-linux-x86-64.so.2", "/usr/bin/dropdb", "orders"],
        ["xargs", "-0", "-n1", "rm", "-rf"],
        ["ssh", "-o", "X=y", "host", "psql -c 'DROP TABLE t'"],
        ["kubectl", "exec", "pod", "--", "sh", "-c", "dropdb x"],
        ["bash", "-c", "$(echo terraform) destroy; `dropdb x` | tee; if true; then rm -rf ~; fi"],
        ["execguard", "run", "--", "terraform", "destroy"],
        ["busybox", "sh", "-c", "rm -rf /"],
        ["find", "/", "-exec", "rm", "-rf", "{}", "+"],
        [""],
        ["sh", "-c", "'unterminated \"quote $(( ` \\"],
    ]
    for words in extra:
        put("subject", argv_seed(UNWRAP_ALL, words))
        put("subject", argv_seed(0, words))
        put("check", argv_seed(UNWRAP_ALL, words, ["AWS_PROFILE=prod", "KUBECONFIG=/k/prod"]))
        put("check", argv_seed(0, words))


def needs_seeds():
    """Each pattern of the packs, with each example's arguments as the subject."""
    pdir = os.path.join(ROOT, "patterns")
    for name in sorted(os.listdir(pdir)):
        if not name.endswith(".rules"):
            continue
        pats, examples = [], []
        with open(os.path.join(pdir, name), encoding="utf-8") as f:
            for line in f:
                key, _, value = line.strip().partition(" ")
                value = value.strip()
                if key in ("match", "unless", "cwd"):
                    pats.append(value)
                elif key == "env":
                    pats.append(value.partition(" ")[2].strip())
                elif key == "example":
                    examples.append(value.partition(" ")[2])
        for i, pat in enumerate(pats):
            subj = examples[i % len(examples)] if examples else ""
            put("needs", pat.encode() + b"\0" + subj.encode())
    for pat, subj in ((b"(?:^|\\s)destroy(?:\\s|$)", b"-chdir=x destroy"), (b"a+b{2,}c", b"xaabbbcx"),
                      (b"(?=.*--force)(?!.*-n)push|pull", b"push --force"),
                      (b"[]a]x(?<t>yz)?(?#c)w\\.", b"axw."), (b"(?i)Destroy", b"destroy")):
        put("needs", pat + b"\0" + subj)


def main():
    rules_seeds()
    argv_seeds()
    needs_seeds()
    for t in ("rules", "subject", "check", "needs"):
        print(t, len(os.listdir(os.path.join(CORPUS, t))), file=sys.stderr)


if __name__ == "__main__":
    main()
