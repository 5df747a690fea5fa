/*
 * The decision: which rules apply to which command of the subject, and which
 * one wins. Runs on the exec hook path: no malloc, no stdio, no locks; all
 * memory is the caller's scratch (PCRE2 included, via a bump arena), except
 * a temporary mmap when one command's arguments are too long for the stack
 * join buffer. Errors fail closed.
 */
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "check_internal.h"
#include "errno_fast.h"
#include "policy_block.h"
#include "subject.h"
#include "hot_str.h"
#include "hot_text.h"
#include "sys_direct.h"

#define JOIN_STACK_SIZE (16u * 1024u)
/* Beyond ARG_MAX's usual 2 MiB nothing legitimate is passed to exec. */
#define JOIN_MAP_MAX (8u * 1024u * 1024u)
#define MAX_APPLIED 64
#define MATCH_LIMIT 5000000u
#define DEPTH_LIMIT 100000u

/* In a fork child each page of the scratch a check writes is a page fault,
 * and the usual check writes the start of three buffers: the subject's
 * counters, the joined arguments and PCRE2's memory. The join buffer is
 * filled from its end (join_args), right below PCRE2's memory, so those two
 * share a page; the symlink buffers, written only for a symlink, lie
 * apart. */
struct check_space {
	struct eg_subject subj;
	char exe_resolved[PATH_MAX];
	char link_tmp[PATH_MAX];
	char cwd[PATH_MAX]; /* EG_CHECK_CWD_LAZY */
	char join_stack[JOIN_STACK_SIZE];
	_Alignas(16) unsigned char pcre_mem[];
};
/* The shared page: the usual joined arguments below the boundary, PCRE2's
 * contexts above it (a scratch starts at or just after a page boundary). */
_Static_assert(offsetof(struct check_space, pcre_mem) % 4096u >= 1024u &&
    offsetof(struct check_space, pcre_mem) % 4096u <= 3584u,
    "the join buffer's end and PCRE2's memory share a page");

/* The subject's counters on the page of its first command (subject.h). */
_Static_assert(offsetof(struct eg_subject, cmds) <= 64, "the subject's counters come first");

#define PCRE_MEM_SIZE (EG_CHECK_SCRATCH_SIZE - sizeof(struct check_space))
_Static_assert(sizeof(struct check_space) + 40u * 1024u <= EG_CHECK_SCRATCH_SIZE,
    "scratch too small for PCRE2's 20 KiB of match frames");

/* ------------------------------------------------------------ PCRE2 on the stack */

/* PCRE2's memory during a check: the scratch space first, then, for the
 * rare pattern and subject that need more backtracking frames, an mmap'd
 * overflow region that is unmapped when the check ends. */
#define PCRE_OVERFLOW_SIZE (16u * 1024u * 1024u)

struct pcre_env {
	void *mem; /* the scratch's part for PCRE2, taken on the first match */
	size_t mem_size;
	struct eg_arena arena;
	struct eg_arena overflow; /* base NULL until first needed */
	size_t mark; /* arena use after the contexts (and codes kept): reset to this per match */
	struct eg_regex_cache *codes; /* this check's own codes (eg_regex_get), NULL: none */
	pcre2_general_context *gctx;
	pcre2_match_context *mctx;
};

static void *pcre_env_malloc(size_t n, void *data)
{
	struct pcre_env *pe = data;
	void *m = eg_arena_alloc(&pe->arena, n);
	if (m != NULL)
		return m;
	if (pe->overflow.base == NULL && eg_arena_map(&pe->overflow, PCRE_OVERFLOW_SIZE) < 0)
		return NULL;
	return eg_arena_alloc(&pe->overflow, n);
}

/* PCRE2's contexts are made when a regex first has to run: a check whose
 * regexes all lack what they need of the subject (regex_needs.h) runs no
 * PCRE2 code at all. */
static void pcre_env_prepare(struct pcre_env *pe, void *mem, size_t size)
{
	pe->mem = mem;
	pe->mem_size = size;
	pe->gctx = NULL;
	pe->codes = NULL;
	pe->overflow.base = NULL;
}

