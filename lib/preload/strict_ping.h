/*
 * "Is a strict-mode supervisor (`execguard run --strict`) in charge of this
 * process?" The preload library asks it to know whether to step aside, and
 * `execguard run --strict` to know whether it is nested.
 *
 * The question is an execveat the kernel always rejects (a negative
 * descriptor: EBADF, nothing can be executed); a supervisor's seccomp filter
 * hands it to the supervisor first, which answers with an errno the kernel
 * never gives for it. Only the holder of the listener can answer, so neither
 * an environment variable nor some other seccomp filter (a container's
 * default profile) can pass for a supervisor. One system call and, under a
 * supervisor, one round trip to it.
 */
#ifndef EG_STRICT_PING_H
#define EG_STRICT_PING_H

#include <errno.h>
#include <stdbool.h>

#define EG_STRICT_PING_FD (-424242)
#define EG_STRICT_PING_ERRNO EOWNERDEAD

/* true when a supervisor answered. errno preserved. */
bool eg_strict_ping(void);

#endif
