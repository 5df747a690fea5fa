/*
 * The approval broker. See broker.h and lib/preload/broker_proto.h.
 *
 * One thread, one poll loop: the listening socket, the connections, and a
 * short tick that reaps the child and expires requests. Every connection's
 * peer must be this user (SO_PEERCRED); the agent is this user too, so the
 * code is the secret, and it is only ever written to the terminal this
 * process started on. Guessing is bounded: MAX_WRONG_CODES wrong codes
 * refuse every waiting request, and each wrong code is shown to the human.
 */
#include "broker.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "broker_proto.h"
#include "cli.h"
#include "json_read.h"

#define MAX_CLIENTS 128
#define MAX_WRONG_CODES 5
#define TICK_MS 200
#define CODE_RANDOM 6

/* No 0/o, 1/l: codes are read off one screen and typed on another. */
static const char alphabet[] = "abcdefghijkmnpqrstuvwxyz23456789";

struct client {
	int fd;
	char *buf;
	size_t len, cap;
	bool asking;       /* an ASK is waiting for the human */
	unsigned id;
	char code[2 + CODE_RANDOM + 1];
	long long since, deadline; /* ms, CLOCK_MONOTONIC */
	char *command;
};

struct broker {
	int listen_fd, tty_fd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char tag[5];
	unsigned timeout_sec, next_id, wrong_codes;
	struct client c[MAX_CLIENTS];
	size_t n;
};

static volatile sig_atomic_t forward_to; /* the child, once started */

static void forward_signal(int sig)
{
	if (forward_to > 0)
		kill((pid_t)forward_to, sig);
}

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000LL;
}

void broker_session_tag(const char *session, char tag[5])
{
	unsigned h = 2166136261u;
	for (const unsigned char *p = (const unsigned char *)session; *p; p++)
		h = (h ^ *p) * 16777619u;
	for (int i = 0; i < 4; i++, h >>= 5)
		tag[i] = alphabet[h & 31];
	tag[4] = '\0';
}

/* ------------------------------------------------------------ the terminal */

/* Text from the request (the agent's argv): control bytes become '?', so
 * nothing shown here can move the cursor or recolour the screen. */
static void tty_put_text(struct broker *b, char *out, size_t *n, size_t cap, const char *s)
{
	(void)b;
	for (; s && *s && *n + 1 < cap; s++) {
		unsigned char ch = (unsigned char)*s;
		out[(*n)++] = (ch < 0x20 || ch == 0x7f) ? '?' : (char)ch;
	}
}

/* A message for the human, on the terminal only (lines end "\r\n": an
 * agent's full-screen UI keeps the terminal in raw mode). %s arguments are
 * passed through tty_put_text. */
static void tty_say(struct broker *b, const char *fmt, ...)
{
	if (b->tty_fd < 0)
		return;
	char out[8192];
	size_t n = 0;
	va_list ap;
	va_start(ap, fmt);
	for (const char *f = fmt; *f && n + 2 < sizeof out; f++) {
		if (f[0] == '%' && f[1] == 's') {
			tty_put_text(b, out, &n, sizeof out, va_arg(ap, const char *));
			f++;
		} else if (f[0] == '%' && f[1] == 'u') {
			char num[16];
			snprintf(num, sizeof num, "%u", va_arg(ap, unsigned));
			tty_put_text(b, out, &n, sizeof out, num);
			f++;
		} else if (*f == '\n') {
			out[n++] = '\r';
			out[n++] = '\n';
		} else {
			out[n++] = *f;
		}
	}
	va_end(ap);
	for (size_t off = 0; off < n;) {
		ssize_t w = write(b->tty_fd, out + off, n - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		off += (size_t)w;
	}
}

/* ------------------------------------------------------------ set-up */

struct broker *broker_open(const char *session, unsigned timeout_sec, char *spec, size_t size)
{
	const char *runtime = getenv("XDG_RUNTIME_DIR");
	if (!runtime || runtime[0] != '/') {
		cli_error("run", "--approve-elsewhere needs XDG_RUNTIME_DIR (the private runtime "
		    "directory) for its socket");
		return NULL;
	}
	struct broker *b = calloc(1, sizeof *b);
	if (!b)
		return NULL;
	b->listen_fd = b->tty_fd = -1;
	b->timeout_sec = timeout_sec;
	broker_session_tag(session, b->tag);
	char dir[sizeof b->path];
	struct stat st;
	if (snprintf(dir, sizeof dir, "%s/execguard", runtime) >= (int)sizeof dir ||
	    (mkdir(dir, 0700) < 0 && errno != EEXIST) || lstat(dir, &st) < 0 ||
	    !S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 077) != 0) {
		cli_error("run", "%s is not a private directory of this user; not starting the "
		    "approval broker", dir);
		free(b);
		return NULL;
	}
	if (snprintf(b->path, sizeof b->path, "%s/" EG_BROKER_PREFIX "%s" EG_BROKER_SUFFIX, dir,
		session) >= (int)sizeof b->path) {
		cli_error("run", "the broker's socket path is too long under %s", dir);
		free(b);
		return NULL;
	}
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	memcpy(sa.sun_path, b->path, strlen(b->path) + 1);
	b->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	mode_t old = umask(077);
	(void)unlink(b->path);
	int rc = b->listen_fd < 0 ? -1 : bind(b->listen_fd, (struct sockaddr *)&sa, sizeof sa);
	umask(old);
	if (rc < 0 || chmod(b->path, 0600) < 0 || listen(b->listen_fd, 64) < 0) {
		cli_error("run", "cannot listen on %s: %s", b->path, strerror(errno));
		if (b->listen_fd >= 0)
			close(b->listen_fd);
		unlink(b->path);
		free(b);
		return NULL;
	}
	/* The human's terminal: where the codes go. Without one, every
	 * request is refused (nobody could read a code). */
	b->tty_fd = open("/dev/tty", O_WRONLY | O_NOCTTY | O_CLOEXEC);
	if (b->tty_fd < 0)
		cli_error("run", "no terminal to show approval codes on: every command that "
		    "needs approval will be refused");
	else
		tty_say(b, "execguard: approvals of this session come from another terminal: "
		    "codes appear here, `execguard pending` lists what waits\n");
	snprintf(spec, size, "%ld:%s", (long)getpid(), b->path);
	return b;
}

