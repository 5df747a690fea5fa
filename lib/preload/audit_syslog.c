/*
 * Audit records to syslog. glibc's syslog(3) takes a lock and formats with
 * stdio, neither allowed on the hook path, so the datagram is written here:
 * "<PRI>execguard[PID]: {json}" to /dev/log, the form journald and rsyslog
 * parse (identifier and pid; they stamp the time themselves).
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include "audit_emit.h"
#include "fmt.h"

#define FACILITY_AUTHPRIV 10u
#define SEV_WARNING 4u
#define SEV_NOTICE 5u
#define SEV_INFO 6u

unsigned long eg_syslog_header(char *buf, const struct eg_audit_rec *r)
{
	unsigned sev = SEV_INFO;
	if (r->outcome && strcmp(r->outcome, "refused") == 0)
		sev = SEV_WARNING;
	else if (r->outcome && strcmp(r->outcome, "approved") == 0)
		sev = SEV_NOTICE;
	unsigned long n = 0;
	buf[n++] = '<';
	n += eg_fmt_uint(buf + n, FACILITY_AUTHPRIV * 8u + sev);
	memcpy(buf + n, ">execguard[", 11);
	n += 11;
	n += eg_fmt_uint(buf + n, (unsigned long)getpid());
	memcpy(buf + n, "]: ", 4);
	return n + 3;
}

int eg_syslog_send(const char *socket_path, const struct eg_audit_rec *r, const char *line,
    unsigned long len)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	size_t plen = strlen(socket_path);
	if (plen == 0 || plen >= sizeof addr.sun_path)
		return ENAMETOOLONG;
	memcpy(addr.sun_path, socket_path, plen + 1);
	if (len > 0 && line[len - 1] == '\n')
		len--;
	char hdr[64];
	unsigned long hlen = eg_syslog_header(hdr, r);

	int saved = errno;
	int err = 0;
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		err = errno;
		goto out;
	}
	struct iovec iov[2] = {
		{ .iov_base = hdr, .iov_len = hlen },
		{ .iov_base = (void *)line, .iov_len = len },
	};
	struct msghdr msg = {
		.msg_name = &addr,
		.msg_namelen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + plen + 1),
		.msg_iov = iov,
		.msg_iovlen = 2,
	};
	ssize_t w;
	do {
		w = sendmsg(fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
	} while (w < 0 && errno == EINTR);
	if (w < 0)
		err = errno;
	close(fd);
out:
	errno = saved;
	return err;
}
