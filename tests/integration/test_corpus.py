#!/usr/bin/env python3
"""Corpus test: every line of tests/corpus/commands.tsv goes through
`execguard check` (which runs nothing) with only the shipped packs loaded, and
its decision must be the expected one. Destructive lines (confirm/deny) must
all be caught, benign lines (allow/log) must all stay silent, and `miss` lines
(documented limitations) must still be uncaught, so that a fix shows up here.

Nothing from the corpus is ever executed: a command is only handed to
`execguard check` as arguments.

Environment (set by meson): EG_EXECGUARD, EG_SOURCE_ROOT.
"""
import os
import re
import shutil
import shlex
import subprocess
import sys
import tempfile

EXE = os.environ.get('EG_EXECGUARD')
SRC = os.environ.get('EG_SOURCE_ROOT')
if not EXE or not SRC:
    here = os.path.dirname(os.path.abspath(__file__))
    SRC = SRC or os.path.normpath(os.path.join(here, '..', '..'))
    EXE = EXE or os.path.join(SRC, 'build', 'cli', 'execguard')
CORPUS = os.environ.get('EG_CORPUS', os.path.join(SRC, 'tests', 'corpus', 'commands.tsv'))
ASSIGN = re.compile(r'^[A-Za-z_][A-Za-z0-9_]*=')
DECISIONS = ('allow', 'log', 'confirm', 'deny')
EXIT = {'allow': 0, 'log': 0, 'confirm': 1, 'deny': 2}


def has_shell_operators(line):
    """True if the line has | ; & < > ( ) or $( / backquote outside quotes."""
    lex = shlex.shlex(line, posix=True, punctuation_chars=True)
    lex.whitespace_split = True
    try:
        toks = list(lex)
    except ValueError:
        return True
    if any(t and set(t) <= set('();<>|&') for t in toks):
        return True
    # command substitution in a bare word or inside double quotes
    return '$(' in line or '`' in line


def base_env(scratch):
    env = {
        'PATH': os.environ.get('PATH', '/usr/bin:/bin'),
        'HOME': os.path.join(scratch, 'home'),
        'LANG': 'C.UTF-8',
        'EXECGUARD_PACKS_DIR': os.path.join(SRC, 'patterns'),
        'EXECGUARD_SYSTEM_DIR': '/nonexistent',
        'XDG_CONFIG_HOME': os.path.join(scratch, 'xdg-config'),
        'XDG_STATE_HOME': os.path.join(scratch, 'xdg-state'),
    }
    os.makedirs(env['HOME'], exist_ok=True)
    return env


def run_check(argv, env, cwd):
    p = subprocess.run([EXE, 'check', '--'] + argv, env=env, cwd=cwd,
                       stdin=subprocess.DEVNULL, capture_output=True, timeout=30)
    out = p.stdout.decode('utf-8', 'replace')
    first = out.split(':', 1)[0].strip() if out else ''
    return p.returncode, first, out + p.stderr.decode('utf-8', 'replace')


def prepare(command, scratch):
    """-> (argv, env, cwd) for one corpus command line."""
    env = base_env(scratch)
    cwd = scratch
    m = re.match(r'^@cwd=(\S+)\s+', command)
    if m:
        d = m.group(1)
        command = command[m.end():]
        if os.path.isabs(d):
            cwd = d
        else:
            cwd = os.path.join(scratch, 'cwd', d)
            os.makedirs(cwd, exist_ok=True)
    if has_shell_operators(command):
        return ['sh', '-c', command], env, cwd
    words = shlex.split(command)
    while words and ASSIGN.match(words[0]):
        k, _, v = words.pop(0).partition('=')
        env[k] = v
    return words, env, cwd


