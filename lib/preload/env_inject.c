/* Environment re-injection. See env_inject.h. */
#include "env_inject.h"

#include <stdint.h>
#include <string.h>
#include "fmt.h"
#include "guard.h"
#include "hot_text.h"
#include "hot_str.h"
#include "preload_list.h"
#include "sys_direct.h"

#define LDP "LD_PRELOAD="
#define LDP_LEN (sizeof LDP - 1)
#define TIMEOUT_NAME "EXECGUARD_PROMPT_TIMEOUT"

EG_CTOR_TEXT void eg_env_ours_capture(struct eg_env_ours *o, char *const *envp, const char *self_path,
    size_t self_len, const char *preload_entry, size_t entry_len, unsigned default_timeout)
{
	o->preload_entry = NULL;
	o->self_path = NULL;
	o->copy_fallback = NULL;
	o->copy_gone = 0;
	o->n_vars = 0;
	o->overflow = false;
	o->prompt_timeout = default_timeout;

	/* a copy in the capture buffer; NULL (and overflow) if it is full */
	#define KEEP(dst, src, len) do { \
		(dst) = eg_capture_keep((src), (len)); \
		if ((dst) == NULL) o->overflow = true; \
	} while (0)

	if (self_path)
		KEEP(o->self_path, self_path, self_len);
	if (preload_entry)
		KEEP(o->preload_entry, preload_entry, entry_len);
	/* each kept value's name length: every name is measured once */
	size_t name_len[EG_ENV_MAX_OURS];
	for (size_t i = 0; envp && envp[i]; i++) {
		const char *e = envp[i];
		/* no '=' in the prefix eg_env_is_ours_var checked */
		const char *eq = eg_env_is_ours_var(e) ? eg_hs_chr(e + sizeof "EXECGUARD_" - 1, '=') : NULL;
		if (eq == NULL)
			continue;
		size_t n = (size_t)(eq - e);
		if (n == sizeof EG_APPROVED_VAR - 1 && eg_hs_eq_n(e, EG_CTOR_STR(EG_APPROVED_VAR), n))
			continue; /* the popen approval is for this process only */
		bool dup = false;
		for (size_t j = 0; j < o->n_vars; j++)
			if (name_len[j] == n && eg_hs_eq_n(o->vars[j], e, n))
				dup = true; /* getenv sees the first one only */
		if (dup)
			continue;
		if (o->n_vars == EG_ENV_MAX_OURS) {
			o->overflow = true;
			break;
		}
		const char *copy;
		KEEP(copy, e, n + 1 + eg_hs_len(eq + 1));
		if (!copy)
			break;
		name_len[o->n_vars] = n;
		o->vars[o->n_vars++] = copy;
		if (n == sizeof TIMEOUT_NAME - 1 && eg_hs_eq_n(e, EG_CTOR_STR(TIMEOUT_NAME), n)) {
			unsigned t = eg_parse_uint(eq + 1, EG_TIMEOUT_MAX);
			if (t)
				o->prompt_timeout = t;
		}
	}
	#undef KEEP
}

EG_HOT_TEXT static bool is_timeout(const char *e)
{
	return eg_env_same_name(e, EG_HOT_STR(TIMEOUT_NAME "="));
}

/* First caller entry that sets a stricter (lower, valid) timeout. */
EG_HOT_TEXT static const char *stricter_timeout(const struct eg_env_ours *o, char *const *envp)
{
	for (size_t i = 0; envp && envp[i]; i++) {
		const char *e = envp[i];
		if (!eg_env_is_ours_var(e) || !is_timeout(e) || !eg_hs_chr(e, '='))
			continue;
		unsigned t = eg_parse_uint(eg_hs_chr(e, '=') + 1, EG_TIMEOUT_MAX);
		if (t && t < o->prompt_timeout)
			return e;
	}
	return NULL;
}

EG_HOT_TEXT static bool token_is(const char *c, const char *t, size_t n)
{
	return eg_env_token_is(c, t, n);
}

