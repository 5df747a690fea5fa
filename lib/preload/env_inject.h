/*
 * The environment every exec gets: LD_PRELOAD with our library exactly once,
 * and the EXECGUARD_* values of the process that loaded the library, whatever
 * environment the caller passed (env -i, env -u LD_PRELOAD, a fresh dict).
 * A caller's EXECGUARD_* value survives only when it is stricter than ours
 * (EXECGUARD_PROMPT_TIMEOUT lower than ours); every other one is dropped.
 *
 * A session copy of the library that has disappeared is replaced by the
 * library it was made from (copy_fallback below).
 *
 * Hook-path code: two passes over the caller's envp; the caller provides the
 * storage (on its stack) between them. When nothing needs changing the
 * caller's envp is used as is.
 */
#ifndef EG_ENV_INJECT_H
#define EG_ENV_INJECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hot_str.h"
#include "preload_list.h"
#include "sys_direct.h"

#define EG_ENV_MAX_OURS 32
/* The largest EXECGUARD_PROMPT_TIMEOUT taken, in seconds; more is invalid. */
#define EG_TIMEOUT_MAX 99999999u

struct eg_env_ours {
	/* Our LD_PRELOAD entry as it was written when we were loaded; NULL when
	 * LD_PRELOAD is not how we were loaded (/etc/ld.so.preload): then the
	 * caller's LD_PRELOAD is left alone. */
	const char *preload_entry;
	/* Our own path; in a caller's LD_PRELOAD it counts as our entry too. */
	const char *self_path;
	/* "EXECGUARD_NAME=value", in the order found. */
	const char *vars[EG_ENV_MAX_OURS];
	size_t n_vars;
	/* The timeout our values give (default when unset), for "stricter". */
	unsigned prompt_timeout;
	bool overflow; /* more EXECGUARD_* than fit: the hooks fail closed */
	/* When we are a session copy of the library (library_copy.h): the
	 * library it was made from, injected instead of our entry once the
	 * copy is found gone (copy_gone, __atomic; checked at every exec), so
	 * that no child names a missing file in LD_PRELOAD, which the loader
	 * would skip. NULL when we are not a copy. */
	const char *copy_fallback;
	int copy_gone;
	/* the strings above are kept in the capture buffer (eg_capture_keep) */
};

/* The value of our captured EXECGUARD_ variable `name` (n bytes, without
 * '='), NULL if we have none. Every kept entry begins with "EXECGUARD_"
 * and has a '=' after its name (eg_env_ours_capture), so the byte after
 * that prefix tells most names apart before any comparison, and the
 * prefix is not compared again: the constructor looks up five names in
 * every guarded process. n must be longer than the prefix
 * (EG_OURS_NAME_LEN checks it). Inline string code: the constructor uses
 * it, and its pages are kept few (hot_text.h). */
static inline __attribute__((always_inline)) const char *eg_env_ours_value_n(const struct eg_env_ours *o,
    const char *name, size_t n)
{
	const size_t p = sizeof "EXECGUARD_" - 1;
	for (size_t i = 0; i < o->n_vars; i++) {
		const char *v = o->vars[i];
		if (v[p] == name[p] && eg_hs_eq_n(v + p + 1, name + p + 1, n - p - 1) && v[n] == '=')
			return v + n + 1;
	}
	return NULL;
}
/* The length of the literal name `lit`, which must be longer than the
 * prefix (a compile error otherwise), for eg_env_ours_value_n */
#define EG_OURS_NAME_LEN(lit) \
	(sizeof(lit) - 1 + 0 * sizeof(char[sizeof(lit) > sizeof "EXECGUARD_" + 1 ? 1 : -1]))
/* The same for a string literal, kept beside the constructor's code */
#define EG_OURS_VALUE(o, lit) eg_env_ours_value_n((o), EG_CTOR_STR(lit), EG_OURS_NAME_LEN(lit))

/*
 * Reading an environment against ours, inline: each caller's copy sits in
 * its caller's section (hot_text.h), and the strings are compared with
 * immediates, so that none of them sits in another section's pages.
 */
#define EG_ENV_INLINE static inline __attribute__((always_inline))

EG_ENV_INLINE bool eg_env_is_ours_var(const char *e)
{
	return e[0] == 'E' && e[1] == 'X' && e[2] == 'E' && e[3] == 'C' && e[4] == 'G' &&
	    e[5] == 'U' && e[6] == 'A' && e[7] == 'R' && e[8] == 'D' && e[9] == '_';
}

