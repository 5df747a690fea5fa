/*
 * execguard pending | approve CODE | deny ID: answer the requests waiting in
 * the approval brokers of this user's sessions (`execguard run
 * --approve-elsewhere`), from any terminal. The brokers are the sockets
 * $XDG_RUNTIME_DIR/execguard/broker-*.sock; each is asked in turn, and only
 * one whose peer is this user is believed.
 *
 * Exit: 0 done (pending: listed, even if nothing waits), 1 no waiting
 * request has that code or id, 64 usage, 69 no broker is running.
 */
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "broker_proto.h"
#include "cli.h"

#define ANSWER_MAX (1u << 20)

static const char approve_usage[] =
    "usage: execguard pending\n"
    "       execguard approve CODE\n"
    "       execguard deny ID\n"
    "\n"
    "Answer the commands waiting in sessions started with\n"
    "`execguard run --approve-elsewhere`. `pending` lists them (id, how long\n"
    "they wait, the command); `approve CODE` runs the one whose one-time code\n"
    "was shown on the session's terminal; `deny ID` refuses one.\n"
    "\n"
    "Exit status: 0 done, 1 no waiting request has that code or id,\n"
    "64 usage, 69 no approval broker is running.\n";

/* Send one request line to the broker at `path`; its whole answer (up to
 * EOF) in *out (malloc'd). -1 if it is not a broker of ours. */
static int ask_broker(const char *path, const char *line, char **out)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof sa.sun_path)
		return -1;
	strcpy(sa.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	struct ucred cr;
	socklen_t cl = sizeof cr;
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
	    getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &cl) < 0 || cr.uid != geteuid()) {
		close(fd);
		return -1;
	}
	size_t n = strlen(line);
	if (send(fd, line, n, MSG_NOSIGNAL) != (ssize_t)n) {
		close(fd);
		return -1;
	}
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap);
	while (buf) {
		struct pollfd pf = { .fd = fd, .events = POLLIN };
		if (poll(&pf, 1, 10000) <= 0)
			break; /* a broker that does not answer in 10 s: what we have */
		if (cap - len < 2) {
			char *g = cap < ANSWER_MAX ? realloc(buf, cap * 2) : NULL;
			if (!g)
				break;
			buf = g;
			cap *= 2;
		}
		ssize_t r = read(fd, buf + len, cap - len - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	if (!buf)
		return -1;
	buf[len] = '\0';
	*out = buf;
	return 0;
}

struct brokers {
	char **path;
	size_t n;
};

static void find_brokers(struct brokers *b)
{
	b->path = NULL;
	b->n = 0;
	const char *runtime = getenv("XDG_RUNTIME_DIR");
	if (!runtime || runtime[0] != '/')
		return;
	char dir[4096];
	snprintf(dir, sizeof dir, "%s/execguard", runtime);
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *e;
	size_t lp = strlen(EG_BROKER_PREFIX), ls = strlen(EG_BROKER_SUFFIX);
	while ((e = readdir(d)) != NULL) {
		size_t l = strlen(e->d_name);
		if (l <= lp + ls || strncmp(e->d_name, EG_BROKER_PREFIX, lp) != 0 ||
		    strcmp(e->d_name + l - ls, EG_BROKER_SUFFIX) != 0)
			continue;
		char **g = realloc(b->path, (b->n + 1) * sizeof *g);
		if (!g)
			break;
		b->path = g;
		if (asprintf(&b->path[b->n], "%s/%s", dir, e->d_name) >= 0)
			b->n++;
	}
	closedir(d);
}

static void free_brokers(struct brokers *b)
{
	for (size_t i = 0; i < b->n; i++)
		free(b->path[i]);
	free(b->path);
}

static int do_pending(struct brokers *bs)
{
	size_t live = 0, waiting = 0;
	for (size_t i = 0; i < bs->n; i++) {
		char *ans = NULL;
		if (ask_broker(bs->path[i], "LIST\n", &ans) < 0)
			continue;
		live++;
		for (char *line = strtok(ans, "\n"); line; line = strtok(NULL, "\n")) {
			if (strcmp(line, ".") == 0)
				break;
			char *f[4] = { 0 };
			char *p = line;
			for (int k = 0; k < 4 && p; k++) {
				f[k] = p;
				p = k < 3 ? strchr(p, '\t') : NULL;
				if (p)
					*p++ = '\0';
			}
			if (!f[3])
				continue;
			if (waiting++ == 0)
				printf("%-10s %8s %8s  %s\n", "ID", "WAITING", "LEFT", "COMMAND");
			printf("%-10s %7ss %7ss  %s\n", f[0], f[1], f[2], f[3]);
		}
		free(ans);
	}
	if (live == 0) {
		cli_error("pending", "no approval broker is running "
		    "(sessions started with `execguard run --approve-elsewhere`)");
		return EX_UNAVAILABLE;
	}
	if (waiting == 0)
		printf("no command is waiting for approval\n");
	else
		printf("\nApprove one with `execguard approve CODE` (the code is on the session's "
		       "terminal), refuse with `execguard deny ID`.\n");
	return 0;
}

/* APPROVE or DENY: the first broker that says OK wins. */
static int do_answer(struct brokers *bs, const char *verb, const char *what, const char *arg)
{
	if (!*arg || strpbrk(arg, "\n\r\t") != NULL || strlen(arg) > 64) {
		cli_error(verb, "that is not a %s", what);
		return EX_USAGE;
	}
	char line[128];
	snprintf(line, sizeof line, "%s %s\n", strcmp(verb, "approve") == 0 ? "APPROVE" : "DENY",
	    arg);
	size_t live = 0;
	char *err = NULL;
	for (size_t i = 0; i < bs->n; i++) {
		char *ans = NULL;
		if (ask_broker(bs->path[i], line, &ans) < 0)
			continue;
		live++;
		if (strncmp(ans, "OK ", 3) == 0) {
			char *tab = strchr(ans + 3, '\t');
			char *nl = strchr(ans, '\n');
			if (nl)
				*nl = '\0';
			if (tab)
				*tab++ = '\0';
			printf("%s %s: %s\n", strcmp(verb, "approve") == 0 ? "approved" : "refused",
			    ans + 3, tab ? tab : "");
			free(ans);
			free(err);
			return 0;
		}
		if (strncmp(ans, "ERR not-this-session", 20) != 0 && !err)
			err = ans;
		else
			free(ans);
	}
	if (live == 0) {
		cli_error(verb, "no approval broker is running "
		    "(sessions started with `execguard run --approve-elsewhere`)");
		return EX_UNAVAILABLE;
	}
	if (err) {
		char *nl = strchr(err, '\n');
		if (nl)
			*nl = '\0';
		cli_error(verb, "%s", strncmp(err, "ERR ", 4) == 0 ? err + 4 : err);
		free(err);
	} else {
		cli_error(verb, "no waiting request has that %s", what);
	}
	return 1;
}

int cmd_approve(int argc, char **argv)
{
	const char *verb = argv[0];
	if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		fputs(approve_usage, stdout);
		return 0;
	}
	bool pending = strcmp(verb, "pending") == 0;
	if (argc != (pending ? 1 : 2)) {
		cli_error(verb, pending ? "takes no arguments" : "needs exactly one argument");
		fputs(approve_usage, stderr);
		return EX_USAGE;
	}
	struct brokers bs;
	find_brokers(&bs);
	int rc = pending ? do_pending(&bs)
	    : strcmp(verb, "approve") == 0 ? do_answer(&bs, verb, "code", argv[1])
					    : do_answer(&bs, verb, "request id", argv[1]);
	free_brokers(&bs);
	return rc;
}