static int pcre_env_init(struct pcre_env *pe)
{
	void *mem = pe->mem;
	size_t size = pe->mem_size;
	eg_arena_init(&pe->arena, mem, size);
	eg_arena_init(&pe->overflow, NULL, 0);
	pcre2_general_context *gctx =
	    pcre2_general_context_create(pcre_env_malloc, eg_arena_pcre2_free, pe);
	if (gctx == NULL)
		return -1;
	pe->mctx = pcre2_match_context_create(gctx);
	if (pe->mctx == NULL)
		return -1;
	pe->gctx = gctx; /* ready: set last, a failed start is tried again */
	pcre2_set_match_limit(pe->mctx, MATCH_LIMIT);
	pcre2_set_depth_limit(pe->mctx, DEPTH_LIMIT);
	pcre2_set_heap_limit(pe->mctx, (uint32_t)((size + PCRE_OVERFLOW_SIZE) / 1024u));
	pe->mark = atomic_load_explicit(&pe->arena.used, memory_order_relaxed);
	return 0;
}

static void pcre_env_release(struct pcre_env *pe)
{
	if (pe->overflow.base != NULL) {
		int *eloc = eg_errno_loc(), saved = *eloc;
		eg_arena_unmap(&pe->overflow);
		eg_errno_restore(eloc, saved);
	}
}

/* Does `hay` hold `needle` (len > 0)? Strings of a command line: a plain
 * loop, in the check's own pages. */
static bool holds(const char *hay, size_t hay_len, const char *needle, size_t len)
{
	for (size_t i = 0; i + len <= hay_len; i++)
		if (hay[i] == needle[0] && eg_hs_eq_n(hay + i, needle, len))
			return true;
	return false;
}

/* Is one of the literals the regex needs (regex_needs.h) in the subject,
 * or are none known? A list that does not check out counts as none: the
 * regex runs. */
static bool needs_met(const struct eg_policy *p, const struct eg_blk_regex *r, const char *subject,
    size_t len)
{
	if (r->n_needs == 0 || !eg_policy_regex_needs_ok(p, r))
		return true;
	for (uint32_t i = 0; i < r->n_needs; i++) {
		const char *lit;
		size_t lit_len;
		if (!eg_policy_regex_need(p, r, i, &lit, &lit_len) || holds(subject, len, lit, lit_len))
			return true;
	}
	return false;
}

/* 1 match, 0 no match, -1 error (compile failure, limit, no memory). When
 * `target` is given and the pattern has a group named "target", copy it. */
static int run_regex(const struct eg_policy *p, struct pcre_env *pe, uint32_t id,
    const char *subject, size_t len, char *target, size_t target_size)
{
	if (id < p->h->n_regex && !needs_met(p, &p->regex[id], subject, len))
		return 0;
	if (pe->gctx == NULL && pcre_env_init(pe) < 0)
		return -1;
	/* The last match's memory is free again; what the lookup keeps of
	 * this memory (a first check's codes) stays below the next mark. */
	atomic_store_explicit(&pe->arena.used, pe->mark, memory_order_relaxed);
	pcre2_code *code = eg_regex_get(p, id, &pe->arena, &pe->codes);
	if (code == NULL)
		return -1;
	pe->mark = atomic_load_explicit(&pe->arena.used, memory_order_relaxed);
	atomic_store_explicit(&pe->overflow.used, 0, memory_order_relaxed);
	pcre2_match_data *md = pcre2_match_data_create_from_pattern(code, pe->gctx);
	if (md == NULL)
		return -1;
	int rc = pcre2_match(code, (PCRE2_SPTR)subject, len, 0, 0, md, pe->mctx);
	if (rc == PCRE2_ERROR_NOMATCH)
		return 0;
	if (rc < 0)
		return -1;
	if (target != NULL) {
		PCRE2_SIZE tlen = target_size;
		if (pcre2_substring_copy_byname(md, (PCRE2_SPTR) "target", (PCRE2_UCHAR *)target,
		    &tlen) < 0)
			target[0] = '\0';
	}
	return 1;
}

