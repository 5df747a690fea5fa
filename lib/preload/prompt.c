/*
 * Asking the human on the controlling terminal.
 *
 * Hook-path code: this runs inside exec hooks, in vfork children and in
 * multithreaded programs. No malloc, no stdio, no locks other than flock(2)
 * on the terminal device; stack buffers only; errno is preserved; the
 * signal mask is restored and no signal disposition is ever changed.
 *
 * Design
 * ------
 * - The terminal is /dev/tty, opened here (O_RDWR|O_NOCTTY|O_CLOEXEC|
 *   O_NONBLOCK). The caller's stdin/stdout are never used: they usually are
 *   the agent's pipes. No controlling terminal -> EG_PROMPT_NO_TTY.
 * - SIGTTIN and SIGTTOU are blocked in this thread while the terminal is
 *   touched, so nothing here can stop the process. A process group that is
 *   not the terminal's foreground group is refused (EG_PROMPT_BACKGROUND)
 *   without writing to or reconfiguring the terminal.
 * - Concurrent prompts (make -j) are serialized with flock(LOCK_EX) on the
 *   real terminal device (found with TIOCGDEV: an flock on /dev/tty itself
 *   would serialize every terminal of the machine, since all opens of
 *   /dev/tty share one inode). The wait uses LOCK_NB and short sleeps and is
 *   bounded by the timeout; once the question is on screen the human gets
 *   the full timeout to answer it.
 * - The terminal modes are read after the lock is held (another prompt may
 *   just have restored them) and restored on every path out.
 * - The answer is read in NON-canonical mode with ISIG off, with our own echo
 *   and line editing (erase, Ctrl-U, Ctrl-W). Why not canonical mode:
 *   with ISIG on, Ctrl-C makes the terminal send SIGINT to the whole
 *   foreground process group - the agent and every program around the exec
 *   call, which is not what "Ctrl-C means no" should do. With ISIG off in
 *   canonical mode, Ctrl-C would only be seen after Enter. Reading byte by
 *   byte, the INTR, QUIT, SUSP and EOF characters (c_cc[VINTR], [VQUIT],
 *   [VSUSP], [VEOF], and the usual ^C ^\ ^Z ^D whatever c_cc says) answer
 *   "no" at once, and nothing is killed or stopped. Escape sequences (arrow
 *   keys, bracketed paste markers) are swallowed.
 * - Input typed before the question appeared is discarded (TCSAFLUSH when the
 *   modes are set, and tcflush(TCIFLUSH) once the question is written), so a
 *   `yes` typed ahead does not count.
 * - The answer must be the required word exactly, case included ("YES" and
 *   "y" refuse, like terraform's prompt). Only blanks (spaces, tabs) around
 *   it are ignored: a stray space is not a different answer, and it cannot
 *   turn anything into the word.
 * - Signals: SIGINT, SIGQUIT, SIGTERM, SIGHUP and SIGTSTP (and SIGALRM,
 *   SIGUSR1, SIGUSR2, SIGVTALRM, SIGXCPU when they still have their default,
 *   fatal, action) are blocked in this thread during the prompt and watched
 *   with a signalfd (without consuming them). When one arrives the answer is
 *   "no", the terminal is restored, and then the old mask is put back, so the
 *   signal takes its normal effect (the host's handler, or termination) with
 *   the terminal already sane. Signals the caller had blocked are left alone.
 *   Other signals with handlers (SIGWINCH, ...) interrupt poll/read with
 *   EINTR and the prompt simply continues.
 * - Hangup (POLLHUP, EIO, read returning 0) -> EG_PROMPT_ERROR.
 *
 * Limitation: a process-directed signal can be delivered to another thread
 * of a multithreaded host, which does not have it blocked; if that kills the
 * process, the terminal stays in the prompt's modes (an interactive shell
 * restores its own modes when its foreground job dies from a signal).
 */
#include "prompt.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include "dev_num.h"
#include "fmt.h"
#include "utf8.h"

#define ANSWER_MAX 256
#define LOCK_SLEEP_MS 50

/* ------------------------------------------------------------------ text out */

struct obuf {
	char *b;
	size_t cap, n;
	int trunc;
};

static void ob_init(struct obuf *o, char *buf, size_t cap)
{
	o->b = buf;
	o->cap = cap;
	o->n = 0;
	o->trunc = 0;
}

