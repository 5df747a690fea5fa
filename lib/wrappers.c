/*
 * Wrappers, shells and remote runners: which command each one runs, parsed
 * with the program's real option syntax. Hook-path code: no malloc, no
 * stdio; results go into the caller's struct eg_subject.
 */
#include <stdbool.h>
#include <string.h>

#include "subject.h"
#include "subject_int.h"
#include "hot_text.h"
#include "hot_str.h"

/* ------------------------------------------------------------------ kinds */

/* Names in place (no pointers: no relocations, nothing in .rodata), beside
 * the hook code: every exec looks its program up here, and in a fork
 * child each page it reads is a page fault. */
struct kname {
	char name[15];
	unsigned char kind; /* enum eg_wkind */
};

static const struct kname knames[] EG_HOT_RODATA = {
	{ "sh", EG_WK_SH }, { "bash", EG_WK_SH }, { "dash", EG_WK_SH }, { "zsh", EG_WK_SH },
	{ "ksh", EG_WK_SH }, { "ksh93", EG_WK_SH }, { "mksh", EG_WK_SH }, { "lksh", EG_WK_SH },
	{ "pdksh", EG_WK_SH }, { "ash", EG_WK_SH }, { "rbash", EG_WK_SH }, { "yash", EG_WK_SH },
	{ "posh", EG_WK_SH }, { "csh", EG_WK_SH }, { "tcsh", EG_WK_SH }, { "fish", EG_WK_FISH },
	{ "sudo", EG_WK_SUDO }, { "sudoedit", EG_WK_SUDOEDIT }, { "doas", EG_WK_DOAS },
	{ "su", EG_WK_SU }, { "runuser", EG_WK_RUNUSER }, { "pkexec", EG_WK_PKEXEC },
	{ "run0", EG_WK_RUN0 }, { "systemd-run", EG_WK_SYSTEMD_RUN },
	{ "env", EG_WK_ENV }, { "nice", EG_WK_NICE }, { "ionice", EG_WK_IONICE },
	{ "nohup", EG_WK_NOHUP }, { "timeout", EG_WK_TIMEOUT }, { "time", EG_WK_TIME },
	{ "stdbuf", EG_WK_STDBUF }, { "chrt", EG_WK_CHRT }, { "taskset", EG_WK_TASKSET },
	{ "setsid", EG_WK_SETSID }, { "flock", EG_WK_FLOCK }, { "xargs", EG_WK_XARGS },
	{ "watch", EG_WK_WATCH }, { "busybox", EG_WK_BUSYBOX }, { "find", EG_WK_FIND },
	{ "execguard", EG_WK_EXECGUARD },
	{ "command", EG_WK_COMMAND }, { "builtin", EG_WK_BUILTIN }, { "noglob", EG_WK_BUILTIN },
	{ "nocorrect", EG_WK_BUILTIN }, { "exec", EG_WK_EXEC }, { "eval", EG_WK_EVAL }, { "trap", EG_WK_TRAP },
	{ "ssh", EG_WK_SSH }, { "docker", EG_WK_DOCKER }, { "podman", EG_WK_DOCKER },
	{ "nerdctl", EG_WK_DOCKER }, { "docker-compose", EG_WK_COMPOSE },
	{ "podman-compose", EG_WK_COMPOSE }, { "kubectl", EG_WK_KUBECTL }, { "oc", EG_WK_KUBECTL },
};

/* The dynamic loader's names: ld-linux-x86-64.so.2, ld-linux.so.2,
 * ld-linux-aarch64.so.1, ld64.so.2, ld.so.1, ld-musl-x86_64.so.1, ld.so. Run
 * as a program it loads and runs another one in its own process, with no
 * exec the library could see. */
EG_HOT_TEXT static bool is_loader_name(const char *n)
{
	return eg_hs_prefix(n, EG_HOT_STR("ld-linux")) || eg_hs_prefix(n, EG_HOT_STR("ld-musl-")) ||
	    eg_hs_prefix(n, EG_HOT_STR("ld64.so")) || eg_hs_prefix(n, EG_HOT_STR("ld.so.")) ||
	    eg_hs_eq(n, EG_HOT_STR("ld.so"));
}

EG_HOT_TEXT enum eg_wkind eg_subj_kind(const char *name)
{
	if (!name || !*name)
		return EG_WK_NONE;
	if (name[0] == 'l' && is_loader_name(name))
		return EG_WK_LDSO;
	bool login = name[0] == '-';
	const char *n = login ? name + 1 : name;
	for (size_t i = 0; i < sizeof knames / sizeof knames[0]; i++)
		if (n[0] == knames[i].name[0] && eg_hs_eq(n, knames[i].name)) {
			if (login && knames[i].kind != EG_WK_SH && knames[i].kind != EG_WK_FISH)
				return EG_WK_NONE;
			return (enum eg_wkind)knames[i].kind;
		}
	return EG_WK_NONE;
}

EG_HOT_TEXT const char *eg_subject_wrapper_name(size_t i)
{
	return i < sizeof knames / sizeof knames[0] ? knames[i].name : NULL;
}

EG_HOT_TEXT bool eg_subject_is_wrapper(const char *name)
{
	return eg_subj_kind(name) != EG_WK_NONE;
}

bool eg_subj_kind_always(enum eg_wkind k)
{
	switch (k) {
	case EG_WK_SSH:
	case EG_WK_DOCKER:
	case EG_WK_COMPOSE:
	case EG_WK_KUBECTL:
	case EG_WK_RUN0:        /* the service manager starts the child */
	case EG_WK_SYSTEMD_RUN: /* likewise */
		return true;
	default:
		return false;
	}
}

bool eg_subj_kind_builtin(enum eg_wkind k)
{
	return k == EG_WK_COMMAND || k == EG_WK_BUILTIN || k == EG_WK_EXEC || k == EG_WK_EVAL
	    || k == EG_WK_TRAP;
}

/* ------------------------------------------------------------------ helpers */

#define MAX_EXTRA 16

struct uw {
	struct eg_subject *s;
	uint32_t idx;  /* the wrapper command */
	uint32_t base; /* absolute index of w[0] */
	uint32_t n;
	const char *const *w;
	/* the wrapper's own assignments: a contiguous range of words ... */
	uint32_t as_lo, as_n;
	/* ... and single ones (docker -e, run0 --setenv) */
	const char *extra[MAX_EXTRA];
	uint32_t n_extra;
	bool cleared;
	bool shell;  /* sudo -s / -i: the command is a shell string */
	bool nocmd;  /* the options say nothing is run */
	bool remote; /* set by runners whose command is remote */
	bool replace;     /* xargs -I / -i: no operands are appended */
	bool interactive; /* docker exec -i: standard input is passed on */
};

static void uw_init(struct uw *u, struct eg_subject *s, uint32_t idx)
{
	memset(u, 0, sizeof *u);
	u->s = s;
	u->idx = idx;
	u->base = s->cmds[idx].first_word;
	u->n = s->cmds[idx].n_words;
	u->w = s->words + u->base;
}

static bool streq(const char *a, const char *b)
{
	return strcmp(a, b) == 0;
}

static bool is_digits(const char *a)
{
	if (!*a)
		return false;
	for (; *a; a++)
		if (*a < '0' || *a > '9')
			return false;
	return true;
}

/* NAME=value with a valid shell name. */
static bool is_assign(const char *a)
{
	if (!((a[0] >= 'A' && a[0] <= 'Z') || (a[0] >= 'a' && a[0] <= 'z') || a[0] == '_'))
		return false;
	for (const char *p = a + 1; *p; p++) {
		if (*p == '=')
			return true;
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9')
		        || *p == '_'))
			return false;
	}
	return false;
}

static void add_extra(struct uw *u, const char *a)
{
	if (u->n_extra < MAX_EXTRA)
		u->extra[u->n_extra++] = a;
	else
		eg_subj_fail(u->s);
}

