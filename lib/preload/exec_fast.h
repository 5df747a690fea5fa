/*
 * execve and execv: the usual exec of a fork child, decided without the
 * policy block, else the full way (hooks_exec.c).
 *
 * On this kind of machine every page a fork child touches costs: a page of
 * a file mapping is a page fault (fork does not copy the page tables of
 * file mappings), a page it writes is a copy, and even reading a page whose
 * table entry fork did copy costs several microseconds the first time under
 * a hypervisor that shadows the page tables. The usual child execs a
 * program no rule names with the environment it inherited. So before the
 * first fork the parent copies the block's name filter (policy_block.h),
 * with the wrappers' names added, into memory of its own (a page the child
 * inherits mapped), and these hooks first try the fast way, which reads
 * only that page, the library's one page of data (where its state and
 * captured values are), the caller's strings and its own code (one
 * function the hooks call, eg_exec_fast_may, in the library's first 64 KiB
 * of code with them, which the child's first page fault maps whole),
 * writes nothing and keeps to a few words of stack. It makes two system
 * calls, both on paths: readlink (is the executable a symlink, whose
 * target's name the full check takes too?) and, in a session copy of the
 * library, whether the copy is still there.
 * Anything but the usual case (a name the filter may hold, a wrapper, a
 * symlink, an environment to re-inject, a setting that records every exec,
 * a process that has not forked) goes the full way, which decides exactly
 * as before.
 *
 * Internal to libexecguard.so.
 */
#ifndef EG_EXEC_FAST_H
#define EG_EXEC_FAST_H

#include <stdbool.h>

/* In the parent before fork (the fork wrapper), or after a spawn of a
 * program no rule names, the policy adopted: copy the filter, once per
 * process. */
void eg_exec_fast_prepare(void);

/* May an exec of `path` (argv, envp) go straight to the real call: the
 * fast way's conditions above, in a process whose filter is copied? The
 * posix_spawn hooks ask it in the caller, with `path` as the search found
 * it, so that the usual spawn makes the fast way's two system calls
 * instead of the full way's lstat, the copy's check and two passes over
 * the environment. A process's first such spawn goes the full way, and
 * prepares the fast way for the next (eg_exec_fast_prepare). */
bool eg_exec_fast_may(const char *path, char *const argv[], char *const envp[]);

/* The full way of execve (hooks_exec.c). */
int eg_execve_guarded(const char *path, char *const argv[], char *const envp[]);

#endif
