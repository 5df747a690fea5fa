/*
 * errno on the allow path of every exec, without calling libc's
 * __errno_location: in a fork child that call is a libc text page to fault
 * in (fork does not copy the page tables of file mappings), which costs
 * more than the whole decision. libc's errno lives in its static TLS block,
 * at the same offset from the thread pointer in every thread; the preload
 * constructor measures that offset once (eg_errno_off, errno_fast.c).
 * 0: not measured (the CLI, or a hook running before the constructor):
 * ask libc. Internal to lib/.
 */
#ifndef EG_ERRNO_FAST_H
#define EG_ERRNO_FAST_H

#include <errno.h>
#include "hot_text.h"

extern long eg_errno_off;

EG_HOT_INLINE int *eg_errno_loc(void)
{
#if defined(__x86_64__)
	if (__builtin_expect(eg_errno_off != 0, 1)) {
		char *tp;
		__asm__("mov %%fs:0, %0" : "=r"(tp));
		return (int *)(tp + eg_errno_off);
	}
#endif
	return &errno;
}

/* Put errno back to `saved`, writing only when it changed: how the hooks
 * preserve errno. Every fork write-protects the parent's pages: a write of
 * the value already there would cost a process that forks a page fault
 * after each fork, which the real call, leaving errno alone on success,
 * does not (test_forkchild.py, for the fork hook). */
EG_HOT_INLINE void eg_errno_restore(int *loc, int saved)
{
	if (*loc != saved)
		*loc = saved;
}

/* Measure the offset (the preload constructor, main thread). */
EG_HOT_INLINE void eg_errno_measure(void)
{
#if defined(__x86_64__)
	char *tp;
	__asm__("mov %%fs:0, %0" : "=r"(tp));
	eg_errno_off = (long)((char *)&errno - tp);
#endif
}

#endif
