/*
 * The hook's side of `approve-elsewhere`: hand the request to the session's
 * broker and wait for its answer. See broker_proto.h.
 *
 * Hook-path code: a socket, poll and read/write; no malloc, no locks.
 * Anything unexpected (no broker configured, a socket that is not the
 * broker's, a broker that dies or answers garbage) refuses.
 */
#include "approve_elsewhere.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "guard.h"

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* "PID:PATH" -> pid and path; false if malformed. */
static bool parse_broker(const char *spec, pid_t *pid, const char **path)
{
	long v = 0;
	const char *p = spec;
	if (*p < '1' || *p > '9')
		return false;
	for (; *p >= '0' && *p <= '9'; p++) {
		v = v * 10 + (*p - '0');
		if (v > 0x7fffffffL)
			return false;
	}
	if (*p != ':' || p[1] != '/')
		return false;
	*pid = (pid_t)v;
	*path = p + 1;
	return true;
}

static int connect_broker(void)
{
	pid_t pid;
	const char *path;
	if (!parse_broker(eg_guard_cfg.broker, &pid, &path))
		return -1;
	struct sockaddr_un sa;
	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	size_t n = strlen(path);
	if (n >= sizeof sa.sun_path)
		return -1;
	memcpy(sa.sun_path, path, n + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	int rc;
	do {
		rc = connect(fd, (struct sockaddr *)&sa, sizeof sa);
	} while (rc < 0 && errno == EINTR);
	struct ucred cr;
	socklen_t cl = sizeof cr;
	/* the session's broker, not whatever listens at that path now */
	if (rc < 0 || getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &cl) < 0 || cr.pid != pid ||
	    cr.uid != geteuid()) {
		close(fd);
		return -1;
	}
	return fd;
}

static bool write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		p += w;
		n -= (size_t)w;
	}
	return true;
}

static enum eg_refuse_why why_of(const char *s)
{
	if (strcmp(s, "said-no") == 0)
		return EG_WHY_SAID_NO;
	if (strcmp(s, "timeout") == 0)
		return EG_WHY_TIMEOUT;
	if (strcmp(s, "no-terminal") == 0)
		return EG_WHY_NO_TTY;
	if (strcmp(s, "too-many-codes") == 0)
		return EG_WHY_BAD_CODES;
	return EG_WHY_NO_BROKER;
}

void eg_elsewhere_ask(const char *line, size_t len, unsigned timeout_sec, struct eg_approval *out)
{
	out->channel = EG_CHANNEL_ELSEWHERE;
	out->approved = false;
	out->why = EG_WHY_NO_BROKER;
	int fd = connect_broker();
	if (fd < 0)
		return;
	if (!write_all(fd, line, len)) {
		close(fd);
		return;
	}
	/* The broker ends the request at the timeout itself; a little longer
	 * here, so its answer ("timeout") is the one that arrives. */
	long deadline = now_ms() + (long)timeout_sec * 1000L + 5000L;
	char ans[128];
	size_t got = 0;
	for (;;) {
		long left = deadline - now_ms();
		if (left <= 0) {
			out->why = EG_WHY_TIMEOUT;
			break;
		}
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int r = poll(&pfd, 1, left > 60000 ? 60000 : (int)left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			continue;
		ssize_t n = read(fd, ans + got, sizeof ans - 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break; /* the broker went away: refused */
		got += (size_t)n;
		ans[got] = '\0';
		char *nl = memchr(ans, '\n', got);
		if (!nl) {
			if (got == sizeof ans - 1)
				break;
			continue;
		}
		*nl = '\0';
		if (strcmp(ans, "YES") == 0) {
			out->approved = true;
		} else if (strncmp(ans, "NO ", 3) == 0) {
			out->why = why_of(ans + 3);
		}
		break;
	}
	close(fd);
}

bool eg_elsewhere_configured(void)
{
	pid_t pid;
	const char *path;
	return parse_broker(eg_guard_cfg.broker, &pid, &path);
}