static void ob_mem(struct obuf *o, const char *s, size_t n)
{
	if (n > o->cap - o->n) {
		n = o->cap - o->n;
		o->trunc = 1;
	}
	memcpy(o->b + o->n, s, n);
	o->n += n;
}

static void ob_str(struct obuf *o, const char *s)
{
	ob_mem(o, s, strlen(s));
}

static void ob_uint(struct obuf *o, unsigned long v)
{
	char digits[EG_FMT_UINT_MAX];
	eg_fmt_uint(digits, v);
	ob_str(o, digits);
}

static const char hexd[] = "0123456789abcdef";

static void ob_hexbyte(struct obuf *o, unsigned char c)
{
	char t[4] = { '\\', 'x', hexd[c >> 4], hexd[c & 15] };
	ob_mem(o, t, 4);
}

static void ob_ucode(struct obuf *o, unsigned cp)
{
	char t[6] = { '\\', 'u', hexd[(cp >> 12) & 15], hexd[(cp >> 8) & 15], hexd[(cp >> 4) & 15],
		hexd[cp & 15] };
	ob_mem(o, t, 6);
}

/* Code points that could hide or reorder what is on screen. */
static int dangerous_cp(unsigned cp)
{
	return cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f) || cp == 0x061c ||
	    cp == 0x200e || cp == 0x200f || (cp >= 0x202a && cp <= 0x202e) ||
	    (cp >= 0x2066 && cp <= 0x2069);
}

/*
 * Append text from the command or the rule, made safe for a terminal:
 * control characters, C1 controls and bidi overrides are shown escaped, so
 * that an argument cannot rewrite the screen or hide part of the command.
 */
static void ob_safe(struct obuf *o, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t n = strlen((const char *)p);
	while (n) {
		uint32_t cp = 0;
		size_t l = eg_utf8_decode(p, n, &cp);
		if (l == 0) {
			ob_hexbyte(o, *p);
			l = 1;
		} else if (dangerous_cp(cp)) {
			if (cp < 0x80)
				ob_hexbyte(o, (unsigned char)cp);
			else
				ob_ucode(o, cp);
		} else {
			ob_mem(o, (const char *)p, l);
		}
		p += l;
		n -= l;
	}
}

/* ------------------------------------------------------------------ time */

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int remaining_ms(int64_t deadline)
{
	int64_t r = deadline - now_ms();
	if (r <= 0)
		return 0;
	if (r > INT32_MAX)
		return INT32_MAX;
	return (int)r;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	nanosleep(&ts, NULL); /* EINTR: the caller loops and re-checks */
}

/* ------------------------------------------------------------------ the tty */

/* Write all of buf; the fd is non-blocking so a stopped terminal (XOFF)
 * cannot hang us past the deadline. */
static int tty_write(int fd, const char *buf, size_t len, int64_t deadline)
{
	while (len) {
		ssize_t w = write(fd, buf, len);
		if (w > 0) {
			buf += w;
			len -= (size_t)w;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN) {
			int ms = remaining_ms(deadline);
			if (ms == 0)
				return -1;
			struct pollfd p = { .fd = fd, .events = POLLOUT };
			if (poll(&p, 1, ms) < 0 && errno != EINTR)
				return -1;
			continue;
		}
		return -1;
	}
	return 0;
}

static int tty_set(int fd, const struct termios *t, int action)
{
	for (int i = 0; i < 10; i++) {
		if (tcsetattr(fd, action, t) == 0)
			return 0;
		if (errno != EINTR)
			return -1;
	}
	return -1;
}

/* 1: our process group is the terminal's foreground; 0: another one is;
 * -1: the terminal cannot tell (not a controlling terminal, hung up). */
static int fg_state(int fd)
{
	pid_t fg = tcgetpgrp(fd);
	if (fg < 0)
		return -1;
	return fg == getpgrp();
}

/*
 * A second descriptor for the real terminal device, for the lock: all opens
 * of /dev/tty share one inode, so flock on it would serialize prompts on
 * every terminal of the machine. Falls back to the /dev/tty descriptor.
 */