/* ------------------------------------------------------------ command context */

/* The working directory, as given or, with EG_CHECK_CWD_LAZY, read when a
 * cwd condition first needs it. */
struct cwd_source {
	const char *cwd;
	char *buf; /* NULL: cwd is as given */
	bool read;
};

struct cmd_view {
	const struct eg_subject *s;
	const struct eg_check_input *in;
	struct cwd_source *cwd;
	int idx;
	const char *args; /* argv[1..] joined by single spaces */
	size_t args_len;
	const char *exe_name; /* basename of the resolved executable (top command) */
};

static bool name_is(const char *assign, const char *name, size_t nlen, const char **val)
{
	if (strncmp(assign, name, nlen) == 0 && assign[nlen] == '=') {
		*val = assign + nlen + 1;
		return true;
	}
	return false;
}

/* The value NAME has for this command: its own and its parents' assignments
 * (innermost, last wins), then the exec's environment, unless something on
 * the way cleared it (env -i) or crossed to another machine. */
static const char *env_value(const struct cmd_view *v, const char *name)
{
	size_t nlen = strlen(name);
	const char *val;
	int c = v->idx;
	while (c >= 0) {
		const struct eg_cmd *cmd = &v->s->cmds[c];
		for (uint32_t i = cmd->n_assign; i > 0; i--)
			if (name_is(v->s->words[cmd->first_assign + i - 1], name, nlen, &val))
				return val;
		if (cmd->env_cleared)
			return "";
		int parent = cmd->parent;
		if (cmd->remote && (parent < 0 || !v->s->cmds[parent].remote))
			return "";
		c = parent;
	}
	for (char *const *e = v->in->envp; e != NULL && *e != NULL; e++)
		if (name_is(*e, name, nlen, &val))
			return val;
	return "";
}

static const char *cmd_word(const struct eg_subject *s, const struct eg_cmd *c, uint32_t i)
{
	return eg_cmd_word(s, c, i);
}

/* ------------------------------------------------------------ one rule */

enum applies { APPLIES_NO = 0, APPLIES_YES, APPLIES_FAILED };

static const char *cwd_get(struct cwd_source *c)
{
	if (c->buf != NULL && !c->read) {
		int *eloc = eg_errno_loc(), saved = *eloc;
		c->cwd = getcwd(c->buf, PATH_MAX);
		c->read = true;
		eg_errno_restore(eloc, saved);
	}
	return c->cwd;
}

static enum applies rule_applies(const struct eg_policy *p, struct pcre_env *pe, uint32_t ri,
    const struct cmd_view *v, unsigned flags)
{
	/* Checked on every use (no writes to remember it): a damaged rule
	 * fails closed, whatever its action byte says. What it shows (id,
	 * reason, file) is checked once it applies (decide_cmd). */
	if (!eg_policy_rule_match_ok(p, ri))
		return APPLIES_FAILED;
	const struct eg_blk_rule *r = &p->rules[ri];
	bool failed = false;
	for (uint32_t i = 0; i < r->n_match; i++) {
		int rc = run_regex(p, pe, p->u32[r->match_first + i], v->args, v->args_len, NULL, 0);
		if (rc == 0)
			return APPLIES_NO;
		failed |= rc < 0;
	}
	for (uint32_t i = 0; i < r->n_env; i++) {
		const char *val = env_value(v, eg_blk_str(p, p->u32[r->env_first + 2 * i]));
		int rc = run_regex(p, pe, p->u32[r->env_first + 2 * i + 1], val, strlen(val), NULL, 0);
		if (rc == 0)
			return APPLIES_NO;
		failed |= rc < 0;
	}
	const char *cwd = NULL;
	if (r->n_cwd > 0 && !(flags & EG_CHECK_IGNORE_CWD) && !v->s->cmds[v->idx].remote)
		cwd = cwd_get(v->cwd);
	if (cwd != NULL) {
		for (uint32_t i = 0; i < r->n_cwd; i++) {
			int rc = run_regex(p, pe, p->u32[r->cwd_first + i], cwd, strlen(cwd), NULL, 0);
			if (rc == 0)
				return APPLIES_NO;
			failed |= rc < 0;
		}
	}
	for (uint32_t i = 0; i < r->n_unless; i++) {
		int rc = run_regex(p, pe, p->u32[r->unless_first + i], v->args, v->args_len, NULL, 0);
		if (rc == 1)
			return APPLIES_NO;
		failed |= rc < 0;
	}
	if (failed) /* an allow that cannot be evaluated must not exempt anything */
		return r->action == EG_ACT_ALLOW ? APPLIES_NO : APPLIES_FAILED;
	return APPLIES_YES;
}

