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
    const char *preload_entry, size_t entry_len, unsigned default_timeout)
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
		KEEP(o->self_path, self_path, eg_hs_len(self_path));
	if (preload_entry)
		KEEP(o->preload_entry, preload_entry, entry_len);
	/* each kept value's name length: every name is measured once */
	size_t name_len[EG_ENV_MAX_OURS];
	for (size_t i = 0; envp && envp[i]; i++) {
		const char *e = envp[i];
		const char *eq = eg_env_is_ours_var(e) ? eg_hs_chr(e, '=') : NULL;
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

EG_HOT_TEXT static int our_index(const struct eg_env_ours *o, const char *e)
{
	return eg_env_our_index(o, e);
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

/* Decision for one caller entry: keep it or drop it. `seen` tracks which of
 * our values were already kept (so duplicates go). */
EG_HOT_TEXT static bool keep_entry(const struct eg_env_ours *o, const char *e, const char *stricter,
    unsigned char *seen)
{
	if (!eg_env_is_ours_var(e))
		return true;
	if (stricter && is_timeout(e))
		return e == stricter;
	int idx = our_index(o, e);
	if (idx >= 0 && eg_hs_eq(o->vars[idx], e) && !seen[idx]) {
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
		if (s.ld_count != 1 || count_tokens(o, NULL, s.last_ld + LDP_LEN) != 1 ||
		    (gone && count_tokens(o, o->copy_fallback, s.last_ld + LDP_LEN) != 1)) {
			ld_ok = false;
			bytes = LDP_LEN + eg_hs_len(need->entry) + 1 + (s.last_ld ? eg_hs_len(s.last_ld) : 0) + 1;
		}
	}
	need->unchanged = ld_ok && !s.dropped && s.adds == 0;
	need->n_ptrs = s.kept + s.adds + (o->preload_entry ? 1 : 0) + 1;
	need->n_bytes = bytes;
}

/* Write LD_PRELOAD=<value with ours, `entry`, exactly once> into out. */
EG_HOT_TEXT static void build_ld(const struct eg_env_ours *o, const char *entry, const char *old, char *out)
{
	char *p = out;
	eg_hs_copy(p, EG_HOT_STR(LDP), LDP_LEN);
	p += LDP_LEN;
	/* once the copy is gone, only the library it was made from counts */
	const char *gone_to = entry != o->preload_entry ? entry : NULL;
	bool have = old && count_tokens(o, gone_to, old) > 0;
	bool first = true;
	if (!have) {
		size_t n = eg_hs_len(entry);
		eg_hs_copy(p, entry, n);
		p += n;
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
		if (!first)
			*p++ = ':';
		eg_hs_copy(p, t, n);
		p += n;
		first = false;
	}
	*p = '\0';
}

EG_HOT_TEXT char *const *eg_env_build(const struct eg_env_ours *o, char *const *envp,
    const struct eg_env_need *need, char **ptrs, char *bytes)
{
	if (need->unchanged)
		return envp;
	struct scan s;
	scan_env(o, envp, &s);
	memset(s.seen, 0, sizeof s.seen);
	size_t k = 0;
	bool ld_done = false;
	for (size_t i = 0; envp && envp[i]; i++) {
		char *e = envp[i];
		if (o->preload_entry && eg_env_is_ld_preload(e)) {
			if (e != s.last_ld)
				continue;
			if (need->n_bytes) {
				build_ld(o, need->entry, e + LDP_LEN, bytes);
				ptrs[k++] = bytes;
			} else {
				ptrs[k++] = e;
			}
			ld_done = true;
			continue;
		}
		if (keep_entry(o, e, s.stricter, s.seen))
			ptrs[k++] = e;
	}
	if (o->preload_entry && !ld_done) {
		build_ld(o, need->entry, NULL, bytes);
		ptrs[k++] = bytes;
	}
	for (size_t j = 0; j < o->n_vars; j++) {
		if (s.seen[j])
			continue;
		if (s.stricter && is_timeout(o->vars[j]))
			continue;
		ptrs[k++] = (char *)o->vars[j];
	}
	ptrs[k] = NULL;
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
