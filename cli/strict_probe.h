/*
 * Is strict mode (`execguard run --strict`) available on this machine?
 * For `execguard doctor`: link eg_strict_dep (cli/meson.build).
 */
#ifndef EG_STRICT_PROBE_H
#define EG_STRICT_PROBE_H

#include <stddef.h>

/*
 * Runs the real machinery once on a harmless exec (this binary's
 * --version): a seccomp filter with a listener, reading the caller's
 * memory, the ptrace stop after the exec. Returns 1 when it works, with a
 * one-line summary in `why`; 0 with the reason and what to do in `why`.
 * Takes a few milliseconds (at most a few seconds when something hangs).
 * Forks; restores the SIGCHLD disposition it changes.
 */
int eg_strict_probe(char *why, size_t n);

#endif