static int open_lock_fd(int ttyfd)
{
	unsigned int dev = 0;
	if (ioctl(ttyfd, TIOCGDEV, &dev) != 0)
		return -1;
	unsigned maj = eg_dev_major(dev), min = eg_dev_minor(dev);
	char path[64];
	struct obuf o;
	ob_init(&o, path, sizeof path);
	if (maj >= 136 && maj <= 143) { /* Unix98 pty slaves */
		ob_str(&o, "/dev/pts/");
		ob_uint(&o, (unsigned long)(maj - 136) * 256 + min);
	} else {
		ob_str(&o, "/dev/char/");
		ob_uint(&o, maj);
		ob_str(&o, ":");
		ob_uint(&o, min);
	}
	ob_mem(&o, "", 1);
	if (o.trunc)
		return -1;
	int fd = open(path, O_RDONLY | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		fd = open(path, O_WRONLY | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -1;
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISCHR(st.st_mode) || st.st_rdev != (dev_t)eg_dev_make(maj, min)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* ------------------------------------------------------------------ signals */

static const int always_watched[] = { SIGINT, SIGQUIT, SIGTERM, SIGHUP, SIGTSTP };
static const int fatal_if_default[] = { SIGALRM, SIGUSR1, SIGUSR2, SIGVTALRM, SIGXCPU };

static void build_watch_set(sigset_t *watch, const sigset_t *old)
{
	sigemptyset(watch);
	for (size_t i = 0; i < sizeof always_watched / sizeof always_watched[0]; i++)
		if (!sigismember(old, always_watched[i]))
			sigaddset(watch, always_watched[i]);
	for (size_t i = 0; i < sizeof fatal_if_default / sizeof fatal_if_default[0]; i++) {
		struct sigaction sa;
		int s = fatal_if_default[i];
		if (sigismember(old, s) || sigaction(s, NULL, &sa) != 0)
			continue;
		if (!(sa.sa_flags & SA_SIGINFO) && sa.sa_handler == SIG_DFL)
			sigaddset(watch, s);
	}
}

/* A watched signal is pending: returns it, else 0. */
static int watched_pending(const sigset_t *watch)
{
	sigset_t p;
	if (sigpending(&p) != 0)
		return 0;
	for (int s = 1; s < 32; s++)
		if (sigismember(watch, s) && sigismember(&p, s))
			return s;
	return 0;
}

/* ------------------------------------------------------------------ answer */

enum why {
	WHY_ANSWER,    /* a line was entered */
	WHY_CTRL_C,
	WHY_CTRL_BS,   /* Ctrl-\ */
	WHY_CTRL_Z,
	WHY_CTRL_D,
	WHY_SIGNAL,
	WHY_TIMEOUT,
	WHY_HANGUP,
	WHY_BACKGROUND,
	WHY_TOO_LONG,
};

struct line {
	char b[ANSWER_MAX];
	size_t n;
	int overflow;
	int esc; /* 0 none, 1 after ESC, 2 inside CSI/SS3 */
};

static int is_cc(const struct termios *t, int idx, unsigned char c)
{
	return t->c_cc[idx] != _POSIX_VDISABLE && t->c_cc[idx] == c;
}

static void erase_chars(int fd, struct line *l, size_t count, int64_t dl)
{
	while (count-- && l->n) {
		do
			l->n--;
		while (l->n && ((unsigned char)l->b[l->n] & 0xc0) == 0x80);
		tty_write(fd, "\b \b", 3, dl);
	}
}

/*
 * Feed one byte. Returns -1 to continue, or a `why` when the answer is done.
 */
static int feed(int fd, const struct termios *orig, struct line *l, unsigned char c, int64_t dl)
{
	if (l->esc == 1) { /* after ESC: CSI / SS3 introducer, or one byte */
		l->esc = (c == '[' || c == 'O') ? 2 : 0;
		return -1;
	}
	if (l->esc == 2) { /* parameters until the final byte 0x40..0x7e */
		if (c >= 0x40 && c <= 0x7e)
			l->esc = 0;
		return -1;
	}
	if (c == 0x03 || is_cc(orig, VINTR, c))
		return WHY_CTRL_C;
	if (c == 0x1c || is_cc(orig, VQUIT, c))
		return WHY_CTRL_BS;
	if (c == 0x1a || is_cc(orig, VSUSP, c))
		return WHY_CTRL_Z;
	if (c == 0x04 || is_cc(orig, VEOF, c))
		return WHY_CTRL_D;
	if (c == '\n' || c == '\r' || is_cc(orig, VEOL, c))
		return l->overflow ? WHY_TOO_LONG : WHY_ANSWER;
	if (c == 0x7f || c == 0x08 || is_cc(orig, VERASE, c)) {
		erase_chars(fd, l, 1, dl);
		return -1;
	}
	if (c == 0x15 || is_cc(orig, VKILL, c)) {
		erase_chars(fd, l, SIZE_MAX, dl);
		l->overflow = 0;
		return -1;
	}
	if (c == 0x17 || is_cc(orig, VWERASE, c)) {
		while (l->n && (l->b[l->n - 1] == ' ' || l->b[l->n - 1] == '\t'))
			erase_chars(fd, l, 1, dl);
		while (l->n && l->b[l->n - 1] != ' ' && l->b[l->n - 1] != '\t')
			erase_chars(fd, l, 1, dl);
		return -1;
	}
	if (c == 0x1b) {
		l->esc = 1;
		return -1;
	}
	if (c == '\t')
		c = ' '; /* a tab is a blank like a space */
	if (c < 0x20)
		return -1; /* other control characters are ignored */
	if (l->n >= sizeof l->b) {
		l->overflow = 1;
		return -1;
	}
	l->b[l->n++] = (char)c;
	tty_write(fd, (const char *)&c, 1, dl);
	return -1;
}

static int answer_matches(const struct line *l, const char *word)
{
	size_t a = 0, b = l->n;
	while (a < b && l->b[a] == ' ')
		a++;
	while (b > a && l->b[b - 1] == ' ')
		b--;
	size_t wl = strlen(word);
	return wl > 0 && b - a == wl && memcmp(l->b + a, word, wl) == 0;
}

/* ------------------------------------------------------------------ main */

const char *eg_prompt_outcome_text(enum eg_prompt_outcome o)
{
	switch (o) {
	case EG_PROMPT_YES:
		return "approved by the user";
	case EG_PROMPT_NO:
		return "the user refused";
	case EG_PROMPT_TIMEOUT:
		return "nobody answered before the prompt timed out";
	case EG_PROMPT_NO_TTY:
		return "there is no terminal to ask on, and a human must approve it";
	case EG_PROMPT_BACKGROUND:
		return "the process is not in the terminal's foreground, so no human could be asked";
	case EG_PROMPT_ERROR:
		return "the terminal failed or hung up during the question";
	}
	return "refused";
}

static size_t write_header(struct obuf *o, const struct eg_prompt_req *r, const char *word)
{
	ob_str(o, "\n\aexecguard: this command needs your approval\n");
	ob_str(o, "  command:  ");
	ob_safe(o, r->cmdline);
	ob_str(o, "\n  cwd:      ");
	ob_safe(o, r->cwd && r->cwd[0] ? r->cwd : "(unknown)");
	ob_str(o, "\n  rule:     ");
	ob_safe(o, r->rule_id && r->rule_id[0] ? r->rule_id : "(unknown)");
	if (r->rule_file && r->rule_file[0]) {
		ob_str(o, "  (");
		ob_safe(o, r->rule_file);
		if (r->rule_line) {
			ob_str(o, ":");
			ob_uint(o, r->rule_line);
		}
		ob_str(o, ")");
	}
	if (r->reason && r->reason[0]) {
		ob_str(o, "\n  reason:   ");
		ob_safe(o, r->reason);
	}
	ob_str(o, "\n  asked by: ");
	ob_safe(o, r->progname && r->progname[0] ? r->progname : "?");
	ob_str(o, " (pid ");
	ob_uint(o, (unsigned long)(r->pid > 0 ? r->pid : getpid()));
	ob_str(o, ")");
	if (r->parents && r->parents[0]) {
		ob_str(o, " < ");
		ob_safe(o, r->parents);
	}
	ob_str(o, "\n");
	if (o->trunc) { /* keep the question itself on screen */
		o->n = o->cap - 1024;
		ob_str(o, "...\n");
		o->trunc = 0;
	}
	size_t qpos = o->n;
	if (strcmp(word, "yes") == 0) {
		ob_str(o, "Type 'yes' to run it, anything else refuses: ");
	} else {
		ob_str(o, "Type the name '");
		ob_safe(o, word);
		ob_str(o, "' to run it: ");
	}
	return qpos;
}

static void write_result(int fd, enum eg_prompt_outcome out, int why, const char *word,
    unsigned timeout, int64_t dl)
{
	char buf[1024];
	struct obuf o;
	ob_init(&o, buf, sizeof buf);
	if (why != WHY_ANSWER && why != WHY_TOO_LONG)
		ob_str(&o, "\n");
	if (out == EG_PROMPT_YES) {
		ob_str(&o, "execguard: approved\n");
	} else {
		ob_str(&o, "execguard: refused (");
		switch (why) {
		case WHY_CTRL_C:
			ob_str(&o, "Ctrl-C");
			break;
		case WHY_CTRL_BS:
			ob_str(&o, "Ctrl-\\");
			break;
		case WHY_CTRL_Z:
			ob_str(&o, "Ctrl-Z");
			break;
		case WHY_CTRL_D:
			ob_str(&o, "Ctrl-D");
			break;
		case WHY_SIGNAL:
			ob_str(&o, "interrupted by a signal");
			break;
		case WHY_TIMEOUT:
			ob_str(&o, "no answer within ");
			ob_uint(&o, timeout);
			ob_str(&o, " s");
			break;
		case WHY_TOO_LONG:
		case WHY_ANSWER:
			ob_str(&o, "only '");
			ob_safe(&o, word);
			ob_str(&o, "' approves");
			break;
		default:
			ob_str(&o, eg_prompt_outcome_text(out));
			break;
		}
		ob_str(&o, ")\n");
	}
	tty_write(fd, o.b, o.n, dl);
}

enum eg_prompt_outcome eg_prompt_ask(const struct eg_prompt_req *req)
{
	int saved_errno = errno;
	enum eg_prompt_outcome out = EG_PROMPT_ERROR;
	const char *word = (req && req->required && req->required[0]) ? req->required : "yes";
	unsigned timeout = (req && req->timeout_sec) ? req->timeout_sec : 120;
	int ttyfd = -1, lockfd = -1, sigfd = -1, modes_set = 0, why = WHY_HANGUP;
	struct termios orig, mine;
	sigset_t block, old, watch;

	if (!req) {
		errno = saved_errno;
		return EG_PROMPT_ERROR;
	}

	/* Block job-control signals (tty access never stops us) and the
	 * watched ones (they answer "no" and take effect after the restore). */
	sigemptyset(&block);
	sigprocmask(SIG_BLOCK, NULL, &old);
	build_watch_set(&watch, &old);
	for (int s = 1; s < 32; s++)
		if (sigismember(&watch, s))
			sigaddset(&block, s);
	sigaddset(&block, SIGTTIN);
	sigaddset(&block, SIGTTOU);
	sigprocmask(SIG_BLOCK, &block, NULL);

	ttyfd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
	if (ttyfd < 0) {
		out = eg_prompt_open_failed(errno);
		goto done;
	}
	if (!isatty(ttyfd)) {
		out = EG_PROMPT_NO_TTY;
		goto done;
	}
	switch (fg_state(ttyfd)) {
	case 1:
		break;
	case 0:
		out = EG_PROMPT_BACKGROUND;
		goto done;
	default:
		out = EG_PROMPT_NO_TTY;
		goto done;
	}
	sigfd = signalfd(-1, &watch, SFD_CLOEXEC | SFD_NONBLOCK);

	/* One question on screen at a time. */
	int64_t dl = now_ms() + (int64_t)timeout * 1000;
	lockfd = open_lock_fd(ttyfd);
	for (;;) {
		if (flock(lockfd >= 0 ? lockfd : ttyfd, LOCK_EX | LOCK_NB) == 0)
			break;
		if (errno != EWOULDBLOCK && errno != EINTR)
			break; /* no locking available: ask anyway */
		if (watched_pending(&watch)) {
			out = EG_PROMPT_NO;
			goto done;
		}
		int fs = fg_state(ttyfd);
		if (fs != 1) {
			out = fs == 0 ? EG_PROMPT_BACKGROUND : EG_PROMPT_ERROR;
			goto done;
		}
		if (remaining_ms(dl) == 0) {
			out = EG_PROMPT_TIMEOUT;
			goto done;
		}
		sleep_ms(LOCK_SLEEP_MS);
	}

	/* Read the modes now that we own the terminal: a prompt before us may
	 * have just restored them. */
	int fs0 = fg_state(ttyfd);
	if (fs0 != 1) {
		out = fs0 == 0 ? EG_PROMPT_BACKGROUND : EG_PROMPT_ERROR;
		goto done;
	}
	if (tcgetattr(ttyfd, &orig) != 0) {
		out = EG_PROMPT_ERROR;
		goto done;
	}
	mine = orig;
	mine.c_lflag &= ~(tcflag_t)(ICANON | ECHO | ECHONL | ISIG | IEXTEN);
	mine.c_iflag &= ~(tcflag_t)(INLCR | IGNCR | ISTRIP);
	mine.c_iflag |= ICRNL;
	mine.c_oflag |= OPOST | ONLCR;
	mine.c_cc[VMIN] = 1;
	mine.c_cc[VTIME] = 0;
	if (tty_set(ttyfd, &mine, TCSAFLUSH) != 0) {
		out = EG_PROMPT_ERROR;
		goto done;
	}
	modes_set = 1;

	dl = now_ms() + (int64_t)timeout * 1000; /* the full time to answer */
	{
		char buf[8192];
		struct obuf o;
		ob_init(&o, buf, sizeof buf);
		size_t qpos = write_header(&o, req, word);
		/* Everything up to the question line, then drop what was typed
		 * ahead (it does not count), then the question: what is typed
		 * once the question is visible is the answer. */
		if (tty_write(ttyfd, o.b, qpos, dl) != 0 || tcflush(ttyfd, TCIFLUSH) != 0 ||
		    tty_write(ttyfd, o.b + qpos, o.n - qpos, dl) != 0) {
			out = EG_PROMPT_ERROR;
			why = WHY_HANGUP;
			goto done;
		}
	}

	struct line ln;
	memset(&ln, 0, sizeof ln);
	for (;;) {
		if (watched_pending(&watch)) {
			out = EG_PROMPT_NO;
			why = WHY_SIGNAL;
			break;
		}
		int ms = remaining_ms(dl);
		if (ms == 0) {
			out = EG_PROMPT_TIMEOUT;
			why = WHY_TIMEOUT;
			break;
		}
		struct pollfd p[2] = { { .fd = ttyfd, .events = POLLIN },
			{ .fd = sigfd, .events = POLLIN } };
		if (sigfd < 0 && ms > 200)
			ms = 200; /* no signalfd: look at pending signals often */
		int n = poll(p, sigfd >= 0 ? 2 : 1, ms);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue; /* SIGWINCH and the like */
			out = EG_PROMPT_ERROR;
			why = WHY_HANGUP;
			break;
		}
		if (n == 0)
			continue;
		if (fg_state(ttyfd) == 0) { /* moved to the background meanwhile */
			out = EG_PROMPT_BACKGROUND;
			why = WHY_BACKGROUND;
			break;
		}
		if (!(p[0].revents & POLLIN)) {
			if (p[0].revents & (POLLHUP | POLLERR | POLLNVAL)) {
				out = EG_PROMPT_ERROR;
				why = WHY_HANGUP;
				break;
			}
			continue;
		}
		unsigned char chunk[64];
		ssize_t r = read(ttyfd, chunk, sizeof chunk);
		if (r < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (r <= 0) { /* EIO or 0: the terminal hung up */
			out = EG_PROMPT_ERROR;
			why = WHY_HANGUP;
			break;
		}
		int w = -1;
		for (ssize_t i = 0; i < r && w < 0; i++)
			w = feed(ttyfd, &orig, &ln, chunk[i], dl);
		if (w < 0)
			continue;
		why = w;
		out = (w == WHY_ANSWER && answer_matches(&ln, word)) ? EG_PROMPT_YES : EG_PROMPT_NO;
		if (w == WHY_ANSWER || w == WHY_TOO_LONG)
			tty_write(ttyfd, "\n", 1, dl);
		break;
	}

	if (out != EG_PROMPT_ERROR && out != EG_PROMPT_BACKGROUND)
		write_result(ttyfd, out, why, word, timeout, now_ms() + 1000);

done:
	if (modes_set && tty_set(ttyfd, &orig, TCSANOW) != 0)
		tty_set(ttyfd, &orig, TCSANOW);
	if (sigfd >= 0)
		close(sigfd);
	if (lockfd >= 0)
		close(lockfd); /* releases the flock */
	if (ttyfd >= 0)
		close(ttyfd);
	sigprocmask(SIG_SETMASK, &old, NULL);
	errno = saved_errno;
	return out;
}