/* Assignments in effect for the child: the parent's (unless cleared), then
 * the wrapper's own. */
static int child_assigns(struct uw *u, bool remote, uint32_t *first, uint32_t *n)
{
	struct eg_subject *s = u->s;
	const struct eg_cmd *p = &s->cmds[u->idx];
	uint32_t inh = (u->cleared || remote) ? 0 : p->n_assign;
	uint32_t total = inh + u->as_n + u->n_extra;
	*first = 0;
	*n = total;
	if (total == 0)
		return 0;
	if (total == inh) {
		*first = p->first_assign;
		return 0;
	}
	if (total == u->as_n) {
		*first = u->as_lo;
		return 0;
	}
	*first = s->n_words;
	for (uint32_t i = 0; i < inh; i++)
		if (eg_subj_push_word(s, s->words[p->first_assign + i]) < 0)
			return -1;
	for (uint32_t i = 0; i < u->as_n; i++)
		if (eg_subj_push_word(s, s->words[u->as_lo + i]) < 0)
			return -1;
	for (uint32_t i = 0; i < u->n_extra; i++)
		if (eg_subj_push_word(s, u->extra[i]) < 0)
			return -1;
	return 0;
}

/* The child is the argv s->words[abs_first .. abs_first+n). */
static int child_words(struct uw *u, uint32_t abs_first, uint32_t n, uint8_t via)
{
	if (n == 0 || u->nocmd)
		return 0;
	struct eg_subject *s = u->s;
	const struct eg_cmd *p = &s->cmds[u->idx];
	bool remote = u->remote || via == EG_VIA_REMOTE;
	struct eg_cmd c = {
		.first_word = abs_first,
		.n_words = n,
		.parent = (int32_t)u->idx,
		.depth = (uint8_t)(p->depth + 1),
		.via = via,
		.env_cleared = !remote && (u->cleared || p->env_cleared),
		.remote = remote || p->remote,
	};
	if (child_assigns(u, remote, &c.first_assign, &c.n_assign) < 0)
		return -1;
	return eg_subj_add_cmd(s, &c) < 0 ? -1 : 0;
}

/* The child is the rest of the wrapper's argv from w[i]. */
static int child_argv(struct uw *u, uint32_t i, uint8_t via)
{
	if (i >= u->n)
		return 0;
	return child_words(u, u->base + i, u->n - i, via);
}

static int child_shell(struct uw *u, const char *str, size_t len, uint8_t via)
{
	if (u->nocmd)
		return 0;
	struct eg_subject *s = u->s;
	const struct eg_cmd *p = &s->cmds[u->idx];
	bool remote = u->remote || via == EG_VIA_REMOTE;
	struct eg_split_ctx ctx = {
		.parent = (int32_t)u->idx,
		.via = via,
		.depth = (uint8_t)(p->depth + 1),
		.cleared = !remote && (u->cleared || p->env_cleared),
		.remote = remote || p->remote,
	};
	if (ctx.depth > EG_SUBJ_MAX_DEPTH)
		return eg_subj_fail(s);
	if (child_assigns(u, remote, &ctx.inh_first, &ctx.inh_n) < 0)
		return -1;
	eg_subj_positional(s, (int32_t)u->idx, &ctx);
	return eg_subj_split(s, str, len, &ctx);
}

/* The rest of the argv from w[i], joined by spaces, is a shell string. */
static int child_shell_join(struct uw *u, uint32_t i, uint8_t via)
{
	if (i >= u->n || u->nocmd)
		return 0;
	size_t len = 0;
	for (uint32_t j = i; j < u->n; j++) {
		len += strlen(u->w[j]) + 1;
		if (len > EG_SUBJ_TEXT)
			return eg_subj_fail(u->s);
	}
	char *t = eg_subj_text_alloc(u->s, len);
	if (!t)
		return -1;
	size_t o = 0;
	for (uint32_t j = i; j < u->n; j++) {
		size_t l = strlen(u->w[j]);
		if (j > i)
			t[o++] = ' ';
		memcpy(t + o, u->w[j], l);
		o += l;
	}
	t[o] = '\0';
	return child_shell(u, t, o, via);
}

/* ------------------------------------------------------------------ getopt */

/*
 * A getopt_long-like scanner that stops at the first operand (as "+" option
 * strings do). Long options may be abbreviated when the abbreviation names
 * an option that takes an argument.
 */
struct opts {
	const char *sarg;          /* short options taking an argument */
	const char *sopt;          /* short options with an optional attached argument */
	/* Lists of names packed one after the other, "a\0" "b\0" (no pointers:
	 * no relocations, which keeps the library's relocated data on the one
	 * page the loader writes anyway) */
	const char *larg;          /* long options taking an argument */
	const char *lopt;          /* long options with an optional "=arg" */
};

/* cb returns 0 to go on, 1 when the option means "no command is run". */
typedef int (*opt_cb)(struct uw *u, int c, const char *lname, size_t llen, const char *arg);

/* Is name (len bytes, or a prefix of a name when `prefix`) in the packed list l? */
static bool in_list(const char *l, const char *name, size_t len, bool prefix)
{
	if (!l)
		return false;
	for (; *l; l += strlen(l) + 1)
		if (strncmp(l, name, len) == 0 && (prefix || l[len] == '\0'))
			return true;
	return false;
}

static bool long_is(const char *lname, size_t llen, const char *want)
{
	return llen > 0 && strncmp(want, lname, llen) == 0 && (llen >= 3 || want[llen] == '\0');
}

/* Returns the index of the first operand (n if none). */
static uint32_t parse_opts(struct uw *u, uint32_t i, const struct opts *o, opt_cb cb)
{
	while (i < u->n) {
		const char *a = u->w[i];
		if (a[0] != '-' || a[1] == '\0')
			return i;
		if (a[1] == '-' && a[2] == '\0')
			return i + 1;
		if (a[1] == '-') {
			const char *name = a + 2;
			const char *eq = strchr(name, '=');
			size_t len = eq ? (size_t)(eq - name) : strlen(name);
			const char *arg = eq ? eq + 1 : NULL;
			i++;
			if (!eq && !in_list(o->lopt, name, len, false)
			    && (in_list(o->larg, name, len, false)
			        || (!in_list(o->lopt, name, len, true) && in_list(o->larg, name, len, true)))) {
				if (i < u->n)
					arg = u->w[i++];
			}
			if (cb && cb(u, 0, name, len, arg))
				u->nocmd = true;
			continue;
		}
		i++;
		for (const char *p = a + 1; *p; p++) {
			if (o->sarg && strchr(o->sarg, *p)) {
				const char *arg = p[1] ? p + 1 : (i < u->n ? u->w[i++] : NULL);
				if (cb && cb(u, *p, NULL, 0, arg))
					u->nocmd = true;
				break;
			}
			if (o->sopt && strchr(o->sopt, *p)) {
				if (cb && cb(u, *p, NULL, 0, p[1] ? p + 1 : NULL))
					u->nocmd = true;
				break;
			}
			if (cb && cb(u, *p, NULL, 0, NULL))
				u->nocmd = true;
		}
	}
	return i;
}

/* sudo and env take any word with a '=' after its first character as an
 * assignment (they do not check the name), so do we. */
static bool is_env_assign(const char *a)
{
	const char *eq = strchr(a, '=');
	return eq && eq != a;
}

/* Leading NAME=value words from w[i]: the wrapper's own assignments. */
static uint32_t take_assigns(struct uw *u, uint32_t i)
{
	u->as_lo = u->base + i;
	u->as_n = 0;
	while (i < u->n && is_env_assign(u->w[i])) {
		u->as_n++;
		i++;
	}
	return i;
}

/* ------------------------------------------------------------------ sudo & co */