void broker_forget(struct broker *b)
{
	if (b->listen_fd >= 0)
		close(b->listen_fd);
	if (b->tty_fd >= 0)
		close(b->tty_fd);
	b->listen_fd = b->tty_fd = -1;
}

/* ------------------------------------------------------------ connections */

static void send_line(int fd, const char *s)
{
	size_t n = strlen(s);
	while (n > 0) {
		ssize_t w = send(fd, s, n, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return; /* a reader that does not read loses its answer */
		s += w;
		n -= (size_t)w;
	}
}

static void drop(struct broker *b, size_t i)
{
	struct client *c = &b->c[i];
	close(c->fd);
	free(c->buf);
	free(c->command);
	b->c[i] = b->c[--b->n];
}

/* Answer a waiting request and forget it. */
static void answer(struct broker *b, size_t i, const char *line)
{
	send_line(b->c[i].fd, line);
	drop(b, i);
}

static void make_code(struct broker *b, char *code)
{
	unsigned char r[CODE_RANDOM];
	if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r) {
		code[0] = '\0'; /* no code: the request cannot be approved */
		return;
	}
	code[0] = b->tag[0];
	code[1] = b->tag[1];
	for (int k = 0; k < CODE_RANDOM; k++)
		code[2 + k] = alphabet[r[k] & 31];
	code[2 + CODE_RANDOM] = '\0';
}

static char *field(const char *doc, size_t len, const char *name)
{
	const char *path[] = { name };
	char *v = NULL;
	if (json_get_string(doc, len, path, 1, &v) != JSON_FOUND)
		return strdup("?");
	return v;
}

static void on_ask(struct broker *b, size_t i, const char *json, size_t len)
{
	struct client *c = &b->c[i];
	char *command = NULL;
	const char *path[] = { "command" };
	if (json_get_string(json, len, path, 1, &command) != JSON_FOUND) {
		answer(b, i, "NO bad-request\n");
		return;
	}
	if (b->tty_fd < 0) {
		free(command);
		answer(b, i, "NO no-terminal\n");
		return;
	}
	c->asking = true;
	c->command = command;
	c->id = ++b->next_id;
	c->since = now_ms();
	c->deadline = c->since + (long long)b->timeout_sec * 1000LL;
	make_code(b, c->code);
	char *cwd = field(json, len, "cwd"), *rule = field(json, len, "rule");
	char *reason = field(json, len, "reason"), *prog = field(json, len, "program");
	char *parents = field(json, len, "parents");
	char id[32], code[16];
	snprintf(id, sizeof id, "%s-%u", b->tag, c->id);
	snprintf(code, sizeof code, "%.4s-%s", c->code, c->code + 4);
	tty_say(b,
	    "\nexecguard: a command is waiting for your approval [%s]\n"
	    "  command:  %s\n"
	    "  cwd:      %s\n"
	    "  rule:     %s: %s\n"
	    "  asked by: %s < %s\n"
	    "  To run it, type in another terminal:   execguard approve %s\n"
	    "  To refuse it:                          execguard deny %s   (or wait %u s)\n",
	    id, command, cwd ? cwd : "?", rule ? rule : "?", reason ? reason : "",
	    prog ? prog : "?", parents ? parents : "", c->code[0] ? code : "(none: no randomness)",
	    id, b->timeout_sec);
	free(cwd);
	free(rule);
	free(reason);
	free(prog);
	free(parents);
}