EG_HOT_TEXT static bool token_is_ours(const struct eg_env_ours *o, const char *t, size_t n)
{
	return eg_env_token_is_ours(o, t, n);
}

EG_HOT_TEXT static bool copy_gone(const struct eg_env_ours *o)
{
	return eg_env_copy_gone(o);
}

/* How many tokens of an LD_PRELOAD value are `only` (NULL: are ours). */
EG_HOT_TEXT static size_t count_tokens(const struct eg_env_ours *o, const char *only, const char *v)
{
	return eg_env_count_tokens(o, only, v);
}

/* Can an LD_PRELOAD value be passed as it is: ours in it once, and, when
 * the copy is gone (`entry` is its fallback), the fallback once? */
EG_HOT_TEXT static bool ld_value_ok(const struct eg_env_ours *o, const char *entry, const char *v)
{
	return count_tokens(o, NULL, v) == 1 &&
	    (entry == o->preload_entry || count_tokens(o, entry, v) == 1);
}

/* Decision for one caller entry: keep it or drop it. `seen` tracks which of
 * our values were already kept (so duplicates go). */
EG_HOT_TEXT static bool keep_entry(const struct eg_env_ours *o, const char *e, const char *stricter,
    unsigned char *seen)
{
	if (!eg_env_is_ours_var(e))
		return true;
	if (stricter && is_timeout(e))
		return e == stricter;
	int idx = eg_env_our_entry(o, e); /* ours whole: same name, same value */
	if (idx >= 0 && !seen[idx]) {
		seen[idx] = 1;
		return true;
	}
	return false;
}

struct scan {
	size_t n, kept, ld_count, adds;
	const char *last_ld;
	const char *stricter;
	bool dropped;
	unsigned char seen[EG_ENV_MAX_OURS];
};

EG_HOT_TEXT static void scan_env(const struct eg_env_ours *o, char *const *envp, struct scan *s)
{
	memset(s, 0, sizeof *s);
	s->stricter = stricter_timeout(o, envp);
	for (size_t i = 0; envp && envp[i]; i++) {
		const char *e = envp[i];
		s->n++;
		if (o->preload_entry && eg_env_is_ld_preload(e)) {
			s->ld_count++;
			s->last_ld = e;
			continue;
		}
		if (keep_entry(o, e, s->stricter, s->seen))
			s->kept++;
		else
			s->dropped = true;
	}
	for (size_t j = 0; j < o->n_vars; j++) {
		if (s->seen[j])
			continue;
		if (s->stricter && is_timeout(o->vars[j]))
			continue;
		s->adds++;
	}
}

EG_HOT_TEXT void eg_env_measure(const struct eg_env_ours *o, char *const *envp, struct eg_env_need *need)
{
	struct scan s;
	scan_env(o, envp, &s);
	bool ld_ok = true;
	size_t bytes = 0;
	need->entry = o->preload_entry;
	if (o->preload_entry) {
		bool gone = copy_gone(o);
		if (gone)
			need->entry = o->copy_fallback;
		if (s.ld_count != 1 || !ld_value_ok(o, need->entry, s.last_ld + LDP_LEN)) {
			ld_ok = false;
			bytes = LDP_LEN + eg_hs_len(need->entry) + 1 + (s.last_ld ? eg_hs_len(s.last_ld) : 0) + 1;
		}
	}
	need->unchanged = ld_ok && !s.dropped && s.adds == 0;
	need->n_ptrs = s.kept + s.adds + (o->preload_entry ? 1 : 0) + 1;
	need->n_bytes = bytes;
}

/* Copy n bytes to *p if they fit before end. */
EG_HOT_TEXT static bool put(char **p, const char *end, const char *s, size_t n)
{
	if ((size_t)(end - *p) < n)
		return false;
	eg_hs_copy(*p, s, n);
	*p += n;
	return true;
}

/* Write LD_PRELOAD=<value with ours, `entry`, exactly once> into
 * out[0..cap), NUL included. false: it does not fit (`old` is not what
 * eg_env_measure saw). */