static const char sudo_larg[] = "user\0" "group\0" "host\0" "prompt\0" "close-from\0" "chdir\0"
		"role\0" "type\0" "command-timeout\0" "other-user\0" "chroot\0";
static const char sudo_lopt[] = "preserve-env\0";

static int sudo_cb(struct uw *u, int c, const char *ln, size_t ll, const char *arg)
{
	(void)arg;
	if (!c) {
		if (long_is(ln, ll, "login"))
			c = 'i';
		else if (long_is(ln, ll, "shell"))
			c = 's';
		else if (long_is(ln, ll, "edit") || long_is(ln, ll, "list") || long_is(ln, ll, "validate")
		    || long_is(ln, ll, "version") || long_is(ln, ll, "help")
		    || long_is(ln, ll, "remove-timestamp"))
			return 1;
		else
			return 0;
	}
	switch (c) {
	case 'i':
		u->shell = true;
		u->cleared = true;
		return 0;
	case 's':
		u->shell = true;
		return 0;
	case 'e':
	case 'l':
	case 'v':
	case 'V':
	case 'K':
		return 1;
	case 'h':
		return arg == NULL; /* -h alone is help */
	default:
		return 0;
	}
}

static int unwrap_sudo(struct uw *u)
{
	static const struct opts o = { "ughpCDrtTUR", NULL, sudo_larg, sudo_lopt };
	uint32_t i = parse_opts(u, 1, &o, sudo_cb);
	i = take_assigns(u, i);
	if (u->nocmd || i >= u->n)
		return 0;
	if (u->shell)
		return child_shell_join(u, i, EG_VIA_SHELL);
	return child_argv(u, i, EG_VIA_WRAPPER);
}

static int doas_cb(struct uw *u, int c, const char *ln, size_t ll, const char *arg)
{
	(void)u, (void)ln, (void)ll, (void)arg;
	return c == 'C' || c == 'L' || c == 's';
}

static int unwrap_doas(struct uw *u)
{
	static const struct opts o = { "Cu", NULL, NULL, NULL };
	uint32_t i = parse_opts(u, 1, &o, doas_cb);
	return child_argv(u, i, EG_VIA_WRAPPER);
}

/* su / runuser: options anywhere (getopt permutes), "-" means --login, the
 * first operand is the user, -c/--command is a shell string, and operands
 * after the user are handed to the user's shell (after -c STRING, as its $0,
 * $1, ...). runuser -u USER CMD... runs an argv. */
struct su_args {
	const char *cmd;
	uint32_t first_extra, n_extra;
	bool u_mode;
	bool info; /* --help / --version */
};

static void su_parse(struct uw *u, bool runuser, struct su_args *r)
{
	bool have_user = false, ddash = false;
	memset(r, 0, sizeof *r);
	for (uint32_t i = 1; i < u->n; i++) {
		const char *a = u->w[i];
		if (!ddash && a[0] == '-') {
			if (a[1] == '\0') {
				u->cleared = true;
				continue;
			}
			if (a[1] == '-' && a[2] == '\0') {
				ddash = true;
				if (r->u_mode) { /* runuser -u USER -- CMD */
					r->first_extra = i + 1;
					r->n_extra = u->n - i - 1;
					break;
				}
				continue;
			}
			if (a[1] == '-') {
				const char *name = a + 2;
				const char *eq = strchr(name, '=');
				size_t len = eq ? (size_t)(eq - name) : strlen(name);
				const char *arg = eq ? eq + 1 : NULL;
				bool takes = long_is(name, len, "command") || long_is(name, len, "session-command")
				    || long_is(name, len, "shell") || long_is(name, len, "group")
				    || long_is(name, len, "supp-group") || long_is(name, len, "whitelist-environment")
				    || long_is(name, len, "user");
				if (takes && !eq && i + 1 < u->n)
					arg = u->w[++i];
				if (long_is(name, len, "command") || long_is(name, len, "session-command"))
					r->cmd = arg;
				else if (long_is(name, len, "login"))
					u->cleared = true;
				else if (runuser && long_is(name, len, "user"))
					r->u_mode = true;
				else if (long_is(name, len, "help") || long_is(name, len, "version")) {
					r->info = true;
					return;
				}
				continue;
			}
			for (const char *p = a + 1; *p; p++) {
				if (strchr("csgGwu", *p)) {
					const char *arg = p[1] ? p + 1 : (i + 1 < u->n ? u->w[++i] : NULL);
					if (*p == 'c')
						r->cmd = arg;
					if (*p == 'u' && runuser)
						r->u_mode = true;
					break;
				}
				if (*p == 'l')
					u->cleared = true;
				if (*p == 'h' || *p == 'V') {
					r->info = true;
					return;
				}
			}
			continue;
		}
		if (r->u_mode) { /* runuser -u USER CMD ARGS: stops at the command */
			r->first_extra = i;
			r->n_extra = u->n - i;
			break;
		}
		if (!have_user) {
			have_user = true;
			continue;
		}
		if (r->n_extra == 0)
			r->first_extra = i;
		r->n_extra = i + 1 - r->first_extra;
	}
}

/* su USER -- -c STRING ...: the operands go to the shell, which takes -c. */
static bool su_extra_c(const struct uw *u, const struct su_args *r)
{
	const char *e0 = u->w[r->first_extra];
	return r->n_extra > 1 && e0[0] == '-' && e0[1] != '-' && strchr(e0, 'c');
}

static int unwrap_su(struct uw *u, bool runuser)
{
	struct su_args r;
	su_parse(u, runuser, &r);
	if (r.info)
		return 0;
	if (r.u_mode)
		return r.n_extra ? child_words(u, u->base + r.first_extra, r.n_extra, EG_VIA_WRAPPER) : 0;
	if (r.cmd)
		return child_shell(u, r.cmd, strlen(r.cmd), EG_VIA_SHELL);
	if (r.n_extra == 0)
		return 0;
	if (su_extra_c(u, &r)) {
		const char *str = u->w[r.first_extra + 1];
		return child_shell(u, str, strlen(str), EG_VIA_SHELL);
	}
	if (u->w[r.first_extra][0] == '-')
		return 0;
	return child_words(u, u->base + r.first_extra, r.n_extra, EG_VIA_WRAPPER);
}

static int unwrap_pkexec(struct uw *u)
{
	uint32_t i = 1;
	while (i < u->n) {
		const char *a = u->w[i];
		if (streq(a, "--")) {
			i++;
			break;
		}
		if (streq(a, "--user") || streq(a, "-u"))
			i += 2;
		else if (strncmp(a, "--user=", 7) == 0 || streq(a, "--disable-internal-agent")
		    || streq(a, "--keep-cwd"))
			i++;
		else if (streq(a, "--help") || streq(a, "--version"))
			return 0;
		else if (a[0] == '-' && a[1])
			i++;
		else
			break;
	}
	return child_argv(u, i, EG_VIA_WRAPPER);
}

static int setenv_cb(struct uw *u, int c, const char *ln, size_t ll, const char *arg)
{
	if ((c == 'E' || (!c && long_is(ln, ll, "setenv"))) && arg && strchr(arg, '='))
		add_extra(u, arg);
	if (!c && (long_is(ln, ll, "help") || long_is(ln, ll, "version")))
		return 1;
	if (c == 'h' || c == 'V')
		return 1;
	if (!c && (long_is(ln, ll, "host") || long_is(ln, ll, "machine")))
		u->remote = true;
	if (c == 'H' || c == 'M')
		u->remote = true;
	return 0;
}

static int unwrap_run0(struct uw *u)
{
	static const char larg[] = "user\0" "group\0" "nice\0" "chdir\0" "setenv\0" "unit\0"
		"property\0" "description\0" "slice\0" "machine\0" "background\0" "shell-prompt-prefix\0"
		"lightweight\0" "area\0";
	static const struct opts o = { "ugD", NULL, larg, NULL };
	uint32_t i = parse_opts(u, 1, &o, setenv_cb);
	u->remote = false; /* run0 --machine is a local container: treat as local */
	return child_argv(u, i, EG_VIA_WRAPPER);
}

