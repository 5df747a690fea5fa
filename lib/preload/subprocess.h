/*
 * Running a helper command (an alert hook, an approver program) from the
 * hook path: `/bin/sh -c CMD` with a record on its stdin. Hook-path safe:
 * raw clone (no atfork handlers, no malloc, no locks), usable from vfork
 * children and multithreaded hosts. Internal to libexecguard.so.
 */
#ifndef EG_SUBPROCESS_H
#define EG_SUBPROCESS_H

#include <stddef.h>

#include "preload.h"

/* Start CMD and do not wait for it: it is re-parented (double fork), so the
 * host never sees it exit. Returns 0 if it was started, -1 with errno. */
EG_HIDDEN int eg_subprocess_detached(const char *cmd, const void *data, size_t len,
    char *const *envp);

/* Run CMD and wait for it at most timeout_ms (0 = no limit). Returns its exit
 * status 0..255; -1 if it could not be started, was killed by a signal, or
 * timed out (then its whole process group is killed). stdout goes to
 * /dev/null, stderr is inherited. */
EG_HIDDEN int eg_subprocess_wait(const char *cmd, const void *data, size_t len,
    char *const *envp, unsigned timeout_ms);

#endif
