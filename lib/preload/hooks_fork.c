/*
 * fork is not guarded (it runs nothing), but the policy, which a guarded
 * process maps on its first hook call (preload_init.c), is mapped in the
 * parent before the copy is made. A child that execs right away, the
 * fork+exec pattern, then inherits the mapping, instead of opening and
 * mapping the file itself (and writing the pages that record it) in every
 * child. A process that forks maps the policy once.
 */
#include <errno.h>
#include <unistd.h>

#include "hot_text.h"
#include "preload.h"

EG_EXPORT EG_HOT_TEXT pid_t fork(void)
{
	eg_preload_ensure_init(); /* preserves errno */
	if (eg_real.fork)
		return eg_real.fork();
	errno = ENOSYS;
	return -1;
}