static int unwrap_systemd_run(struct uw *u)
{
	static const char larg[] = "unit\0" "property\0" "description\0" "slice\0" "setenv\0"
		"machine\0" "host\0" "uid\0" "gid\0" "nice\0" "working-directory\0" "service-type\0"
		"on-active\0" "on-boot\0" "on-startup\0" "on-unit-active\0" "on-unit-inactive\0"
		"on-calendar\0" "timer-property\0" "path-property\0" "socket-property\0" "capsule\0"
		"expand-environment\0" "json\0";
	static const struct opts o = { "upEHMC", NULL, larg, NULL };
	uint32_t i = parse_opts(u, 1, &o, setenv_cb);
	return child_argv(u, i, u->remote ? EG_VIA_REMOTE : EG_VIA_WRAPPER);
}

/* ------------------------------------------------------------------ env */

static int unwrap_env(struct uw *u)
{
	struct eg_subject *s = u->s;
	const char *const *w = u->w;
	uint32_t n = u->n, i = 1, base = u->base;
	int restarts = 0;
	while (i < n) {
		const char *a = w[i];
		if (a[0] != '-')
			break;
		if (a[1] == '\0') { /* "-" = -i */
			u->cleared = true;
			i++;
			continue;
		}
		if (a[1] == '-' && a[2] == '\0') {
			i++;
			break;
		}
		const char *split = NULL;
		if (a[1] == '-') {
			const char *name = a + 2;
			const char *eq = strchr(name, '=');
			size_t len = eq ? (size_t)(eq - name) : strlen(name);
			const char *arg = eq ? eq + 1 : NULL;
			i++;
			bool takes = long_is(name, len, "unset") || long_is(name, len, "chdir")
			    || long_is(name, len, "split-string");
			if (takes && !eq && i < n)
				arg = w[i++];
			if (long_is(name, len, "ignore-environment"))
				u->cleared = true;
			else if (long_is(name, len, "split-string"))
				split = arg ? arg : "";
			else if (long_is(name, len, "help") || long_is(name, len, "version")
			    || long_is(name, len, "list-signal-handling"))
				return 0;
		} else {
			i++;
			for (const char *p = a + 1; *p; p++) {
				if (*p == 'u' || *p == 'C' || *p == 'S') {
					const char *arg = p[1] ? p + 1 : (i < n ? w[i++] : "");
					if (*p == 'S')
						split = arg;
					break;
				}
				if (*p == 'i')
					u->cleared = true;
			}
		}
		if (split) {
			/* -S STRING: its words replace it, option parsing goes on */
			if (++restarts > 8)
				return eg_subj_fail(s);
			uint32_t nb = s->n_words;
			int k = eg_subj_split_words(s, split, strlen(split));
			if (k < 0)
				return -1;
			for (uint32_t j = i; j < n; j++)
				if (eg_subj_push_word(s, w[j]) < 0)
					return -1;
			base = nb;
			w = s->words + nb;
			n = s->n_words - nb;
			i = 0;
		}
	}
	u->as_lo = base + i;
	u->as_n = 0;
	while (i < n && is_env_assign(w[i])) {
		u->as_n++;
		i++;
	}
	if (i >= n)
		return 0;
	return child_words(u, base + i, n - i, EG_VIA_WRAPPER);
}

/* ------------------------------------------------------------------ small wrappers */

static int help_cb(struct uw *u, int c, const char *ln, size_t ll, const char *arg)
{
	(void)u, (void)arg;
	if (c)
		return 0;
	return long_is(ln, ll, "help") || long_is(ln, ll, "version");
}

static int unwrap_nice(struct uw *u)
{
	uint32_t i = 1;
	while (i < u->n) {
		const char *a = u->w[i];
		if (a[0] != '-' || a[1] == '\0')
			break;
		if (streq(a, "--")) {
			i++;
			break;
		}
		bool num = (a[1] >= '0' && a[1] <= '9')
		    || ((a[1] == '-' || a[1] == '+') && a[2] >= '0' && a[2] <= '9');
		if (num) {
			i++;
		} else if (a[1] == 'n') {
			i += a[2] ? 1 : 2;
		} else if (strncmp(a, "--adj", 5) == 0) {
			i += strchr(a, '=') ? 1 : 2;
		} else if (streq(a, "--help") || streq(a, "--version")) {
			return 0;
		} else {
			i++;
		}
	}
	return child_argv(u, i, EG_VIA_WRAPPER);
}

static int ionice_cb(struct uw *u, int c, const char *ln, size_t ll, const char *arg)
{
	(void)u, (void)arg;
	if (!c)
		return long_is(ln, ll, "pid") || long_is(ln, ll, "pgid") || long_is(ln, ll, "uid")
		    || long_is(ln, ll, "help") || long_is(ln, ll, "version");
	return c == 'p' || c == 'P' || c == 'u' || c == 'h' || c == 'V';
}

static int unwrap_ionice(struct uw *u)
{
	static const char larg[] = "class\0" "classdata\0";
	static const struct opts o = { "cnpPu", NULL, larg, NULL };
	/* -p/-P/-u take PIDs as operands too: the callback marks nocmd */
	uint32_t i = parse_opts(u, 1, &o, ionice_cb);
	return child_argv(u, i, EG_VIA_WRAPPER);
}

static int unwrap_nohup(struct uw *u)
{
	static const struct opts o = { NULL, NULL, NULL, NULL };
	uint32_t i = parse_opts(u, 1, &o, help_cb);
	return child_argv(u, i, EG_VIA_WRAPPER);
}

static int unwrap_timeout(struct uw *u)
{
	static const char larg[] = "kill-after\0" "signal\0";
	static const struct opts o = { "ks", NULL, larg, NULL };
	uint32_t i = parse_opts(u, 1, &o, help_cb);
	return child_argv(u, i + 1, EG_VIA_WRAPPER); /* skip DURATION */
}

static int unwrap_time(struct uw *u)
{
	static const char larg[] = "format\0" "output\0";
	static const struct opts o = { "fo", NULL, larg, NULL };
	uint32_t i = parse_opts(u, 1, &o, help_cb);
	return child_argv(u, i, EG_VIA_WRAPPER);
}

static int unwrap_stdbuf(struct uw *u)
{
	static const char larg[] = "input\0" "output\0" "error\0";
	static const struct opts o = { "ioe", NULL, larg, NULL };
	uint32_t i = parse_opts(u, 1, &o, help_cb);
	return child_argv(u, i, EG_VIA_WRAPPER);
}

static int chrt_cb(struct uw *u, int c, const char *ln, size_t ll, const char *arg)
{
	(void)u, (void)arg;
	if (!c)
		return long_is(ln, ll, "pid") || long_is(ln, ll, "max") || long_is(ln, ll, "help")
		    || long_is(ln, ll, "version");
	return c == 'p' || c == 'm' || c == 'h' || c == 'V';
}

static int unwrap_chrt(struct uw *u)
{
	static const char larg[] = "sched-runtime\0" "sched-period\0" "sched-deadline\0";
	static const struct opts o = { "TPD", NULL, larg, NULL };
	uint32_t i = parse_opts(u, 1, &o, chrt_cb);
	if (i < u->n && is_digits(u->w[i]))
		i++; /* PRIORITY (optional for the non-realtime policies) */
	return child_argv(u, i, EG_VIA_WRAPPER);
}

static int taskset_cb(struct uw *u, int c, const char *ln, size_t ll, const char *arg)
{
	(void)u, (void)arg;
	if (!c)
		return long_is(ln, ll, "pid") || long_is(ln, ll, "help") || long_is(ln, ll, "version");
	return c == 'p' || c == 'h' || c == 'V';
}

