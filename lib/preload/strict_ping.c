/* See strict_ping.h. Hook-path safe: one system call, no allocation. */
#include "strict_ping.h"

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

bool eg_strict_ping(void)
{
#ifdef SYS_execveat
	int saved = errno;
	/* the raw system call: the library's own execveat hook is not wanted */
	long r = syscall(SYS_execveat, EG_STRICT_PING_FD, "", (char *const *)0, (char *const *)0,
	    AT_EMPTY_PATH);
	bool answered = r < 0 && errno == EG_STRICT_PING_ERRNO;
	errno = saved;
	return answered;
#else
	return false;
#endif
}