EG_ENV_INLINE bool eg_env_is_ld_preload(const char *e)
{
	return e[0] == 'L' && e[1] == 'D' && e[2] == '_' && e[3] == 'P' && e[4] == 'R' &&
	    e[5] == 'E' && e[6] == 'L' && e[7] == 'O' && e[8] == 'A' && e[9] == 'D' && e[10] == '=';
}

/* Length of the name part of NAME=value (whole string if no '='). */
EG_ENV_INLINE size_t eg_env_name_len(const char *e)
{
	const char *eq = eg_hs_chr(e, '=');
	return eq ? (size_t)(eq - e) : eg_hs_len(e);
}

EG_ENV_INLINE bool eg_env_same_name(const char *a, const char *b)
{
	size_t n = eg_env_name_len(a);
	return n == eg_env_name_len(b) && eg_hs_eq_n(a, b, n);
}

/* Is the token t (n bytes) the string c? */
EG_ENV_INLINE bool eg_env_token_is(const char *c, const char *t, size_t n)
{
	return c && eg_hs_len(c) == n && eg_hs_eq_n(c, t, n);
}

/* Our entry, the copy's path or the library it was made from */
EG_ENV_INLINE bool eg_env_token_is_ours(const struct eg_env_ours *o, const char *t, size_t n)
{
	return eg_env_token_is(o->preload_entry, t, n) || eg_env_token_is(o->self_path, t, n) ||
	    eg_env_token_is(o->copy_fallback, t, n);
}

/* How many tokens of an LD_PRELOAD value are `only` (NULL: are ours). */
EG_ENV_INLINE size_t eg_env_count_tokens(const struct eg_env_ours *o, const char *only, const char *v)
{
	size_t n = 0, len;
	const char *t;
	while (eg_preload_list_next(&v, EG_LIST_ENV, &t, &len))
		if (only ? eg_env_token_is(only, t, len) : eg_env_token_is_ours(o, t, len))
			n++;
	return n;
}

/* Is the copy we were loaded from gone (then its fallback is injected)? A
 * system call on every exec of a copy's process: a copy deleted in the
 * middle of a session (rm -rf ~/.cache) must not leave the next child
 * unguarded. Once gone, gone. */
EG_ENV_INLINE bool eg_env_copy_gone(const struct eg_env_ours *o)
{
	if (o->copy_fallback == NULL)
		return false;
	int *gone = (int *)&o->copy_gone; /* the one field the hooks write */
	if (__atomic_load_n(gone, __ATOMIC_RELAXED))
		return true;
	if (eg_sys4(SYS_faccessat, AT_FDCWD, (long)o->self_path, R_OK, 0) == 0)
		return false;
	__atomic_store_n(gone, 1, __ATOMIC_RELAXED);
	return true;
}

/* Which of our values is e (an entry that begins with EXECGUARD_), whole;
 * -1: none. Our names differ (eg_env_ours_capture keeps the first of
 * each), so an entry whose name is ours but whose value is not matches
 * none. The byte after the prefix tells most of ours apart, and the prefix
 * is not compared again: eg_env_untouched runs on every exec. */
EG_ENV_INLINE int eg_env_our_entry(const struct eg_env_ours *o, const char *e)
{
	const size_t p = sizeof "EXECGUARD_" - 1;
	for (size_t j = 0; j < o->n_vars; j++)
		if (o->vars[j][p] == e[p] && eg_hs_eq(o->vars[j] + p + 1, e + p + 1))
			return (int)j;
	return -1;
}

/* Is the LD_PRELOAD value v exactly the entry c (the usual case)? Then it
 * names us once. An entry with a separator in it (a path with a blank,
 * which the loader would split) is left to eg_env_count_tokens. */
EG_ENV_INLINE bool eg_env_value_is_entry(const char *v, const char *c)
{
	for (; *c; v++, c++)
		if (*v != *c || *c == ':' || *c == ' ')
			return false;
	return *v == '\0';
}

/* The usual case of eg_env_measure, in one pass that writes nothing on the
 * usual path: envp already holds each of our EXECGUARD_* values once and no
 * other, and, when we inject LD_PRELOAD, one LD_PRELOAD naming our entry
 * once; and the copy we were loaded from (if we are one) is still there.
 * true: envp is to be passed as it is. false: not that case (eg_env_measure
 * tells what changes). */