static int unwrap_taskset(struct uw *u)
{
	static const struct opts o = { NULL, NULL, NULL, NULL };
	uint32_t i = parse_opts(u, 1, &o, taskset_cb);
	return child_argv(u, i + 1, EG_VIA_WRAPPER); /* skip MASK / LIST */
}

static int unwrap_setsid(struct uw *u)
{
	static const struct opts o = { NULL, NULL, NULL, NULL };
	uint32_t i = parse_opts(u, 1, &o, help_cb);
	return child_argv(u, i, EG_VIA_WRAPPER);
}

static int unwrap_flock(struct uw *u)
{
	static const char larg[] = "timeout\0" "wait\0" "conflict-exit-code\0";
	static const struct opts o = { "wE", NULL, larg, NULL };
	uint32_t i = parse_opts(u, 1, &o, help_cb);
	if (u->nocmd || i + 1 >= u->n)
		return 0; /* `flock FD` or nothing: no command */
	const char *c = u->w[i + 1];
	if (streq(c, "-c") || streq(c, "--command")) {
		if (i + 2 < u->n)
			return child_shell(u, u->w[i + 2], strlen(u->w[i + 2]), EG_VIA_SHELL);
		return 0;
	}
	if (strncmp(c, "--command=", 10) == 0)
		return child_shell(u, c + 10, strlen(c + 10), EG_VIA_SHELL);
	return child_argv(u, i + 1, EG_VIA_WRAPPER);
}

static int xargs_cb(struct uw *u, int c, const char *ln, size_t ll, const char *arg)
{
	if (c == 'I' || c == 'i' || (!c && long_is(ln, ll, "replace")))
		u->replace = true;
	return help_cb(u, c, ln, ll, arg);
}

static uint32_t xargs_parse(struct uw *u)
{
	static const char larg[] = "arg-file\0" "delimiter\0" "max-args\0" "max-procs\0" "max-chars\0"
		"process-slot-var\0";
	static const char lopt[] = "eof\0" "replace\0" "max-lines\0";
	static const struct opts o = { "aEdILnPs", "eil", larg, lopt };
	return parse_opts(u, 1, &o, xargs_cb);
}

static int unwrap_xargs(struct uw *u)
{
	uint32_t i = xargs_parse(u);
	if (u->nocmd)
		return 0;
	if (i >= u->n) {
		uint32_t at = u->s->n_words;
		if (eg_subj_push_word(u->s, "echo") < 0)
			return -1;
		return child_words(u, at, 1, EG_VIA_WRAPPER);
	}
	return child_argv(u, i, EG_VIA_WRAPPER);
}

static int watch_cb(struct uw *u, int c, const char *ln, size_t ll, const char *arg)
{
	(void)arg;
	if (c == 'x' || (!c && long_is(ln, ll, "exec")))
		u->shell = false;
	if (c == 'h' || c == 'v')
		return 1;
	return help_cb(u, c, ln, ll, arg);
}

static int unwrap_watch(struct uw *u)
{
	static const char larg[] = "interval\0" "equexit\0";
	static const char lopt[] = "differences\0";
	static const struct opts o = { "nq", "d", larg, lopt };
	u->shell = true; /* cleared by -x */
	uint32_t i = parse_opts(u, 1, &o, watch_cb);
	bool sh = u->shell;
	u->shell = false;
	if (sh)
		return child_shell_join(u, i, EG_VIA_SHELL);
	return child_argv(u, i, EG_VIA_WRAPPER);
}

static int unwrap_busybox(struct uw *u)
{
	if (u->n < 2 || u->w[1][0] == '-')
		return 0; /* --install, --list, --help */
	return child_argv(u, 1, EG_VIA_WRAPPER);
}

static int unwrap_find(struct uw *u)
{
	for (uint32_t i = 1; i < u->n; i++) {
		const char *a = u->w[i];
		if (!(streq(a, "-exec") || streq(a, "-execdir") || streq(a, "-ok") || streq(a, "-okdir")))
			continue;
		uint32_t st = i + 1, j = st;
		while (j < u->n && !streq(u->w[j], ";") && !(streq(u->w[j], "+") && j > st
		    && streq(u->w[j - 1], "{}")))
			j++;
		if (j > st && child_words(u, u->base + st, j - st, EG_VIA_WRAPPER) < 0)
			return -1;
		i = j;
	}
	return 0;
}

static int unwrap_execguard(struct uw *u)
{
	if (u->n < 2 || !streq(u->w[1], "run"))
		return 0;
	uint32_t i = 2;
	while (i < u->n && u->w[i][0] == '-' && u->w[i][1]) {
		if (streq(u->w[i], "--")) {
			i++;
			break;
		}
		i += streq(u->w[i], "--approver") ? 2 : 1; /* the option's argument */
	}
	return child_argv(u, i, EG_VIA_WRAPPER);
}

static int command_cb(struct uw *u, int c, const char *ln, size_t ll, const char *arg)
{
	(void)u, (void)ln, (void)ll, (void)arg;
	return c == 'v' || c == 'V';
}

static int unwrap_command(struct uw *u)
{
	static const struct opts o = { NULL, NULL, NULL, NULL };
	uint32_t i = parse_opts(u, 1, &o, command_cb);
	return child_argv(u, i, EG_VIA_WRAPPER);
}

static int unwrap_exec(struct uw *u)
{
	static const struct opts o = { "a", NULL, NULL, NULL };
	uint32_t i = parse_opts(u, 1, &o, NULL);
	return child_argv(u, i, EG_VIA_WRAPPER);
}

static int unwrap_eval(struct uw *u)
{
	uint32_t i = 1;
	if (i < u->n && streq(u->w[i], "--"))
		i++;
	return child_shell_join(u, i, EG_VIA_SHELL);
}

static int unwrap_trap(struct uw *u)
{
	uint32_t i = 1;
	if (i < u->n && streq(u->w[i], "--"))
		i++;
	if (i + 1 >= u->n || u->w[i][0] == '-')
		return 0; /* trap -p, trap -l, trap - SIG, or just listing */
	return child_shell(u, u->w[i], strlen(u->w[i]), EG_VIA_SHELL);
}

/* ------------------------------------------------------------------ shells */

/* A POSIX-like shell's options: returns the index of the first operand,
 * or u->n + 1 for --help / --version. */
static uint32_t sh_parse(const struct uw *u, bool *c_flag)
{
	uint32_t i = 1;
	*c_flag = false;
	while (i < u->n) {
		const char *a = u->w[i];
		if ((a[0] != '-' && a[0] != '+') || a[1] == '\0')
			break;
		i++;
		if (streq(a, "--"))
			break;
		if (a[0] == '-' && a[1] == '-') {
			if (streq(a, "--rcfile") || streq(a, "--init-file"))
				i++;
			else if (streq(a, "--help") || streq(a, "--version"))
				return u->n + 1;
			continue;
		}
		for (const char *p = a + 1; *p; p++) {
			if (*p == 'c' && a[0] == '-')
				*c_flag = true;
			else if (*p == 'o' || *p == 'O')
				i++; /* option name */
		}
	}
	return i;
}

static int unwrap_sh(struct uw *u)
{
	bool c_flag;
	uint32_t i = sh_parse(u, &c_flag);
	if (!c_flag || i >= u->n)
		return 0; /* a script file, stdin or interactive */
	return child_shell(u, u->w[i], strlen(u->w[i]), EG_VIA_SHELL);
}