EG_HOT_TEXT static bool build_ld(const struct eg_env_ours *o, const char *entry, const char *old, char *out,
    size_t cap)
{
	char *p = out;
	const char *end = out + cap;
	if (!put(&p, end, EG_HOT_STR(LDP), LDP_LEN))
		return false;
	/* once the copy is gone, only the library it was made from counts */
	const char *gone_to = entry != o->preload_entry ? entry : NULL;
	bool have = old && count_tokens(o, gone_to, old) > 0;
	bool first = true;
	if (!have) {
		if (!put(&p, end, entry, eg_hs_len(entry)))
			return false;
		first = false;
	}
	bool placed = false;
	const char *v = old ? old : EG_HOT_STR("");
	const char *t;
	size_t n;
	while (eg_preload_list_next(&v, EG_LIST_ENV, &t, &n)) {
		if (token_is_ours(o, t, n)) {
			if (placed || !have || (gone_to && !token_is(gone_to, t, n)))
				continue;
			placed = true;
		}
		if ((!first && !put(&p, end, EG_HOT_STR(":"), 1)) || !put(&p, end, t, n))
			return false;
		first = false;
	}
	return put(&p, end, EG_HOT_STR(""), 1);
}

EG_HOT_TEXT char *const *eg_env_build(const struct eg_env_ours *o, char *const *envp,
    const struct eg_env_need *need, char **ptrs, char *bytes)
{
	if (need->unchanged)
		return envp;
	/* The hooks pass a snapshot of the pointers (EG_INJECT_ENV), but a
	 * string may still be rewritten in place, and run_alert passes the live
	 * environ: whatever differs from what eg_env_measure saw is caught by
	 * the bounds, never written past them */
	struct scan s;
	scan_env(o, envp, &s);
	memset(s.seen, 0, sizeof s.seen);
	size_t k = 0, cap = need->n_ptrs; /* the last one for the NULL */
	bool ld_done = false;
	#define ADD(e) do { if (k + 1 >= cap) return NULL; ptrs[k++] = (e); } while (0)
	for (size_t i = 0; envp && envp[i]; i++) {
		char *e = envp[i];
		if (o->preload_entry && eg_env_is_ld_preload(e)) {
			if (e != s.last_ld)
				continue;
			if (need->n_bytes) {
				if (!build_ld(o, need->entry, e + LDP_LEN, bytes, need->n_bytes))
					return NULL;
				ADD(bytes);
			} else if (ld_value_ok(o, need->entry, e + LDP_LEN)) {
				ADD(e); /* as measured: ours once, nothing to rewrite */
			} else {
				return NULL;
			}
			ld_done = true;
			continue;
		}
		if (keep_entry(o, e, s.stricter, s.seen))
			ADD(e);
	}
	if (o->preload_entry && !ld_done) {
		if (!build_ld(o, need->entry, NULL, bytes, need->n_bytes))
			return NULL;
		ADD(bytes);
	}
	for (size_t j = 0; j < o->n_vars; j++) {
		if (s.seen[j])
			continue;
		if (s.stricter && is_timeout(o->vars[j]))
			continue;
		ADD((char *)o->vars[j]);
	}
	#undef ADD
	ptrs[k] = NULL; /* k < cap: ADD kept the last one free */
	return ptrs;
}

uint64_t eg_approved_hash(uint64_t h, const void *data, size_t len)
{
	const unsigned char *p = data;
	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 1099511628211ull;
	}
	return h;
}

void eg_approved_format(char *buf, long pid, uint64_t hash)
{
	static const char hex[] = "0123456789abcdef";
	size_t k = strlen(EG_APPROVED_VAR "=");
	memcpy(buf, EG_APPROVED_VAR "=", k);
	k += eg_fmt_uint(buf + k, (unsigned long)pid);
	buf[k++] = ':';
	for (int i = 15; i >= 0; i--)
		buf[k++] = hex[(hash >> (4 * i)) & 15];
	buf[k] = '\0';
}
