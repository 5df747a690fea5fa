/*
 * The subject of a check: command 0 is the argv itself, then every command
 * wrappers, shells and remote runners would run (see subject.h).
 * Hook-path code: no malloc, no stdio, no locks; everything lives in the
 * caller's struct eg_subject.
 */
#include "subject.h"

#include <errno.h>
#include <string.h>

#include "errno_fast.h"
#include "exe_probe.h"
#include "subject_int.h"
#include "hot_text.h"

EG_HOT_TEXT const char *eg_basename(const char *path)
{
	if (!path)
		return NULL;
	const char *b = path;
	for (const char *p = path; *p; p++)
		if (*p == '/')
			b = p + 1;
	return b;
}

int eg_subj_fail(struct eg_subject *s)
{
	s->overflow = true;
	return -1;
}

int eg_subj_push_word(struct eg_subject *s, const char *w)
{
	if (s->n_words >= EG_SUBJ_MAX_WORDS)
		return eg_subj_fail(s);
	s->words[s->n_words++] = w;
	return 0;
}

char *eg_subj_text_alloc(struct eg_subject *s, size_t n)
{
	if (n > EG_SUBJ_TEXT || s->text_used > EG_SUBJ_TEXT - n) {
		eg_subj_fail(s);
		return NULL;
	}
	char *p = s->text + s->text_used;
	s->text_used += (uint32_t)n;
	return p;
}

/* Program name of a command's first word: a login shell's "-bash" is bash. */
static const char *prog_of(const char *w0)
{
	const char *b = eg_basename(w0);
	if (b && b[0] == '-' && b[1] && eg_subj_kind(b + 1) == EG_WK_SH)
		return b + 1;
	return b;
}

int eg_subj_add_cmd(struct eg_subject *s, const struct eg_cmd *c)
{
	if (c->depth > EG_SUBJ_MAX_DEPTH || s->n_cmds >= EG_SUBJ_MAX_CMDS)
		return eg_subj_fail(s);
	if (c->n_words == 0 || c->first_word + c->n_words > s->n_words)
		return eg_subj_fail(s);
	uint32_t i = s->n_cmds++;
	s->cmds[i] = *c;
	s->cmds[i].prog = prog_of(s->words[c->first_word]);
	s->cmds[i].prog_exe = NULL;
	return (int)i;
}

static enum eg_wkind cmd_kind(const struct eg_cmd *c)
{
	enum eg_wkind k = eg_subj_kind(c->prog);
	if (k == EG_WK_NONE && c->prog_exe) {
		/* `mysudo -> sudo`: most programs ignore argv[0]; a multi-call
		 * binary dispatches on it, so busybox via an unknown name is not
		 * busybox's own command line. */
		k = eg_subj_kind(c->prog_exe);
		if (k == EG_WK_BUSYBOX)
			k = EG_WK_NONE;
	}
	return k;
}

/* Has an ancestor below the root been unwrapped for a reason other than
 * being a shell builtin? Then the library does not see this command. */
static bool below_unseen(const struct eg_subject *s, const struct eg_cmd *c, int32_t root_parent)
{
	int guard = 0;
	for (int32_t p = c->parent; p >= 0 && p != root_parent && guard < EG_SUBJ_MAX_CMDS; guard++) {
		const struct eg_cmd *pc = &s->cmds[p];
		if (!eg_subj_kind_builtin(cmd_kind(pc)))
			return true;
		p = pc->parent;
	}
	return false;
}

int eg_subj_process(struct eg_subject *s, uint32_t from, int32_t root_parent, unsigned flags,
    const char *exe_path)
{
	for (uint32_t i = from; i < s->n_cmds; i++) {
		if (s->overflow)
			return -1;
		const struct eg_cmd *c = &s->cmds[i];
		enum eg_wkind k = cmd_kind(c);
		if (k == EG_WK_NONE)
			continue;
		bool go = (flags & EG_SUBJ_UNWRAP_ALL) || eg_subj_kind_always(k)
		    || below_unseen(s, c, root_parent);
		if (!go && eg_subj_kind_builtin(k) && c->via != EG_VIA_TOP)
			go = true; /* not a process: the shell runs the rest itself */
		if (!go && c->via == EG_VIA_TOP && c->parent < 0 && exe_path
		    && !(flags & EG_SUBJ_SEES_EVERY_EXEC))
			go = eg_exe_unseen(exe_path);
		if (!go)
			continue;
		if (eg_subj_unwrap(s, i, k) < 0)
			return eg_subj_fail(s);
	}
	return s->overflow ? -1 : 0;
}