/* ------------------------------------------------------------ joining arguments */

struct joiner {
	char *stack;
	char *map;
	size_t map_size;
};

/* Join argv[1..] of command c; NULL if it cannot be held (fail closed). */
static const char *join_args(struct joiner *j, const struct eg_subject *s, const struct eg_cmd *c,
    size_t *len_out)
{
	size_t need = 1;
	for (uint32_t i = 1; i < c->n_words; i++)
		need += strlen(cmd_word(s, c, i)) + 1;
	char *buf;
	if (need <= JOIN_STACK_SIZE) {
		buf = j->stack + JOIN_STACK_SIZE - need; /* its end: see struct check_space */
	} else {
		if (need > JOIN_MAP_MAX)
			return NULL;
		if (need > j->map_size) {
			int *eloc = eg_errno_loc(), saved = *eloc;
			if (j->map != NULL)
				munmap(j->map, j->map_size);
			size_t sz = (need + 4095u) & ~(size_t)4095u;
			j->map = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			eg_errno_restore(eloc, saved);
			if (j->map == MAP_FAILED) {
				j->map = NULL;
				j->map_size = 0;
				return NULL;
			}
			j->map_size = sz;
		}
		buf = j->map;
	}
	size_t n = 0;
	for (uint32_t i = 1; i < c->n_words; i++) {
		const char *w = cmd_word(s, c, i);
		size_t wl = strlen(w);
		if (i > 1)
			buf[n++] = ' ';
		memcpy(buf + n, w, wl);
		n += wl;
	}
	buf[n] = '\0';
	*len_out = n;
	return buf;
}

static void joiner_release(struct joiner *j)
{
	if (j->map != NULL) {
		int *eloc = eg_errno_loc(), saved = *eloc;
		munmap(j->map, j->map_size);
		eg_errno_restore(eloc, saved);
	}
	j->map = NULL;
	j->map_size = 0;
}

/* ------------------------------------------------------------ the decision */

/* Candidate rules for a command: those indexed under any of its names (as
 * written, as exec'd, and the symlink-resolved executable for the top
 * command), each once, in ascending order. */
#define MAX_NAMES 3
struct candidates {
	const struct eg_policy *q; /* the policy the lists are in: p, or its first part */
	const uint32_t *list[MAX_NAMES];
	uint32_t n[MAX_NAMES], i[MAX_NAMES];
	bool damaged; /* a bucket failed validation: the caller fails closed */
};

/* The lists come from p's first part (adopted into *first) when every name
 * the rules name is one of its programs, else all from p; first NULL: from
 * p. */
static void candidates_init(struct candidates *c, const struct eg_policy *p, struct eg_policy *first,
    const struct eg_cmd *cmd, const char *extra_name)
{
	const char *names[MAX_NAMES] = { cmd->prog, cmd->prog_exe, extra_name };
	const struct eg_blk_bucket *b[MAX_NAMES] = { NULL };
	bool in_first[MAX_NAMES] = { false }, any_first = false, any_whole = false;
	*c = (struct candidates){ .q = p };
	for (int k = 0; k < MAX_NAMES; k++) {
		bool dup = names[k] == NULL;
		for (int j = 0; j < k && !dup; j++)
			dup = names[j] != NULL && strcmp(names[j], names[k]) == 0;
		if (dup)
			continue;
		int found = first != NULL ? eg_policy_find_first(p, names[k], first, &b[k], &in_first[k])
					  : eg_policy_find(p, names[k], &b[k]);
		if (found < 0)
			c->damaged = true;
		any_first |= b[k] != NULL && in_first[k];
		any_whole |= b[k] != NULL && !in_first[k];
	}
	if (any_first && any_whole) {
		/* names of both: every list from the whole block */
		for (int k = 0; k < MAX_NAMES; k++)
			if (b[k] != NULL && in_first[k] && eg_policy_find(p, names[k], &b[k]) < 0)
				c->damaged = true;
	} else if (any_first) {
		c->q = first;
	}
	for (int k = 0; k < MAX_NAMES; k++)
		if (b[k] != NULL) {
			c->list[k] = c->q->u32 + b[k]->rules_first;
			c->n[k] = b[k]->n_rules;
		}
}