def bad_input_cases(scratch):
    """Bad-input cases a one-line shell command cannot express: argv words with
    newlines, tabs or empty words, and look-alike program names that are a
    symlink to, or a copy of, a guarded program. The fake 'terraform' is a
    two-line shell script that is never run (check runs nothing)."""
    fb = os.path.join(scratch, 'fakebin')
    os.makedirs(fb, exist_ok=True)
    real = os.path.join(fb, 'terraform')
    with open(real, 'w') as f:
        f.write('#!/bin/sh\nexit 99\n')
    os.chmod(real, 0o755)
    link = os.path.join(fb, 'terraf\u043erm')      # Cyrillic o, symlink -> terraform
    copy = os.path.join(fb, 't\u0435rraform')      # Cyrillic e, a renamed copy
    if not os.path.lexists(link):
        os.symlink('terraform', link)
    if not os.path.exists(copy):
        with open(copy, 'w') as f:
            f.write('#!/bin/sh\nexit 99\n')
        os.chmod(copy, 0o755)
    return [
        ('confirm', ['psql', '-c', 'DROP\nTABLE users'], 'SQL with a newline inside the argument'),
        ('confirm', ['psql', '-c', '\tdrop\ttable\tusers\t'], 'SQL separated by tabs'),
        ('confirm', ['mysql', '-e', 'DROP DATABASE\r\nshop;'], 'SQL with CRLF'),
        ('confirm', ['terraform', '', 'destroy'], 'an empty argument before the subcommand'),
        ('confirm', ['terraform', ' -chdir=x ', 'destroy'], 'an argument with surrounding spaces'),
        ('confirm', ['aws', '--region', 'eu-west-1', '--region=eu-west-1', '--profile', 'p', 'rds',
                     'delete-db-instance', '--db-instance-identifier', 'db1'], 'repeated global options'),
        ('allow', ['psql', '-c', 'DROP', '-c', 'TABLE users'],
         'SQL split across -c arguments: psql runs "DROP" (an error) and "TABLE users" (a SELECT)'),
        ('confirm', ['sqlite3', 'app.db', 'DROP', 'TABLE', 'users'],
         'SQL split across positional arguments is read joined (conservative)'),
        ('confirm', [link, 'destroy'], 'look-alike name that is a symlink to terraform (resolved)'),
        # long but ordinary command lines must not run a pattern into PCRE2's match
        # limit (which fails closed, i.e. refuses the command)
        ('allow', ['git', 'add'] + [f'src/module_{i}/file_{i}.py' for i in range(3000)],
         'git add of 3000 files'),
        ('allow', ['rm', '-f'] + [f'build/obj/unit_{i}.o' for i in range(3000)], 'rm -f of 3000 files'),
        ('allow', ['git'] + ['-c', 'x.y=1'] * 200 + ['status'], '200 repeated git -c options'),
        ('allow', ['git'] + ['-c'] * 400 + ['status'], '400 -c words (options walked atomically)'),
        ('allow', ['kubectl'] + ['-v', '-v'] * 200 + ['delete', 'pod', 'x'], '400 -v words before delete'),
        ('allow', ['kubectl', 'delete', 'pod'] + [f'web-{i}-abcde' for i in range(500)] + ['-n', 'dev'],
         'kubectl delete of 500 pods in a dev namespace'),
        ('allow', ['docker', 'rm', '-f'] + [f'{i:012x}' for i in range(500)], 'docker rm -f of 500 containers'),
        ('allow', ['psql', '-c', 'SELECT ' + ', '.join(f"'v{i}' AS c{i}" for i in range(2000)) + ' WHERE 1=1'],
         'a 30 kB SELECT with 2000 string literals'),
        ('confirm', ['psql', '-c', 'SELECT ' + ', '.join(f"'v{i}'" for i in range(2000)) + '; DROP TABLE users'],
         'a DROP after 2000 string literals'),
        ('confirm', ['aws', 's3', 'rm', '--recursive'] + ['--exclude', '*.tmp'] * 500 + ['s3://b/'],
         'aws s3 rm --recursive with 500 --exclude options'),
        ('miss', [copy, 'destroy'], 'look-alike name on a renamed copy: not caught (documented)'),
    ]


def main():
    if not os.access(EXE, os.X_OK):
        print(f'Bail out! execguard not found at {EXE}')
        return 1
    scratch = tempfile.mkdtemp(prefix='eg-corpus-')
    try:
        return run_all(scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def run_all(scratch):
    counts = {k: [0, 0] for k in ('destructive', 'benign', 'miss')}  # [ok, total]
    failed = []
    n = 0
    passed = 0
    with open(CORPUS, encoding='utf-8') as f:
        for lineno, line in enumerate(f, 1):
            line = line.rstrip('\n')
            if not line.strip() or line.lstrip().startswith('#'):
                continue
            if '\t' not in line:
                failed.append(f'{CORPUS}:{lineno}: no TAB between expected and command')
                continue
            expected, command = line.split('\t', 1)
            expected = expected.strip()
            if expected not in DECISIONS + ('miss',):
                failed.append(f'{CORPUS}:{lineno}: unknown expected value {expected!r}')
                continue
            n += 1
            argv, env, cwd = prepare(command, scratch)
            rc, decision, out = run_check(argv, env, cwd)
            if rc not in (0, 1, 2) or decision not in DECISIONS:
                ok = False
            elif expected == 'miss':
                ok = rc == 0
            else:
                ok = rc == EXIT[expected] and decision == expected
            kind = ('destructive' if expected in ('confirm', 'deny')
                    else 'miss' if expected == 'miss' else 'benign')
            counts[kind][1] += 1
            if ok:
                counts[kind][0] += 1
                passed += 1
                print(f'ok {n} - {expected}: {command}')
            else:
                print(f'not ok {n} - expected {expected}, got {decision or "?"} (exit {rc}): {command}')
                for l in out.rstrip().split('\n'):
                    print(f'#   {l[:300]}')
                failed.append(f'{CORPUS}:{lineno}: expected {expected}, got {decision or "?"} (exit {rc}): {command}')
    for expected, argv, what in bad_input_cases(scratch):
        n += 1
        rc, decision, out = run_check(argv, base_env(scratch), scratch)
        if expected == 'miss':
            ok = rc == 0 and decision in DECISIONS
        else:
            ok = rc == EXIT[expected] and decision == expected
        kind = ('destructive' if expected in ('confirm', 'deny')
                else 'miss' if expected == 'miss' else 'benign')
        counts[kind][1] += 1
        if ok:
            counts[kind][0] += 1
            passed += 1
            print(f'ok {n} - bad input, {expected}: {what}')
        else:
            print(f'not ok {n} - bad input, expected {expected}, got {decision or "?"} (exit {rc}): {what}')
            for l in out.rstrip().split('\n'):
                print(f'#   {l[:300]}')
            failed.append(f'bad input: expected {expected}, got {decision or "?"}: {what} {repr(argv)[:200]}')
    print(f'1..{n}')
    d, b, m = counts['destructive'], counts['benign'], counts['miss']
    print(f'# corpus: {d[0]} destructive caught of {d[1]}, {b[0]} benign silent of {b[1]}, '
          f'{m[1]} known limitations ({m[0]} behave as documented)')
    for f_ in failed:
        print(f'# FAIL {f_}')
    print(f'# {passed} passed, {len(failed)} failed')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