static int unwrap_fish(struct uw *u)
{
	uint32_t i = 1;
	while (i < u->n) {
		const char *a = u->w[i];
		if (a[0] != '-' || a[1] == '\0')
			break;
		i++;
		if (streq(a, "--"))
			break;
		const char *cmd = NULL;
		if (a[1] == '-') {
			const char *name = a + 2;
			const char *eq = strchr(name, '=');
			size_t len = eq ? (size_t)(eq - name) : strlen(name);
			bool isc = long_is(name, len, "command") || long_is(name, len, "init-command");
			bool takes = isc || long_is(name, len, "debug") || long_is(name, len, "debug-output")
			    || long_is(name, len, "profile") || long_is(name, len, "profile-startup")
			    || long_is(name, len, "features");
			const char *arg = eq ? eq + 1 : NULL;
			if (takes && !eq && i < u->n)
				arg = u->w[i++];
			if (isc)
				cmd = arg;
		} else {
			for (const char *p = a + 1; *p; p++) {
				if (strchr("cCdopf", *p)) {
					const char *arg = p[1] ? p + 1 : (i < u->n ? u->w[i++] : NULL);
					if (*p == 'c' || *p == 'C')
						cmd = arg;
					break;
				}
			}
		}
		if (cmd && child_shell(u, cmd, strlen(cmd), EG_VIA_SHELL) < 0)
			return -1;
	}
	return 0;
}

/* ------------------------------------------------------------------ remote */

/* Index of the remote command in an ssh argv (u->n if none); sets u->nocmd
 * for -O/-Q/-W/-V/-G. *host tells whether a destination was given. */
static uint32_t ssh_parse(struct uw *u, bool *host)
{
	const char *sarg = "BbcDEeFIiJLlmOoPpQRSWw";
	uint32_t i = 1;
	*host = false;
	while (i < u->n) {
		const char *a = u->w[i];
		if (a[0] == '-' && a[1] != '\0') {
			i++;
			if (streq(a, "--")) {
				if (!*host && i < u->n) {
					*host = true;
					i++;
				}
				break;
			}
			for (const char *p = a + 1; *p; p++) {
				if (strchr(sarg, *p)) {
					if (!p[1])
						i++;
					if (*p == 'O' || *p == 'Q' || *p == 'W')
						u->nocmd = true;
					break;
				}
				if (*p == 'V' || *p == 'G')
					u->nocmd = true;
			}
			continue;
		}
		if (*host)
			break;
		*host = true; /* options may follow the destination */
		i++;
	}
	return i;
}

static int unwrap_ssh(struct uw *u)
{
	bool host;
	uint32_t i = ssh_parse(u, &host);
	if (!host || u->nocmd || i >= u->n)
		return 0; /* interactive login: nothing to check here */
	u->remote = true;
	return child_shell_join(u, i, EG_VIA_REMOTE);
}

static int docker_exec_cb(struct uw *u, int c, const char *ln, size_t ll, const char *arg)
{
	if ((c == 'e' || (!c && long_is(ln, ll, "env"))) && arg && is_assign(arg))
		add_extra(u, arg);
	if (c == 'i' || (!c && long_is(ln, ll, "interactive")))
		u->interactive = !(arg && streq(arg, "false"));
	return help_cb(u, c, ln, ll, arg);
}

/* Find the subcommand word among global options. `larg` lists long global
 * options taking a value, `sarg` short ones. Returns its index or n. */
static uint32_t find_subcmd(struct uw *u, uint32_t i, const char *sarg, const char *larg)
{
	bool maybe_value = false;
	while (i < u->n) {
		const char *a = u->w[i];
		if (a[0] == '-' && a[1]) {
			i++;
			maybe_value = false;
			if (streq(a, "--"))
				return i;
			if (a[1] == '-') {
				const char *name = a + 2;
				const char *eq = strchr(name, '=');
				size_t len = eq ? (size_t)(eq - name) : strlen(name);
				if (!eq && in_list(larg, name, len, false))
					i++;
				else if (!eq)
					maybe_value = true; /* unknown: might take a value */
				continue;
			}
			if (!a[2] && strchr(sarg, a[1]))
				i++;
			continue;
		}
		if (maybe_value && !streq(a, "exec") && !streq(a, "container") && !streq(a, "compose")) {
			maybe_value = false;
			i++;
			continue;
		}
		return i;
	}
	return i;
}

static int exec_in_container(struct uw *u, uint32_t i, bool compose)
{
	static const char larg[] = "env\0" "user\0" "workdir\0" "env-file\0" "detach-keys\0" "index\0";
	static const struct opts o = { "euw", NULL, larg, NULL };
	u->interactive = compose; /* compose exec keeps stdin open unless told not to */
	i = parse_opts(u, i, &o, docker_exec_cb);
	if (u->nocmd || i + 1 >= u->n)
		return 0;
	u->remote = true;
	return child_argv(u, i + 1, EG_VIA_REMOTE); /* skip CONTAINER / SERVICE */
}

static int unwrap_docker(struct uw *u)
{
	static const char larg[] = "config\0" "context\0" "host\0" "log-level\0" "tlscacert\0"
		"tlscert\0" "tlskey\0" "url\0" "connection\0" "root\0" "runroot\0" "storage-driver\0"
		"storage-opt\0" "cgroup-manager\0" "events-backend\0" "hooks-dir\0" "identity\0" "module\0"
		"network-cmd-path\0" "runtime\0" "ssh\0" "tmpdir\0" "volumepath\0" "namespace\0" "address\0"
		"data-root\0" "cni-path\0" "snapshotter\0";
	uint32_t i = find_subcmd(u, 1, "cHln", larg);
	if (i >= u->n)
		return 0;
	if (streq(u->w[i], "container"))
		i++;
	else if (streq(u->w[i], "compose")) {
		static const char clarg[] = "file\0" "project-name\0" "profile\0" "env-file\0"
		"project-directory\0" "ansi\0" "parallel\0" "progress\0";
		i = find_subcmd(u, i + 1, "fp", clarg);
		if (i < u->n && streq(u->w[i], "exec"))
			return exec_in_container(u, i + 1, true);
		return 0;
	}
	if (i < u->n && streq(u->w[i], "exec"))
		return exec_in_container(u, i + 1, false);
	return 0;
}

static int unwrap_compose(struct uw *u)
{
	static const char clarg[] = "file\0" "project-name\0" "profile\0" "env-file\0"
		"project-directory\0" "ansi\0" "parallel\0" "progress\0";
	uint32_t i = find_subcmd(u, 1, "fp", clarg);
	if (i < u->n && streq(u->w[i], "exec"))
		return exec_in_container(u, i + 1, true);
	return 0;
}

