/*
 * fork: the real one, after the policy is adopted (eg_preload_ensure_init),
 * which the constructor leaves to the first hook since most processes never
 * exec. A process that forks usually does so to exec in the child; adopted
 * in the parent, the policy is inherited as it is, where every child would
 * otherwise adopt it for itself and copy a page of ours on write doing so;
 * the name filter the children's exec hooks read first is copied then too
 * (exec_fast.h), and the scratch a check of a program the rules name uses
 * is mapped, once, for the children to inherit (guard.c). Nothing else
 * changes: same return value, errno and descriptors as the real fork.
 */
#include <errno.h>
#include <unistd.h>

#include "errno_fast.h"
#include "exec_fast.h"
#include "guard.h"
#include "preload.h"
#include "hot_text.h"

EG_EXPORT EG_HOT_TEXT pid_t fork(void)
{
	int *err = eg_errno_loc(), saved = *err;
	eg_preload_ensure_init();
	eg_exec_fast_prepare();
	eg_guard_scratch_prepare();
	eg_preload_before_fork();
	eg_errno_restore(err, saved); /* the page is the last fork's copy-on-write */
	if (eg_real.fork)
		return eg_real.fork();
	errno = ENOSYS;
	return -1;
}