static bool candidates_empty(const struct candidates *c)
{
	return c->n[0] + c->n[1] + c->n[2] == 0 && !c->damaged;
}

static bool candidates_next(struct candidates *c, uint32_t *out)
{
	uint32_t best = UINT32_MAX;
	for (int k = 0; k < MAX_NAMES; k++)
		if (c->i[k] < c->n[k] && c->list[k][c->i[k]] < best)
			best = c->list[k][c->i[k]];
	if (best == UINT32_MAX)
		return false;
	for (int k = 0; k < MAX_NAMES; k++)
		if (c->i[k] < c->n[k] && c->list[k][c->i[k]] == best)
			c->i[k]++;
	*out = best;
	return true;
}

struct verdict {
	enum eg_action action;
	uint32_t rule;
	uint32_t allow_rule;
	bool failed;
	uint8_t severity; /* the rule's */
	const struct eg_policy *q; /* where the rule was read: p or its first part */
};

static bool stricter(const struct verdict *a, const struct verdict *b)
{
	if (a->action != b->action)
		return a->action > b->action;
	if (a->rule != EG_NO_RULE && b->rule != EG_NO_RULE)
		return a->severity > b->severity;
	return false;
}

static bool exempts(const struct eg_blk_rule *allow, const struct eg_blk_rule *r)
{
	return allow->file_order >= r->file_order && (allow->protected_src || !r->protected_src);
}

/* Decide one command. Returns false when it could not be decided (too many
 * rules apply to keep track of): the caller fails closed. */
static bool decide_cmd(const struct eg_policy *whole, struct eg_policy *first, struct pcre_env *pe,
    const struct cmd_view *v, unsigned flags, struct verdict *out)
{
	struct candidates cand;
	candidates_init(&cand, whole, first, &v->s->cmds[v->idx], v->exe_name);
	const struct eg_policy *p = cand.q;
	uint32_t hit[MAX_APPLIED];
	bool hit_failed[MAX_APPLIED];
	uint32_t n_hit = 0;
	uint32_t ri;
	*out = (struct verdict){ .action = EG_ACT_NONE, .rule = EG_NO_RULE, .allow_rule = EG_NO_RULE };
	while (candidates_next(&cand, &ri)) {
		enum applies a = rule_applies(p, pe, ri, v, flags);
		if (a == APPLIES_NO)
			continue;
		if (a == APPLIES_YES && !eg_policy_rule_shown_ok(p, ri))
			a = APPLIES_FAILED; /* what it would show is damaged */
		if (n_hit == MAX_APPLIED)
			return false;
		hit_failed[n_hit] = a == APPLIES_FAILED;
		hit[n_hit++] = ri;
	}
	for (uint32_t i = 0; i < n_hit; i++) {
		const struct eg_blk_rule *r = &p->rules[hit[i]];
		if (r->action == EG_ACT_ALLOW && !hit_failed[i])
			continue;
		uint32_t exempt_by = EG_NO_RULE;
		for (uint32_t j = 0; j < n_hit && !hit_failed[i]; j++)
			if (p->rules[hit[j]].action == EG_ACT_ALLOW && !hit_failed[j] &&
			    exempts(&p->rules[hit[j]], r))
				exempt_by = hit[j];
		if (exempt_by != EG_NO_RULE) {
			if (out->action == EG_ACT_NONE) {
				out->action = EG_ACT_ALLOW;
				out->allow_rule = exempt_by;
			}
			continue;
		}
		struct verdict c = {
			.action = hit_failed[i] ? EG_ACT_DENY : (enum eg_action)r->action,
			.rule = hit[i],
			.allow_rule = EG_NO_RULE,
			.failed = hit_failed[i],
			.severity = r->severity,
			.q = p,
		};
		if (stricter(&c, out))
			*out = c;
	}
	return true;
}