static void on_list(struct broker *b, size_t i)
{
	long long now = now_ms();
	for (size_t k = 0; k < b->n; k++) {
		struct client *c = &b->c[k];
		if (!c->asking)
			continue;
		char line[4096];
		/* tabs and newlines in the command would break the format */
		char cmd[2048];
		snprintf(cmd, sizeof cmd, "%s", c->command);
		for (char *p = cmd; *p; p++)
			if ((unsigned char)*p < 0x20)
				*p = ' ';
		snprintf(line, sizeof line, "%s-%u\t%lld\t%lld\t%s\n", b->tag, c->id,
		    (now - c->since) / 1000, (c->deadline - now) / 1000, cmd);
		send_line(b->c[i].fd, line);
	}
	answer(b, i, ".\n");
}

/* "ab2c-3xyz" or "ab2c3xyz", any case. */
static bool same_code(const char *want, const char *got)
{
	char norm[16];
	size_t n = 0;
	for (; *got && n + 1 < sizeof norm; got++) {
		if (*got == '-' || *got == ' ')
			continue;
		char ch = *got;
		norm[n++] = (ch >= 'A' && ch <= 'Z') ? (char)(ch - 'A' + 'a') : ch;
	}
	norm[n] = '\0';
	size_t wl = strlen(want);
	if (wl == 0 || n != wl)
		return false;
	unsigned diff = 0; /* constant time: no timing hints for a guesser */
	for (size_t k = 0; k < wl; k++)
		diff |= (unsigned)(want[k] ^ norm[k]);
	return diff == 0;
}

static void refuse_all(struct broker *b, const char *line)
{
	for (size_t k = b->n; k-- > 0;)
		if (b->c[k].asking)
			answer(b, k, line);
}

static void on_approve(struct broker *b, size_t i, const char *code)
{
	/* a code of another session (its tag) is not a wrong guess here */
	char lead[3] = { 0 };
	for (size_t k = 0, m = 0; code[k] && m < 2; k++)
		if (code[k] != '-')
			lead[m++] = (code[k] >= 'A' && code[k] <= 'Z') ? (char)(code[k] - 'A' + 'a') : code[k];
	if (lead[0] != b->tag[0] || lead[1] != b->tag[1]) {
		answer(b, i, "ERR not-this-session\n");
		return;
	}
	for (size_t k = 0; k < b->n; k++) {
		struct client *c = &b->c[k];
		if (c->asking && same_code(c->code, code)) {
			char ok[2300];
			snprintf(ok, sizeof ok, "OK %s-%u\t%.2047s\n", b->tag, c->id, c->command);
			tty_say(b, "execguard: approved from another terminal [%s-%u]: %s\n", b->tag,
			    c->id, c->command);
			answer(b, k, "YES\n");
			if (i == b->n) /* `drop` moved the last entry into k */
				i = k;
			answer(b, i, ok);
			return;
		}
	}
	b->wrong_codes++;
	if (b->wrong_codes >= MAX_WRONG_CODES) {
		tty_say(b, "execguard: %u wrong approval codes were tried; every waiting request "
		    "is refused\n", b->wrong_codes);
		b->wrong_codes = 0;
		answer(b, i, "ERR no waiting request has that code; too many wrong codes, every "
		    "waiting request was refused\n");
		refuse_all(b, "NO too-many-codes\n");
		return;
	}
	tty_say(b, "execguard: a wrong approval code was tried (%u of %u allowed)\n",
	    b->wrong_codes, (unsigned)MAX_WRONG_CODES - 1);
	answer(b, i, "ERR no waiting request has that code (used, expired or mistyped)\n");
}

static void on_deny(struct broker *b, size_t i, const char *id)
{
	for (size_t k = 0; k < b->n; k++) {
		struct client *c = &b->c[k];
		char want[32];
		snprintf(want, sizeof want, "%s-%u", b->tag, c->id);
		if (c->asking && strcmp(want, id) == 0) {
			char ok[2300];
			snprintf(ok, sizeof ok, "OK %s\t%.2047s\n", want, c->command);
			tty_say(b, "execguard: refused from another terminal [%s]: %s\n", want,
			    c->command);
			answer(b, k, "NO said-no\n");
			if (i == b->n)
				i = k;
			answer(b, i, ok);
			return;
		}
	}
	answer(b, i, strncmp(id, b->tag, 4) == 0 && id[4] == '-'
	    ? "ERR no waiting request has that id\n"
	    : "ERR not-this-session\n");
}