EG_ENV_INLINE bool eg_env_untouched(const struct eg_env_ours *o, char *const *envp)
{
	_Static_assert(EG_ENV_MAX_OURS <= 32, "one bit of `seen` a value");
	if (o->overflow || envp == NULL || o->n_vars > EG_ENV_MAX_OURS)
		return false;
	uint32_t seen = 0;
	const char *ld = NULL;
	for (size_t i = 0; envp[i]; i++) {
		const char *e = envp[i];
		if (eg_env_is_ours_var(e)) {
			int j = eg_env_our_entry(o, e);
			if (j < 0 || (seen >> j) & 1)
				return false;
			seen |= 1u << j;
		} else if (o->preload_entry && eg_env_is_ld_preload(e)) {
			if (ld != NULL)
				return false;
			ld = e + 11;
		}
	}
	if (seen != (o->n_vars == 32 ? UINT32_MAX : (1u << o->n_vars) - 1)) /* each of ours once */
		return false;
	return o->preload_entry == NULL ||
	    (ld != NULL && (eg_env_value_is_entry(ld, o->preload_entry) || eg_env_count_tokens(o, NULL, ld) == 1) &&
		!eg_env_copy_gone(o));
}

/*
 * Capture ours from `envp` (the environment at load time). `self_path` is
 * the library's path (dladdr), self_len bytes; `preload_entry` the
 * matching LD_PRELOAD entry (entry_len bytes, not necessarily
 * NUL-terminated), or NULL not to inject LD_PRELOAD. Not for the hook path.
 */
void eg_env_ours_capture(struct eg_env_ours *o, char *const *envp, const char *self_path, size_t self_len,
    const char *preload_entry, size_t entry_len, unsigned default_timeout);

struct eg_env_need {
	bool unchanged;  /* use the caller's envp as is */
	size_t n_ptrs;   /* pointers to provide (NULL terminator included) */
	size_t n_bytes;  /* bytes of text to provide (the new LD_PRELOAD entry) */
	/* our entry to inject (the copy's fallback when the copy is gone),
	 * decided by eg_env_measure, used as is by eg_env_build */
	const char *entry;
};

/* Pass 1: what would change, and how much storage the new envp needs. */
void eg_env_measure(const struct eg_env_ours *o, char *const *envp, struct eg_env_need *need);

/* Pass 2: build the new envp into ptrs[need->n_ptrs] and bytes[need->n_bytes].
 * Returns ptrs (or envp itself when need->unchanged), or NULL when envp no
 * longer fits what pass 1 measured: another thread changed the environment
 * in between (setenv, putenv on a buffer it rewrites). Nothing is written
 * past either array; the caller measures again. */
char *const *eg_env_build(const struct eg_env_ours *o, char *const *envp,
    const struct eg_env_need *need, char **ptrs, char *bytes);

/* How many entries envp has, counting at most `max` (more: max + 1). */
EG_ENV_INLINE size_t eg_env_count(char *const *envp, size_t max)
{
	size_t n = 0;
	while (envp && n <= max && envp[n])
		n++;
	return n;
}

/* envp's first n pointers (fewer if it ends sooner) into snap[n + 1],
 * NULL-terminated: each pointer read once. */
EG_ENV_INLINE void eg_env_snapshot(char *const *envp, char **snap, size_t n)
{
	size_t k = 0;
	for (char *e; k < n && (e = envp[k]) != NULL; k++)
		snap[k] = e;
	snap[k] = NULL;
}

/* Measure-and-build rounds a hook tries before it refuses (fail closed):
 * each round that finds a string of the environment changed since its
 * measure (EG_INJECT_ENV). */
#define EG_ENV_BUILD_TRIES 4

/*
 * Set by our popen, after the human approved the whole shell command in the
 * caller, in the environment of that one shell: "PID:HASH", the caller's pid
 * and the FNV-1a 64 hash of the command string. The shell's library honours
 * it (its confirm rules do not ask again) only if its parent is PID and its
 * own argv is `sh -c COMMAND` with that hash. It is never captured as one of
 * ours, so no exec passes it on: a program the shell runs is guarded fully.
 * A caller cannot forge it: a guarded process's children get only the
 * library's own EXECGUARD_* values.
 */
#define EG_APPROVED_VAR "EXECGUARD_APPROVED"
#define EG_APPROVED_HASH_INIT 14695981039346656037ull

/* FNV-1a 64, in steps (start from EG_APPROVED_HASH_INIT). */
uint64_t eg_approved_hash(uint64_t h, const void *data, size_t len);
/* "EXECGUARD_APPROVED=PID:HASH" into buf (at least 64 bytes). */
void eg_approved_format(char *buf, long pid, uint64_t hash);

/* Storage above which a hook refuses rather than use more stack. */
#define EG_ENV_STACK_MAX (512u * 1024u)

#endif