/* exe with its symlinks followed (16 at most): exe itself when it is not a
 * symlink, which the usual check learns without writing to its scratch or
 * errno (a direct system call). */
static const char *resolve_exe(const char *exe, char *buf, char *tmp)
{
	if (exe == NULL || exe[0] == '\0')
		return exe;
	long len = eg_sys4(SYS_readlinkat, AT_FDCWD, (long)exe, (long)tmp, PATH_MAX - 1);
	if (len <= 0)
		return exe;
	size_t n = strlcpy(buf, exe, PATH_MAX);
	if (n >= PATH_MAX)
		return exe;
	for (int hops = 0; hops < 16; hops++) {
		if (hops > 0 && (len = eg_sys4(SYS_readlinkat, AT_FDCWD, (long)buf, (long)tmp, PATH_MAX - 1)) <= 0)
			break;
		tmp[len] = '\0';
		if (tmp[0] == '/') {
			memcpy(buf, tmp, (size_t)len + 1);
			continue;
		}
		char *slash = strrchr(buf, '/');
		size_t dir_len = slash ? (size_t)(slash - buf) + 1 : 0;
		if (dir_len + (size_t)len + 1 > PATH_MAX)
			break;
		memmove(buf + dir_len, tmp, (size_t)len + 1);
	}
	return buf;
}

EG_HOT_TEXT static bool may_apply(const struct eg_policy *p, const char *argv0, const char *exe,
    const char *exe_name)
{
	const char *names[3] = { argv0 ? eg_basename(argv0) : NULL, exe ? eg_basename(exe) : NULL,
		exe_name };
	struct eg_policy first; /* adopted if a name needs it */
	first.base = NULL;
	for (int i = 0; i < 3; i++) {
		if (names[i] == NULL || names[i][0] == '\0')
			continue;
		const struct eg_blk_bucket *b;
		bool in_first;
		/* found, or damaged: the full check decides (and fails closed) */
		if (eg_policy_find_first(p, names[i], &first, &b, &in_first) != 0 ||
		    eg_subject_is_wrapper(names[i]))
			return true;
	}
	return false;
}

static void result_init(struct eg_check_result *out)
{
	out->action = EG_ACT_NONE;
	out->severity = EG_SEV_NORMAL;
	out->rule = EG_NO_RULE;
	out->allow_rule = EG_NO_RULE;
	out->fail = EG_FAIL_NONE;
	out->cmd_index = -1;
	out->unwrapped = false;
	out->cmdline[0] = '\0';
	out->confirm_word[0] = '\0';
}

static enum eg_action fail_closed(struct eg_check_result *out, enum eg_fail why)
{
	out->action = EG_ACT_DENY;
	out->fail = why;
	return out->action;
}

/* The word a critical rule asks for: its "target" capture, else the program. */
static void find_confirm_word(const struct eg_policy *p, struct pcre_env *pe, const struct cmd_view *v,
    uint32_t ri, char *word, size_t size)
{
	const struct eg_blk_rule *r = &p->rules[ri];
	word[0] = '\0';
	for (uint32_t i = 0; i < r->n_match && word[0] == '\0'; i++)
		run_regex(p, pe, p->u32[r->match_first + i], v->args, v->args_len, word, size);
	if (word[0] == '\0') {
		const char *prog = v->s->cmds[v->idx].prog;
		strlcpy(word, prog ? prog : "yes", size);
	}
}