static void on_line(struct broker *b, size_t i, char *line, size_t len)
{
	if (len >= 4 && memcmp(line, "ASK ", 4) == 0)
		on_ask(b, i, line + 4, len - 4);
	else if (strcmp(line, "LIST") == 0)
		on_list(b, i);
	else if (strncmp(line, "APPROVE ", 8) == 0)
		on_approve(b, i, line + 8);
	else if (strncmp(line, "DENY ", 5) == 0)
		on_deny(b, i, line + 5);
	else
		answer(b, i, "ERR unknown request\n");
}

/* Data (or EOF) on connection i. */
static void on_readable(struct broker *b, size_t i)
{
	struct client *c = &b->c[i];
	if (c->asking) {
		/* nothing more is expected: EOF means the asker is gone */
		char junk[64];
		ssize_t n = recv(c->fd, junk, sizeof junk, MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
			tty_say(b, "execguard: [%s-%u] withdrawn (the asking program ended)\n",
			    b->tag, c->id);
			drop(b, i);
		}
		return;
	}
	if (c->cap - c->len < 4096) {
		size_t cap = c->cap ? c->cap * 2 : 8192;
		char *g = cap > EG_BROKER_LINE_MAX + 16 ? NULL : realloc(c->buf, cap);
		if (!g) {
			answer(b, i, "ERR request too long\n");
			return;
		}
		c->buf = g;
		c->cap = cap;
	}
	ssize_t n = recv(c->fd, c->buf + c->len, c->cap - c->len - 1, MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		drop(b, i);
		return;
	}
	c->len += (size_t)n;
	c->buf[c->len] = '\0';
	char *nl = memchr(c->buf, '\n', c->len);
	if (nl) {
		*nl = '\0';
		on_line(b, i, c->buf, (size_t)(nl - c->buf));
	}
}

static void on_accept(struct broker *b)
{
	for (;;) {
		int fd = accept4(b->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0)
			return;
		struct ucred cr;
		socklen_t cl = sizeof cr;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &cl) < 0 || cr.uid != geteuid() ||
		    b->n == MAX_CLIENTS) {
			close(fd); /* another user, or too many at once */
			continue;
		}
		memset(&b->c[b->n], 0, sizeof b->c[b->n]);
		b->c[b->n++].fd = fd;
	}
}

static void expire(struct broker *b)
{
	long long now = now_ms();
	for (size_t k = b->n; k-- > 0;) {
		struct client *c = &b->c[k];
		if (c->asking && now >= c->deadline) {
			tty_say(b, "execguard: [%s-%u] refused: no approval within %u s\n", b->tag, c->id,
			    b->timeout_sec);
			answer(b, k, "NO timeout\n");
		}
	}
}

int broker_serve(struct broker *b, pid_t child)
{
	/* Ctrl-C and Ctrl-\ are for the agent (same process group); TERM and
	 * HUP are passed on to it, and we go when it goes. */
	forward_to = child;
	struct sigaction sa = { .sa_handler = forward_signal };
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGINT, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGTTOU, SIG_IGN); /* the code is written even to a terminal with `tostop` */

	int status = 0;
	for (;;) {
		pid_t r = waitpid(child, &status, WNOHANG);
		if (r == child || (r < 0 && errno == ECHILD))
			break;
		expire(b);
		struct pollfd pf[MAX_CLIENTS + 1];
		pf[0] = (struct pollfd){ .fd = b->listen_fd, .events = POLLIN };
		for (size_t k = 0; k < b->n; k++)
			pf[k + 1] = (struct pollfd){ .fd = b->c[k].fd, .events = POLLIN };
		size_t n = b->n;
		int pr = poll(pf, n + 1, TICK_MS);
		if (pr <= 0)
			continue;
		/* from the end, so a dropped entry (replaced by the last) was seen */
		for (size_t k = n; k-- > 0;)
			if (k < b->n && pf[k + 1].revents && b->c[k].fd == pf[k + 1].fd)
				on_readable(b, k);
		if (pf[0].revents & POLLIN)
			on_accept(b);
	}
	refuse_all(b, "NO session-ended\n");
	while (b->n > 0)
		drop(b, b->n - 1);
	close(b->listen_fd);
	unlink(b->path);
	if (b->tty_fd >= 0)
		close(b->tty_fd);
	free(b);
	return status;
}
