/*
 * What the humans of one session answered a moment ago, shared by every
 * process of the session: `allow-once` (after a yes, the same argv in the
 * same cwd runs again without a question for a while) and `refuse-cooldown`
 * (after a no, the same argv is refused without a question for a while, so
 * an agent that retries in a new process does not nag the human).
 *
 * Where: one page, $XDG_RUNTIME_DIR/execguard/memory-<session>, mode 0600,
 * mapped shared; <session> is EXECGUARD_SESSION, which `execguard run` sets
 * (both as the process started: eg_guard_cfg).
 * No session or no runtime directory: no memory (every request is asked).
 *
 * RESIDUAL RISK, stated plainly: the file belongs to the user the agent runs
 * as, so an agent that sets out to can write an allow-once entry into it and
 * run one remembered command without a question. This is why allow-once is
 * off by default. The cooldown carries no such risk: an entry only refuses,
 * and a deleted file only means the human is asked again.
 *
 * Hook-path code: open/mmap/munmap only, no malloc, no locks. Slots are
 * written with atomics; a lost race costs one more question, and a torn
 * entry is never read as valid (key checked before and after).
 */
#ifndef EG_APPROVAL_MEMORY_H
#define EG_APPROVAL_MEMORY_H

#include <stdbool.h>
#include <stdint.h>

#include "preload.h"

enum eg_memory_kind {
	EG_MEMORY_APPROVED = 1,
	EG_MEMORY_REFUSED = 2,
};

/* Keys: approvals are for argv + cwd, refusals for the argv anywhere. */
EG_HIDDEN uint64_t eg_memory_key(char *const *argv, const char *cwd);

/* A live entry of `kind` for `key`? `*age_sec` (may be NULL) gets its age. */
EG_HIDDEN bool eg_memory_recall(enum eg_memory_kind kind, uint64_t key, unsigned *age_sec);

/* Remember `key` as `kind` for `seconds` (0: nothing). Silent on failure. */
EG_HIDDEN void eg_memory_store(enum eg_memory_kind kind, uint64_t key, unsigned seconds);

#endif