static enum eg_action check_subject(const struct eg_policy *p, struct eg_subject *s,
    const struct eg_check_input *in, struct cwd_source *cwd, const char *exe_name, void *pcre_mem,
    size_t pcre_size, char *join_stack, struct eg_check_result *out)
{
	struct pcre_env pe;
	pcre_env_prepare(&pe, pcre_mem, pcre_size);
	struct joiner j = { .stack = join_stack };
	struct verdict best = { .action = EG_ACT_NONE, .rule = EG_NO_RULE, .allow_rule = EG_NO_RULE };
	int best_cmd = -1;
	struct eg_policy first; /* p's first part, adopted if a name needs it */
	first.base = NULL;

	for (uint32_t c = 0; c < s->n_cmds; c++) {
		struct cmd_view v = { .s = s, .in = in, .cwd = cwd, .idx = (int)c,
			.exe_name = c == 0 ? exe_name : NULL };
		struct candidates probe;
		candidates_init(&probe, p, &first, &s->cmds[c], v.exe_name);
		if (candidates_empty(&probe))
			continue;
		if (probe.damaged) {
			joiner_release(&j);
			pcre_env_release(&pe);
			out->cmd_index = (int)c;
			return fail_closed(out, EG_FAIL_NO_POLICY);
		}
		v.args = join_args(&j, s, &s->cmds[c], &v.args_len);
		if (v.args == NULL) {
			joiner_release(&j);
			pcre_env_release(&pe);
			out->cmd_index = (int)c;
			return fail_closed(out, EG_FAIL_TOO_BIG);
		}
		struct verdict vd;
		if (!decide_cmd(p, &first, &pe, &v, in->flags, &vd)) {
			joiner_release(&j);
			pcre_env_release(&pe);
			out->cmd_index = (int)c;
			return fail_closed(out, EG_FAIL_TOO_BIG);
		}
		if (stricter(&vd, &best)) {
			best = vd;
			best_cmd = (int)c;
			if (best.action >= EG_ACT_CONFIRM && !best.failed &&
			    best.severity == EG_SEV_CRITICAL)
				find_confirm_word(best.q, &pe, &v, best.rule, out->confirm_word,
				    sizeof out->confirm_word);
		}
	}
	joiner_release(&j);
	pcre_env_release(&pe);

	out->action = best.action;
	out->rule = best.rule;
	out->allow_rule = best.allow_rule;
	if (best.failed)
		out->fail = EG_FAIL_REGEX;
	if (best.rule != EG_NO_RULE && eg_policy_rule_ok(best.q, best.rule))
		out->severity = best.q->rules[best.rule].severity;
	if (out->severity != EG_SEV_CRITICAL || best.action < EG_ACT_CONFIRM)
		out->confirm_word[0] = '\0';
	if (best_cmd >= 0) {
		const struct eg_cmd *cmd = &s->cmds[best_cmd];
		out->cmd_index = best_cmd;
		out->unwrapped = cmd->parent >= 0;
		eg_quote_argv(out->cmdline, sizeof out->cmdline,
		    cmd->argv ? (const char *const *)cmd->argv : s->words + cmd->first_word, cmd->n_words);
	}
	return out->action;
}

static struct check_space *space_of(struct eg_check_scratch *scratch)
{
	return (struct check_space *)(void *)scratch->bytes;
}

/* eg_check but for errno, which the calls it makes may change */
static void check_errno_unkept(const struct eg_policy *p, const struct eg_check_input *in,
    struct eg_check_scratch *scratch, struct eg_check_result *out)
{
	result_init(out);
	if (p == NULL) {
		fail_closed(out, EG_FAIL_NO_POLICY);
		return;
	}
	struct check_space *sp = space_of(scratch);
	const char *exe = in->exe_path;
	const char *resolved = (in->flags & EG_CHECK_EXE_RESOLVED) ? exe
								   : resolve_exe(exe, sp->exe_resolved, sp->link_tmp);
	const char *exe_name = resolved ? eg_basename(resolved) : NULL;