static int unwrap_kubectl(struct uw *u)
{
	static const char larg[] = "namespace\0" "context\0" "cluster\0" "user\0" "kubeconfig\0"
		"server\0" "token\0" "as\0" "as-group\0" "as-uid\0" "request-timeout\0" "cache-dir\0"
		"certificate-authority\0" "client-certificate\0" "client-key\0" "tls-server-name\0"
		"log-dir\0" "log-file\0" "v\0" "vmodule\0" "password\0" "username\0" "profile\0"
		"profile-output\0" "container\0" "filename\0" "pod-running-timeout\0" "selector\0";
	uint32_t i = find_subcmd(u, 1, "nsvcf", larg);
	if (i >= u->n || !streq(u->w[i], "exec"))
		return 0;
	/* -i / --stdin (alone or in a cluster such as -it): stdin is passed on */
	for (uint32_t j = i + 1; j < u->n && !streq(u->w[j], "--"); j++) {
		const char *a = u->w[j];
		if (streq(a, "--stdin") || streq(a, "--stdin=true"))
			u->interactive = true;
		else if (a[0] == '-' && a[1] != '-' && a[1] && strchr(a, 'i')) {
			bool letters = true;
			for (const char *q = a + 1; *q; q++)
				if (!((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z')))
					letters = false;
			if (letters)
				u->interactive = true;
		}
	}
	/* everything after `--` is the argv */
	for (uint32_t j = i + 1; j < u->n; j++)
		if (streq(u->w[j], "--")) {
			u->remote = true;
			return child_argv(u, j + 1, EG_VIA_REMOTE);
		}
	/* deprecated `kubectl exec POD CMD...`: options may come anywhere */
	static const struct opts o = { "cnfsv", NULL, larg, NULL };
	uint32_t j = parse_opts(u, i + 1, &o, help_cb);
	if (u->nocmd || j >= u->n)
		return 0;
	j++; /* POD */
	j = parse_opts(u, j, &o, help_cb);
	u->remote = true;
	return child_argv(u, j, EG_VIA_REMOTE);
}

/*
 * The dynamic loader: `ld-linux-x86-64.so.2 [OPTIONS] PROG [ARGS...]` runs
 * PROG in the loader's own process. glibc's options: --library-path,
 * --inhibit-rpath, --audit, --preload, --argv0, --glibc-hwcaps-prepend and
 * --glibc-hwcaps-mask take the next word; --inhibit-cache takes none; --list,
 * --verify, --list-tunables, --list-diagnostics, --help, --version run no
 * program; "--" ends the options. An option we do not know may take a value
 * in some other loader version, so the command is read both ways.
 */
static int unwrap_ldso(struct uw *u)
{
	static const char with_arg[] = "--library-path\0" "--inhibit-rpath\0" "--audit\0" "--preload\0"
		"--argv0\0" "--glibc-hwcaps-prepend\0" "--glibc-hwcaps-mask\0";
	static const char no_cmd[] = "--list\0" "--verify\0" "--list-tunables\0" "--list-diagnostics\0"
		"--help\0" "--version\0";
	uint32_t i = 1;
	while (i < u->n) {
		const char *a = u->w[i];
		if (a[0] != '-' || a[1] != '-')
			break;
		if (a[2] == '\0')
			return child_argv(u, i + 1, EG_VIA_WRAPPER);
		if (in_list(no_cmd, a, strlen(a), false))
			return 0;
		if (streq(a, "--inhibit-cache")) {
			i++;
		} else if (in_list(with_arg, a, strlen(a), false)) {
			i += 2;
		} else {
			if (child_argv(u, i + 1, EG_VIA_WRAPPER) < 0)
				return -1;
			return child_argv(u, i + 2, EG_VIA_WRAPPER);
		}
	}
	return child_argv(u, i, EG_VIA_WRAPPER);
}

/* ------------------------------------------------------------------ dispatch */

static int unwrap_kind(struct uw *u, enum eg_wkind k)
{
	int r;
	switch (k) {
	case EG_WK_SH: r = unwrap_sh(u); break;
	case EG_WK_FISH: r = unwrap_fish(u); break;
	case EG_WK_SUDO: r = unwrap_sudo(u); break;
	case EG_WK_SUDOEDIT: r = 0; break;
	case EG_WK_DOAS: r = unwrap_doas(u); break;
	case EG_WK_SU: r = unwrap_su(u, false); break;
	case EG_WK_RUNUSER: r = unwrap_su(u, true); break;
	case EG_WK_PKEXEC: r = unwrap_pkexec(u); break;
	case EG_WK_RUN0: r = unwrap_run0(u); break;
	case EG_WK_SYSTEMD_RUN: r = unwrap_systemd_run(u); break;
	case EG_WK_ENV: r = unwrap_env(u); break;
	case EG_WK_NICE: r = unwrap_nice(u); break;
	case EG_WK_IONICE: r = unwrap_ionice(u); break;
	case EG_WK_NOHUP: r = unwrap_nohup(u); break;
	case EG_WK_TIMEOUT: r = unwrap_timeout(u); break;
	case EG_WK_TIME: r = unwrap_time(u); break;
	case EG_WK_STDBUF: r = unwrap_stdbuf(u); break;
	case EG_WK_CHRT: r = unwrap_chrt(u); break;
	case EG_WK_TASKSET: r = unwrap_taskset(u); break;
	case EG_WK_SETSID: r = unwrap_setsid(u); break;
	case EG_WK_FLOCK: r = unwrap_flock(u); break;
	case EG_WK_XARGS: r = unwrap_xargs(u); break;
	case EG_WK_WATCH: r = unwrap_watch(u); break;
	case EG_WK_BUSYBOX: r = unwrap_busybox(u); break;
	case EG_WK_FIND: r = unwrap_find(u); break;
	case EG_WK_EXECGUARD: r = unwrap_execguard(u); break;
	case EG_WK_LDSO: r = unwrap_ldso(u); break;
	case EG_WK_COMMAND: r = unwrap_command(u); break;
	case EG_WK_BUILTIN: r = child_argv(u, 1, EG_VIA_WRAPPER); break;
	case EG_WK_EXEC: r = unwrap_exec(u); break;
	case EG_WK_EVAL: r = unwrap_eval(u); break;
	case EG_WK_TRAP: r = unwrap_trap(u); break;
	case EG_WK_SSH: r = unwrap_ssh(u); break;
	case EG_WK_DOCKER: r = unwrap_docker(u); break;
	case EG_WK_COMPOSE: r = unwrap_compose(u); break;
	case EG_WK_KUBECTL: r = unwrap_kubectl(u); break;
	default: r = 0; break;
	}
	return r;
}

int eg_subj_unwrap(struct eg_subject *s, uint32_t idx, enum eg_wkind k)
{
	struct uw u;
	if (idx >= s->n_cmds)
		return eg_subj_fail(s);
	uw_init(&u, s, idx);
	if (unwrap_kind(&u, k) < 0 || s->overflow)
		return eg_subj_fail(s);
	return 0;
}

/* ------------------------------------------------------------------ stdin scripts */

/* Does command idx itself read a script from its standard input? */
static bool reads_direct(struct eg_subject *s, uint32_t idx, bool *remote)
{
	const struct eg_cmd *c = &s->cmds[idx];
	enum eg_wkind k = eg_subj_kind(c->prog);
	struct uw u;
	if (c->argv)
		return false;
	uw_init(&u, s, idx);
	switch (k) {
	case EG_WK_SSH: {
		bool host;
		uint32_t i = ssh_parse(&u, &host);
		*remote = true;
		return host && !u.nocmd && i >= u.n;
	}
	case EG_WK_SUDO: { /* sudo -i / sudo -s without a command: a shell */
		static const struct opts o = { "ughpCDrtTUR", NULL, sudo_larg, sudo_lopt };
		uint32_t i = take_assigns(&u, parse_opts(&u, 1, &o, sudo_cb));
		return u.shell && !u.nocmd && i >= u.n;
	}
	case EG_WK_SU:
	case EG_WK_RUNUSER: { /* su [-] [USER] without -c: the user's shell */
		struct su_args r;
		su_parse(&u, k == EG_WK_RUNUSER, &r);
		return !r.info && !r.u_mode && !r.cmd && r.n_extra == 0;
	}
	case EG_WK_SH:
	case EG_WK_FISH:
		break;
	default:
		return false;
	}
	for (uint32_t j = 1; j < c->n_words; j++) {
		const char *a = s->words[c->first_word + j];
		if (streq(a, "-s") || streq(a, "--"))
			return true;
		if (a[0] == '-' && a[1] != '-' && strchr(a, 'c'))
			return false;
		if (a[0] == '-' && a[1] == '-' && (strncmp(a, "--command", 9) == 0
		    || strncmp(a, "--rcfile", 8) == 0 || strncmp(a, "--init-file", 11) == 0))
			return false;
		if (a[0] != '-' && a[0] != '+')
			return false; /* a script file (or an option's value: be quiet) */
	}
	return true;
}

/* Wrappers whose child gets their standard input. Not xargs (its input is
 * the argument list), find, watch. */
static bool passes_stdin(enum eg_wkind k)
{
	switch (k) {
	case EG_WK_SUDO: case EG_WK_DOAS: case EG_WK_SU: case EG_WK_RUNUSER: case EG_WK_PKEXEC:
	case EG_WK_RUN0: case EG_WK_ENV: case EG_WK_NICE: case EG_WK_IONICE: case EG_WK_NOHUP:
	case EG_WK_TIMEOUT: case EG_WK_TIME: case EG_WK_STDBUF: case EG_WK_CHRT:
	case EG_WK_TASKSET: case EG_WK_SETSID: case EG_WK_FLOCK: case EG_WK_BUSYBOX:
	case EG_WK_EXECGUARD: case EG_WK_LDSO: case EG_WK_COMMAND: case EG_WK_BUILTIN: case EG_WK_EXEC:
	case EG_WK_DOCKER: case EG_WK_COMPOSE: case EG_WK_KUBECTL:
		return true;
	default:
		return false;
	}
}

bool eg_subj_reads_script(struct eg_subject *s, uint32_t idx, bool *remote, bool *direct)
{
	bool r = false, found = false;
	*remote = false;
	if (direct)
		*direct = false;
	if (idx >= s->n_cmds)
		return false;
	if (reads_direct(s, idx, &r)) {
		*remote = r;
		if (direct)
			*direct = true;
		return true;
	}
	/* `sudo bash`, `docker exec -i CTR sh`: unwrap the argv wrappers for a
	 * moment (the commands are only appended), look at the innermost one,
	 * then drop what was appended; the unwrapping proper happens later. */
	uint32_t n_cmds = s->n_cmds, n_words = s->n_words, text_used = s->text_used;
	uint32_t cur = idx;
	for (int d = 0; d < EG_SUBJ_MAX_DEPTH && !s->overflow; d++) {
		enum eg_wkind k = eg_subj_kind(s->cmds[cur].prog);
		if (!passes_stdin(k) || s->cmds[cur].argv)
			break;
		struct uw u;
		uint32_t from = s->n_cmds;
		uw_init(&u, s, cur);
		if (unwrap_kind(&u, k) < 0 || s->overflow || s->n_cmds <= from)
			break;
		const struct eg_cmd *ch = &s->cmds[from];
		if (ch->via == EG_VIA_SHELL)
			break; /* sudo -s CMD, flock -c: the script does not come from stdin */
		if ((k == EG_WK_DOCKER || k == EG_WK_COMPOSE || k == EG_WK_KUBECTL) && !u.interactive)
			break; /* without -i the container gets no stdin */
		r = false;
		if (reads_direct(s, from, &r)) {
			found = true;
			*remote = r || ch->remote;
			break;
		}
		cur = from;
	}
	s->n_cmds = n_cmds;
	s->n_words = n_words;
	s->text_used = text_used;
	return found;
}

/* ------------------------------------------------------------------ positional parameters */

/* xargs -I / -i: the input replaces {} instead of being appended. */
static bool xargs_replaces(const struct eg_subject *s, uint32_t idx)
{
	struct uw u;
	uw_init(&u, (struct eg_subject *)s, idx);
	xargs_parse(&u);
	return u.replace;
}

/* Do operands we cannot see get appended to command idx's argv? xargs
 * appends its input (unless -I), find -exec ... {} + appends file names;
 * plain wrappers between pass them on. */
static bool argv_open(const struct eg_subject *s, uint32_t idx)
{
	for (int guard = 0; guard <= EG_SUBJ_MAX_DEPTH; guard++) {
		const struct eg_cmd *c = &s->cmds[idx];
		if (c->parent < 0 || c->via != EG_VIA_WRAPPER || c->argv)
			return false;
		const struct eg_cmd *p = &s->cmds[c->parent];
		if (p->argv)
			return false;
		uint32_t c_end = c->first_word + c->n_words, p_end = p->first_word + p->n_words;
		enum eg_wkind k = eg_subj_kind(p->prog);
		if (c->first_word < p->first_word || c_end > p_end)
			return false; /* not a part of the parent's argv (env -S) */
		if (k == EG_WK_FIND)
			return c_end < p_end && streq(s->words[c_end - 1], "{}") && streq(s->words[c_end], "+");
		if (c_end != p_end)
			return false;
		if (k == EG_WK_XARGS)
			return !xargs_replaces(s, (uint32_t)c->parent);
		idx = (uint32_t)c->parent;
	}
	return false;
}

void eg_subj_positional(const struct eg_subject *s, int32_t idx, struct eg_split_ctx *ctx)
{
	ctx->pos_set = false;
	ctx->pos_open = false;
	ctx->pos0 = NULL;
	ctx->pos = NULL;
	ctx->npos = 0;
	for (int guard = 0; idx >= 0 && (uint32_t)idx < s->n_cmds && guard <= EG_SUBJ_MAX_CMDS; guard++) {
		const struct eg_cmd *c = &s->cmds[idx];
		if (c->argv)
			return;
		enum eg_wkind k = eg_subj_kind(c->prog);
		struct uw u;
		uw_init(&u, (struct eg_subject *)s, (uint32_t)idx);
		switch (k) {
		case EG_WK_EVAL:
		case EG_WK_TRAP:
		case EG_WK_COMMAND:
		case EG_WK_BUILTIN:
			/* run in the shell whose string they are in */
			idx = c->parent;
			continue;
		case EG_WK_SH: {
			bool c_flag;
			uint32_t i = sh_parse(&u, &c_flag);
			if (i > u.n)
				return;
			bool csh = streq(c->prog, "csh") || streq(c->prog, "tcsh");
			ctx->pos_set = true;
			ctx->pos_open = argv_open(s, (uint32_t)idx);
			if (!c_flag) { /* bash -s ARGS <<EOF: the script from stdin */
				ctx->pos0 = u.w[0];
				ctx->pos = u.w + i;
				ctx->npos = u.n - i;
				return;
			}
			if (i >= u.n)
				return;
			i++; /* the string */
			if (csh) { /* csh -c STRING ARGS: $argv is ARGS, $0 the shell */
				ctx->pos = u.w + i;
				ctx->npos = u.n - i;
				return;
			}
			/* sh -c STRING [NAME [ARGS...]]: $0 is NAME, else the shell */
			ctx->pos0 = i < u.n ? u.w[i] : u.w[0];
			if (i < u.n)
				i++;
			ctx->pos = u.w + i;
			ctx->npos = u.n - i;
			return;
		}
		case EG_WK_SU:
		case EG_WK_RUNUSER: {
			/* su -c STRING USER NAME ARGS...: the user's shell gets
			 * `-c STRING NAME ARGS...` (util-linux); su USER -- -c STRING
			 * NAME ARGS... likewise. $0 without NAME: the shell, unknown. */
			struct su_args r;
			su_parse(&u, k == EG_WK_RUNUSER, &r);
			if (r.info || r.u_mode)
				return;
			uint32_t f = r.first_extra, n = r.n_extra;
			if (!r.cmd && n > 0 && su_extra_c(&u, &r)) {
				f += 2;
				n -= 2;
			} else if (!r.cmd) {
				n = 0; /* a login shell reading stdin: no operands */
			}
			ctx->pos_set = true;
			ctx->pos_open = argv_open(s, (uint32_t)idx);
			if (n > 0) {
				ctx->pos0 = u.w[f];
				ctx->pos = u.w + f + 1;
				ctx->npos = n - 1;
			}
			return;
		}
		case EG_WK_SUDO:
		case EG_WK_FLOCK:
		case EG_WK_WATCH:
		case EG_WK_SSH:
			/* `$SHELL -c STRING` (or a login shell reading stdin) with no
			 * operands: $1... are empty, $0 is a shell we do not know */
			ctx->pos_set = true;
			return;
		default:
			return; /* fish ($argv), unknown: nothing is substituted */
		}
	}
}