static void reset(struct eg_subject *s)
{
	s->n_cmds = 0;
	s->n_words = 0;
	s->text_used = 0;
	s->overflow = false;
}

/* Will eg_subj_process unwrap a top command with this argv[0] and
 * executable? (The same test as there, for command 0.) */
static bool top_unwraps(const char *argv0, const char *exe_path, unsigned flags)
{
	struct eg_cmd c = { .prog = prog_of(argv0) };
	if (exe_path && *exe_path) {
		const char *pe = eg_basename(exe_path);
		if (*pe && strcmp(pe, c.prog) != 0)
			c.prog_exe = pe;
	}
	enum eg_wkind k = cmd_kind(&c);
	if (k == EG_WK_NONE)
		return false;
	return (flags & EG_SUBJ_UNWRAP_ALL) || eg_subj_kind_always(k) ||
	    (exe_path && *exe_path && !(flags & EG_SUBJ_SEES_EVERY_EXEC) && eg_exe_unseen(exe_path));
}

int eg_subject_build(struct eg_subject *s, char *const argv[], const char *exe_path, unsigned flags)
{
	int *err = eg_errno_loc(), saved = *err; /* errno_fast.h: no libc page */
	reset(s);
	if (!argv || !argv[0]) {
		eg_errno_restore(err, saved);
		return 0;
	}
	size_t n = 0;
	while (argv[n])
		n++;
	if (n > EG_SUBJ_MAX_WORDS / 2 && n <= UINT32_MAX && !top_unwraps(argv[0], exe_path, flags)) {
		/* `xargs rm` with thousands of files, or `xargs sh -c '...' _ f1 f2
		 * ...` where the library sees the shell's own execs: nothing to
		 * unwrap, so the words are read from argv itself instead of being
		 * indexed. */
		s->cmds[0] = (struct eg_cmd){ .n_words = (uint32_t)n, .parent = -1, .via = EG_VIA_TOP,
			.prog = prog_of(argv[0]), .argv = argv };
		s->n_cmds = 1;
		if (exe_path && *exe_path) {
			const char *pe = eg_basename(exe_path);
			if (*pe && strcmp(pe, s->cmds[0].prog) != 0)
				s->cmds[0].prog_exe = pe;
		}
		eg_errno_restore(err, saved);
		return 0;
	}
	for (size_t i = 0; i < n; i++)
		if (eg_subj_push_word(s, argv[i]) < 0)
			break;
	struct eg_cmd c = { .first_word = 0, .n_words = (uint32_t)n, .parent = -1, .via = EG_VIA_TOP };
	if (s->overflow || eg_subj_add_cmd(s, &c) < 0) {
		eg_errno_restore(err, saved);
		return -1;
	}
	if (exe_path && *exe_path) {
		const char *pe = eg_basename(exe_path);
		if (*pe && strcmp(pe, s->cmds[0].prog) != 0)
			s->cmds[0].prog_exe = pe;
	}
	int r = eg_subj_process(s, 0, -1, flags, exe_path && *exe_path ? exe_path : NULL);
	eg_errno_restore(err, saved);
	return r;
}

__attribute__((cold)) int eg_subject_add_shell(struct eg_subject *s, const char *str, size_t len, int32_t parent,
    uint8_t via, unsigned flags)
{
	int saved = errno;
	if (!str || (parent >= 0 && (uint32_t)parent >= s->n_cmds) || parent < -1) {
		errno = saved;
		return str ? eg_subj_fail(s) : 0;
	}
	struct eg_split_ctx ctx = { .parent = parent, .via = via };
	if (parent >= 0) {
		const struct eg_cmd *p = &s->cmds[parent];
		ctx.depth = (uint8_t)(p->depth + 1);
		ctx.inh_first = p->first_assign;
		ctx.inh_n = p->n_assign;
		ctx.cleared = p->env_cleared;
		ctx.remote = p->remote || via == EG_VIA_REMOTE;
	} else {
		ctx.remote = via == EG_VIA_REMOTE;
	}
	uint32_t from = s->n_cmds;
	int r = eg_subj_split(s, str, len, &ctx);
	if (r == 0)
		r = eg_subj_process(s, from, parent, flags, NULL);
	errno = saved;
	return r;
}