	/* argc 0: the program still runs; judge it by its executable. */
	char *synth[2] = { (char *)exe, NULL };
	char *const *argv = in->argv;
	if (argv == NULL || argv[0] == NULL) {
		if (exe == NULL)
			return;
		argv = synth;
	}
	if (!may_apply(p, argv[0], exe, exe_name))
		return;
	unsigned sflags = (in->flags & EG_CHECK_UNWRAP_ALL) ? EG_SUBJ_UNWRAP_ALL : 0;
	if (in->flags & EG_CHECK_SEES_EVERY_EXEC)
		sflags |= EG_SUBJ_SEES_EVERY_EXEC;
	if (eg_subject_build(&sp->subj, argv, exe, sflags) < 0 || sp->subj.overflow) {
		fail_closed(out, EG_FAIL_TOO_BIG);
		if (argv[0] != NULL)
			eg_quote_argv(out->cmdline, sizeof out->cmdline, (const char *const *)argv, 1);
		return;
	}
	struct cwd_source cwd = { .cwd = in->cwd,
		.buf = in->cwd == NULL && (in->flags & EG_CHECK_CWD_LAZY) ? sp->cwd : NULL };
	check_subject(p, &sp->subj, in, &cwd, exe_name, sp->pcre_mem, PCRE_MEM_SIZE, sp->join_stack, out);
}

/* errno through errno_fast.h: in a fork child libc's __errno_location is a
 * page of libc's code to fault in. */
enum eg_action eg_check(const struct eg_policy *p, const struct eg_check_input *in,
    struct eg_check_scratch *scratch, struct eg_check_result *out)
{
	int *err = eg_errno_loc(), saved = *err;
	check_errno_unkept(p, in, scratch, out);
	eg_errno_restore(err, saved);
	return out->action;
}

EG_HOT_TEXT bool eg_check_may_apply(const struct eg_policy *p, const char *argv0, const char *exe_path)
{
	if (p == NULL)
		return true;
	/* No readlink here: this runs on every exec, and the hooks pass the
	 * executable with its symlinks already resolved (eg_check resolves
	 * again for callers that do not). */
	return may_apply(p, argv0, exe_path, NULL);
}

/* ------------------------------------------------------------ lint support */

/* Cold: out of the check path's pages (lib/preload/hot_path.ld). */
__attribute__((cold)) int eg_rule_catches_text(const struct eg_policy *p, uint32_t rule, const char *cmdline,
    struct eg_check_scratch *scratch)
{
	struct check_space *sp = space_of(scratch);
	struct eg_subject *s = &sp->subj;
	memset(s, 0, offsetof(struct eg_subject, words));
	s->n_cmds = 0;
	s->n_words = 0;
	s->text_used = 0;
	s->overflow = false;
	if (eg_subject_add_shell(s, cmdline, strlen(cmdline), -1, EG_VIA_TOP, EG_SUBJ_UNWRAP_ALL) < 0 ||
	    s->overflow)
		return -1;
	struct pcre_env pe;
	pcre_env_prepare(&pe, sp->pcre_mem, PCRE_MEM_SIZE);
	struct eg_check_input in = { .flags = EG_CHECK_UNWRAP_ALL | EG_CHECK_IGNORE_CWD };
	struct joiner j = { .stack = sp->join_stack };
	int result = 0;
	for (uint32_t c = 0; c < s->n_cmds && result == 0; c++) {
		struct cwd_source no_cwd = { 0 };
		struct cmd_view v = { .s = s, .in = &in, .cwd = &no_cwd, .idx = (int)c };
		struct candidates cand;
		candidates_init(&cand, p, NULL, &s->cmds[c], NULL);
		uint32_t ri;
		bool named = false;
		while (candidates_next(&cand, &ri))
			named |= ri == rule;
		if (!named)
			continue;
		v.args = join_args(&j, s, &s->cmds[c], &v.args_len);
		if (v.args == NULL) {
			result = -1;
			break;
		}
		enum applies a = rule_applies(p, &pe, rule, &v, in.flags);
		if (a == APPLIES_FAILED)
			result = -1;
		else if (a == APPLIES_YES)
			result = 1;
	}
	joiner_release(&j);
	pcre_env_release(&pe);
	return result;
}
