/*
 * What /proc/PID/stat says about a process: its program name (comm) and its
 * parent. For the parent chain in the confirm question and the audit record.
 * Hook-path safe: one open/read/close, stack buffers only.
 */
#ifndef EG_PROC_STAT_H
#define EG_PROC_STAT_H

#include <stddef.h>
#include <sys/types.h>

/* comm of `pid` into comm[size] (cut if longer) and its parent pid into
 * *ppid. Returns 0, or -1 if the entry cannot be read or parsed. */
int eg_proc_stat(pid_t pid, char *comm, size_t size, pid_t *ppid);

/* The same, with the fields after the parent (strict mode's question). */
struct eg_proc_ids {
	pid_t ppid, pgrp, session;
	int tty_nr;
};
int eg_proc_stat_ids(pid_t pid, char *comm, size_t size, struct eg_proc_ids *ids);

#endif
