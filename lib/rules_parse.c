/*
 * The rule language of docs/rules.md: one stanza a rule, header at column 1,
 * indented `KEY value` fields. Every problem becomes a diagnostic with a
 * 1-based line and byte column; parsing goes on so that one pass reports
 * every problem in a file.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "execguard.h"
#include "load_internal.h"
#include "settings.h"

#define LINE_MAX_BYTES 4096
#define ID_MAX 128
#define PROGRAM_MAX 255
#define MAX_ERRORS 100 /* per file; then give up on the rest of it */

enum key {
	K_PROGRAM,
	K_MATCH,
	K_UNLESS,
	K_ACTION,
	K_REASON,
	K_SEVERITY,
	K_ENV,
	K_CWD,
	K_EXAMPLE,
	K_SAFE,
	K__COUNT
};

static const char *const key_names[K__COUNT] = {
	[K_PROGRAM] = "program",
	[K_MATCH] = "match",
	[K_UNLESS] = "unless",
	[K_ACTION] = "action",
	[K_REASON] = "reason",
	[K_SEVERITY] = "severity",
	[K_ENV] = "env",
	[K_CWD] = "cwd",
	[K_EXAMPLE] = "example",
	[K_SAFE] = "safe",
};

/* Is s[0..n) the literal lit? (a constant length: the compiler inlines it) */
#define IS(lit) (n == sizeof(lit) - 1 && memcmp(s, lit, sizeof(lit) - 1) == 0)

/* The key whose name is s[0..n), or -1. The first byte picks the candidates. */
static int find_key(const char *s, size_t n)
{
	switch (n ? s[0] : '\0') {
	case 'p':
		return IS("program") ? K_PROGRAM : -1;
	case 'm':
		return IS("match") ? K_MATCH : -1;
	case 'u':
		return IS("unless") ? K_UNLESS : -1;
	case 'a':
		return IS("action") ? K_ACTION : -1;
	case 'r':
		return IS("reason") ? K_REASON : -1;
	case 's':
		return IS("severity") ? K_SEVERITY : IS("safe") ? K_SAFE : -1;
	case 'e':
		return IS("env") ? K_ENV : IS("example") ? K_EXAMPLE : -1;
	case 'c':
		return IS("cwd") ? K_CWD : -1;
	default:
		return -1;
	}
}
#undef IS

struct parser {
	struct eg_ruleset *rs;
	struct eg_diags *d;
	const char *name;
	bool prot;
	bool clean; /* the text has no NUL and no byte >= 0x80 (after a BOM) */
	unsigned flags; /* EG_LOAD_* */
	size_t rules_cap; /* room in rs->rules known to this call (we allocated it) */
	unsigned file_order;
	unsigned errors;
	bool oom;

	/* the stanza being read */
	bool in_stanza;
	bool skip;    /* after a broken header: ignore field lines silently */
	bool bad;     /* an error in this stanza: do not add the rule */
	bool damaged; /* a line was dropped: do not report missing fields */
	long target;  /* override: index of the replaced rule, else -1 */
	unsigned seen[K__COUNT];
	unsigned first_line[K__COUNT];
	struct eg_rule cur;
};

/* Report an error in the current file; it spoils the current stanza. */
#define PERR(p, line, col, ...)                                                  \
	do {                                                                     \
		(p)->errors++;                                                   \
		(p)->bad = true;                                                 \
		eg_diags_add((p)->d, (p)->name, (line), (col), __VA_ARGS__);     \
	} while (0)

static void oom(struct parser *p, unsigned line)
{
	if (!p->oom)
		PERR(p, line, 0, "out of memory");
	p->oom = true;
	p->errors++;
	p->bad = true;
}

static char *dupn(struct parser *p, unsigned line, const char *s, size_t n)
{
	char *r = strndup(s, n);
	if (!r)
		oom(p, line);
	return r;
}

/* Make room for one more element in *v (n used, capacity implicit). */
static bool grow(struct parser *p, unsigned line, void **v, size_t n, size_t elsz)
{
	/* capacity is implicit: powers of two from 4 */
	if (n != 0 && (n < 4 || (n & (n - 1)) != 0))
		return true;
	size_t cap = n ? n * 2 : 4;
	void *nv = reallocarray(*v, cap, elsz);
	if (!nv) {
		oom(p, line);
		return false;
	}
	*v = nv;
	return true;
}

/* Same for arrays of the ruleset, which may come from elsewhere: exact size. */
static bool grow_exact(struct parser *p, unsigned line, void **v, size_t n, size_t elsz)
{
	void *nv = reallocarray(*v, n + 1, elsz);
	if (!nv) {
		oom(p, line);
		return false;
	}
	*v = nv;
	return true;
}

/*
 * Room for one more rule. The array may come from elsewhere with no room to
 * spare, so only capacity this call allocated is trusted; within a file it
 * grows geometrically (no realloc per rule).
 */
static bool grow_rules(struct parser *p, unsigned line)
{
	struct eg_ruleset *rs = p->rs;
	if (rs->n_rules < p->rules_cap)
		return true;
	size_t cap = rs->n_rules < 8 ? 16 : rs->n_rules * 2;
	void *nv = reallocarray(rs->rules, cap, sizeof(*rs->rules));
	if (!nv) {
		oom(p, line);
		return false;
	}
	rs->rules = nv;
	p->rules_cap = cap;
	return true;
}

static void free_patterns(struct eg_pattern *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].re);
	free(v);
}

static void free_examples(struct eg_example *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].text);
	free(v);
}

static void eg_rule_free(struct eg_rule *r)
{
	free(r->id);
	free(r->file);
	for (size_t i = 0; i < r->n_programs; i++)
		free(r->programs[i]);
	free(r->programs);
	free_patterns(r->match, r->n_match);
	free_patterns(r->unless, r->n_unless);
	for (size_t i = 0; i < r->n_env; i++) {
		free(r->env[i].name);
		free(r->env[i].re.re);
	}
	free(r->env);
	free_patterns(r->cwd, r->n_cwd);
	free(r->reason);
	free_examples(r->examples, r->n_examples);
	free_examples(r->safes, r->n_safes);
	memset(r, 0, sizeof(*r));
}

/* Length to print of user text s[0..n): at most max bytes, whole characters. */
static int clip(const char *s, size_t n, size_t max)
{
	if (n > max) {
		n = max;
		while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
			n--;
	}
	return (int)n;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static bool id_char(char c, bool first)
{
	if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
		return true;
	return !first && (c == '.' || c == '_' || c == '-');
}

static long find_rule(const struct eg_ruleset *rs, const char *id, size_t n)
{
	/* n > 0; most ids differ in their first byte: test it before the call */
	for (size_t i = 0; i < rs->n_rules; i++) {
		const char *o = rs->rules[i].id;
		if (o[0] == id[0] && strncmp(o, id, n) == 0 && o[n] == '\0')
			return (long)i;
	}
	return -1;
}

/* Does s[0..n) hold only ASCII bytes other than NUL? */
static bool ascii_clean(const char *s, size_t n)
{
	const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
	size_t i = 0;
#ifdef __SSE2__
	/* 64 bytes a round: high bits (bytes >= 0x80) and NUL bytes */
	const __m128i zero = _mm_setzero_si128();
	while (i + 64 <= n) {
		__m128i a = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
		__m128i b = _mm_loadu_si128((const __m128i *)(const void *)(s + i + 16));
		__m128i c = _mm_loadu_si128((const __m128i *)(const void *)(s + i + 32));
		__m128i e = _mm_loadu_si128((const __m128i *)(const void *)(s + i + 48));
		__m128i hi = _mm_or_si128(_mm_or_si128(a, b), _mm_or_si128(c, e));
		__m128i nul = _mm_or_si128(
		    _mm_or_si128(_mm_cmpeq_epi8(a, zero), _mm_cmpeq_epi8(b, zero)),
		    _mm_or_si128(_mm_cmpeq_epi8(c, zero), _mm_cmpeq_epi8(e, zero)));
		if (_mm_movemask_epi8(_mm_or_si128(hi, nul)) != 0)
			return false;
		i += 64;
	}
#endif
	while (i + 64 <= n) {
		/* a byte >= 0x80 sets its high bit in acc; so does a zero byte
		 * (the test is exact for words with no byte >= 0x80) */
		uint64_t acc = 0;
		for (size_t end = i + 64; i < end; i += 8) {
			uint64_t w;
			memcpy(&w, s + i, sizeof w);
			acc |= w | ((w - ones) & ~w);
		}
		if ((acc & highs) != 0)
			return false;
	}
	for (; i < n; i++)
		if ((unsigned char)s[i] >= 0x80 || s[i] == '\0')
			return false;
	return true;
}

/*
 * Offset of the first byte of the first invalid UTF-8 sequence in s[0..n),
 * or n if it is all valid (no overlongs, surrogates or code points above
 * U+10FFFF).
 */
static size_t utf8_check(const unsigned char *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		unsigned char c = s[i];
		size_t len;
		unsigned char lo = 0x80, hi = 0xBF;
		if (c < 0x80) {
			i++;
			continue;
		} else if (c >= 0xC2 && c <= 0xDF) {
			len = 2;
		} else if (c >= 0xE0 && c <= 0xEF) {
			len = 3;
			if (c == 0xE0)
				lo = 0xA0;
			else if (c == 0xED)
				hi = 0x9F;
		} else if (c >= 0xF0 && c <= 0xF4) {
			len = 4;
			if (c == 0xF0)
				lo = 0x90;
			else if (c == 0xF4)
				hi = 0x8F;
		} else {
			return i;
		}
		if (n - i < len)
			return i;
		if (s[i + 1] < lo || s[i + 1] > hi)
			return i;
		for (size_t k = 2; k < len; k++)
			if (s[i + k] < 0x80 || s[i + k] > 0xBF)
				return i;
		i += len;
	}
	return n;
}

/* ------------------------------------------------------------------ stanzas */

static void finish_stanza(struct parser *p)
{
	if (!p->in_stanza)
		return;
	struct eg_rule *r = &p->cur;
	if (!p->damaged && r->id) {
		static const enum key required[] = { K_PROGRAM, K_MATCH, K_ACTION, K_REASON,
			K_EXAMPLE };
		for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++)
			if (!p->seen[required[i]])
				PERR(p, r->line, 1, "rule '%s' is missing required field '%s'", r->id,
				    key_names[required[i]]);
	}
	if (!p->bad && !p->oom) {
		struct eg_ruleset *rs = p->rs;
		if (p->target >= 0) {
			eg_rule_free(&rs->rules[p->target]);
			rs->rules[p->target] = *r;
			memset(r, 0, sizeof(*r));
		} else if (grow_rules(p, r->line)) {
			rs->rules[rs->n_rules++] = *r;
			memset(r, 0, sizeof(*r));
		}
	}
	eg_rule_free(r);
	p->in_stanza = false;
	p->bad = p->damaged = false;
}

static void start_stanza(struct parser *p, unsigned lineno, bool is_override)
{
	finish_stanza(p);
	memset(&p->cur, 0, sizeof(p->cur));
	memset(p->seen, 0, sizeof(p->seen));
	memset(p->first_line, 0, sizeof(p->first_line));
	p->in_stanza = true;
	p->skip = false;
	p->bad = p->damaged = false;
	p->target = -1;
	p->cur.line = lineno;
	p->cur.file_order = p->file_order;
	p->cur.is_override = is_override;
	p->cur.protected_src = p->prot;
	p->cur.action = EG_ACT_NONE;
	p->cur.severity = EG_SEV_NORMAL;
	if (!(p->cur.file = strdup(p->name)))
		oom(p, lineno);
}

static void free_setting(struct eg_setting *st)
{
	free(st->key);
	free(st->value);
	free(st->file);
}

/*
 * `set KEY VALUE`: one line, outside any stanza. A later file replaces an
 * earlier file's value, except that a file the user can write cannot change
 * what a protected file set (as with `override`).
 */
static void set_line(struct parser *p, unsigned ln, const char *s, size_t len)
{
	finish_stanza(p);
	p->skip = true; /* indented lines after a `set` belong to no stanza */
	size_t a = 3;
	while (a < len && is_blank(s[a]))
		a++;
	size_t b = a;
	while (b < len && !is_blank(s[b]))
		b++;
	if (a == b) {
		p->errors++;
		eg_diags_add(p->d, p->name, ln, (unsigned)len + 1, "missing setting name after 'set'");
		return;
	}
	const struct eg_setting_key *k = eg_setting_key_find(s + a, b - a);
	if (!k) {
		p->errors++;
		eg_diags_add(p->d, p->name, ln, (unsigned)a + 1,
		    "unknown setting '%.*s' (see docs/rules.md, \"Settings\")", clip(s + a, b - a, 64),
		    s + a);
		return;
	}
	size_t c = b;
	while (c < len && is_blank(s[c]))
		c++;
	size_t e = len;
	while (e > c && is_blank(s[e - 1]))
		e--;
	char *value = dupn(p, ln, s + c, e - c);
	if (!value)
		return;
	const char *why = eg_setting_value_problem(k, value);
	if (why) {
		p->errors++;
		eg_diags_add(p->d, p->name, ln, (unsigned)c + 1, "setting '%s': %s, found '%.*s'",
		    k->name, why, clip(value, e - c, 64), value);
		free(value);
		return;
	}

	struct eg_ruleset *rs = p->rs;
	struct eg_setting *prev = NULL;
	for (size_t i = 0; i < rs->n_settings; i++)
		if (strcmp(rs->settings[i].key, k->name) == 0)
			prev = &rs->settings[i];
	if (prev && strcmp(prev->file, p->name) == 0 && prev->line < ln) {
		p->errors++;
		eg_diags_add(p->d, p->name, ln, (unsigned)a + 1,
		    "setting '%s' is already set at line %u of this file", k->name, prev->line);
		free(value);
		return;
	}
	if (prev && prev->protected_src && !p->prot) {
		p->errors++;
		eg_diags_add(p->d, p->name, ln, (unsigned)a + 1,
		    "cannot change setting '%s' set in %s:%u from a file you can write", k->name,
		    prev->file, prev->line);
		free(value);
		return;
	}
	struct eg_setting st = { .value = value, .line = ln, .col = (unsigned)c + 1,
		.protected_src = p->prot };
	st.key = strdup(k->name);
	st.file = strdup(p->name);
	if (!st.key || !st.file) {
		free_setting(&st);
		oom(p, ln);
		return;
	}
	if (prev) {
		free_setting(prev);
		*prev = st;
		return;
	}
	if (!grow_exact(p, ln, (void **)&rs->settings, rs->n_settings, sizeof *rs->settings)) {
		free_setting(&st);
		return;
	}
	rs->settings[rs->n_settings++] = st;
}

static void header_line(struct parser *p, unsigned ln, const char *s, size_t len)
{
	size_t w = 0;
	while (w < len && !is_blank(s[w]))
		w++;
	bool is_rule = w == 4 && memcmp(s, "rule", 4) == 0;
	bool is_override = w == 8 && memcmp(s, "override", 8) == 0;
	if (w == 3 && memcmp(s, "set", 3) == 0) {
		set_line(p, ln, s, len);
		return;
	}
	if (!is_rule && !is_override) {
		int k = find_key(s, w);
		if (k >= 0) {
			/* a field that lost its indent: the stanza goes on */
			PERR(p, ln, 1,
			    "field '%s' must be indented (a field line starts with a space or a tab)",
			    key_names[k]);
			if (p->in_stanza)
				p->damaged = true;
			else
				p->skip = true;
			return;
		}
		finish_stanza(p);
		PERR(p, ln, 1, "expected 'rule ID', 'override ID' or 'set KEY VALUE', found '%.*s'",
		    clip(s, w, 64), s);
		p->skip = true;
		return;
	}
	const char *kw = is_rule ? "rule" : "override";
	start_stanza(p, ln, is_override);

	size_t a = w;
	while (a < len && is_blank(s[a]))
		a++;
	size_t b = a;
	while (b < len && !is_blank(s[b]))
		b++;
	unsigned idcol = (unsigned)a + 1;
	if (a == b) {
		PERR(p, ln, 1, "missing rule id after '%s'", kw);
		p->damaged = true;
		return;
	}
	size_t c = b;
	while (c < len && is_blank(s[c]))
		c++;
	if (c < len) {
		PERR(p, ln, (unsigned)c + 1, "unexpected text after the rule id: '%.*s'",
		    clip(s + c, len - c, 64), s + c);
		p->damaged = true;
	}

	bool ok = id_char(s[a], true);
	size_t bad_at = a;
	for (size_t i = a + 1; ok && i < b; i++)
		if (!id_char(s[i], false)) {
			ok = false;
			bad_at = i;
		}
	if (!ok) {
		PERR(p, ln, idcol,
		    "invalid rule id '%.*s': unexpected character at column %zu (an id is "
		    "[A-Za-z0-9][A-Za-z0-9._-]*)",
		    clip(s + a, b - a, 140), s + a, bad_at + 1);
		p->damaged = true;
		return;
	}
	if (b - a > ID_MAX) {
		PERR(p, ln, idcol, "rule id is %zu characters long, at most %d are allowed", b - a,
		    ID_MAX);
		p->damaged = true;
		return;
	}
	if (!(p->cur.id = dupn(p, ln, s + a, b - a)))
		return;

	long prev = find_rule(p->rs, s + a, b - a);
	if (is_rule) {
		if (prev >= 0) {
			const struct eg_rule *o = &p->rs->rules[prev];
			PERR(p, ln, idcol,
			    "duplicate rule id '%s', already defined at %s:%u (write 'override %s' in a "
			    "later file to replace it)",
			    p->cur.id, o->file, o->line, p->cur.id);
		}
		return;
	}
	/* override */
	if (prev < 0) {
		PERR(p, ln, idcol, "override of unknown rule '%s' (no earlier file defines it)",
		    p->cur.id);
		return;
	}
	const struct eg_rule *o = &p->rs->rules[prev];
	if (o->file_order == p->file_order) {
		PERR(p, ln, idcol,
		    "override of rule '%s' defined in the same file at line %u (edit that rule "
		    "instead)",
		    p->cur.id, o->line);
		return;
	}
	if (o->protected_src && !p->prot) {
		PERR(p, ln, idcol,
		    "cannot override protected rule '%s' (%s:%u) from a file you can write",
		    p->cur.id, o->file, o->line);
		return;
	}
	p->target = prev;
}

static bool add_pattern(struct parser *p, unsigned ln, struct eg_pattern **v, size_t *n,
    const char *s, size_t len, unsigned col)
{
	if (!grow(p, ln, (void **)v, *n, sizeof(**v)))
		return false;
	char *re = dupn(p, ln, s, len);
	if (!re)
		return false;
	(*v)[(*n)++] = (struct eg_pattern){ .re = re, .line = ln, .col = col };
	return true;
}

static void add_example(struct parser *p, unsigned ln, struct eg_example **v, size_t *n,
    const char *s, size_t len, unsigned col)
{
	if (!grow(p, ln, (void **)v, *n, sizeof(**v)))
		return;
	char *t = dupn(p, ln, s, len);
	if (!t)
		return;
	(*v)[(*n)++] = (struct eg_example){ .text = t, .line = ln, .col = col };
}

static void field_program(struct parser *p, unsigned ln, const char *s, size_t v, size_t e)
{
	struct eg_rule *r = &p->cur;
	size_t i = v;
	while (i < e) {
		size_t j = i;
		while (j < e && !is_blank(s[j]))
			j++;
		if (memchr(s + i, '/', j - i)) {
			PERR(p, ln, (unsigned)i + 1,
			    "program name '%.*s' contains '/': give the executable's basename",
			    clip(s + i, j - i, 64), s + i);
		} else if (j - i > PROGRAM_MAX) {
			PERR(p, ln, (unsigned)i + 1, "program name is longer than %d bytes",
			    PROGRAM_MAX);
		} else if (grow(p, ln, (void **)&r->programs, r->n_programs, sizeof(char *))) {
			char *name = dupn(p, ln, s + i, j - i);
			if (name)
				r->programs[r->n_programs++] = name;
		}
		i = j;
		while (i < e && is_blank(s[i]))
			i++;
	}
}

static void field_env(struct parser *p, unsigned ln, const char *s, size_t v, size_t e)
{
	struct eg_rule *r = &p->cur;
	size_t n = v;
	while (n < e && !is_blank(s[n]))
		n++;
	bool ok = (s[v] >= 'A' && s[v] <= 'Z') || (s[v] >= 'a' && s[v] <= 'z') || s[v] == '_';
	for (size_t i = v + 1; ok && i < n; i++)
		ok = (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '_';
	if (!ok)
		PERR(p, ln, (unsigned)v + 1,
		    "invalid environment variable name '%.*s' (expected [A-Za-z_][A-Za-z0-9_]*)",
		    clip(s + v, n - v, 64), s + v);
	size_t q = n;
	while (q < e && is_blank(s[q]))
		q++;
	if (q == e) {
		PERR(p, ln, (unsigned)n + 1, "'env' needs a pattern after the variable name: env NAME PATTERN");
		return;
	}
	if (!ok)
		return;
	if (!grow(p, ln, (void **)&r->env, r->n_env, sizeof(*r->env)))
		return;
	char *name = dupn(p, ln, s + v, n - v);
	char *re = dupn(p, ln, s + q, e - q);
	if (!name || !re) {
		free(name);
		free(re);
		return;
	}
	r->env[r->n_env++] = (struct eg_env_cond){
		.name = name,
		.re = { .re = re, .line = ln, .col = (unsigned)q + 1 },
	};
}

static void field_line(struct parser *p, unsigned ln, const char *s, size_t len, size_t i)
{
	size_t k = i;
	while (k < len && !is_blank(s[k]))
		k++;
	unsigned kcol = (unsigned)i + 1;
	if (!p->in_stanza) {
		if (!p->skip)
			PERR(p, ln, kcol,
			    "field '%.*s' outside a rule: a stanza starts with 'rule ID' at column 1",
			    clip(s + i, k - i, 64), s + i);
		p->skip = true;
		return;
	}
	int key = find_key(s + i, k - i);
	if (key < 0) {
		PERR(p, ln, kcol,
		    "unknown key '%.*s' (expected program, match, unless, action, reason, severity, "
		    "env, cwd, example or safe)",
		    clip(s + i, k - i, 64), s + i);
		return;
	}
	const char *kn = key_names[key];
	if (p->seen[key]++ == 0)
		p->first_line[key] = ln;

	size_t v = k;
	while (v < len && is_blank(s[v]))
		v++;
	size_t e = len;
	while (e > v && is_blank(s[e - 1]))
		e--;
	unsigned vcol = (unsigned)v + 1;
	if (v == e) {
		PERR(p, ln, kcol, "'%s' needs a value", kn);
		return;
	}
	if ((key == K_ACTION || key == K_SEVERITY) && p->seen[key] > 1) {
		PERR(p, ln, kcol, "'%s' given twice (first at line %u); a rule has at most one", kn,
		    p->first_line[key]);
		return;
	}

	struct eg_rule *r = &p->cur;
	const char *val = s + v;
	size_t vl = e - v;
	switch ((enum key)key) {
	case K_PROGRAM:
		field_program(p, ln, s, v, e);
		break;
	case K_MATCH:
		add_pattern(p, ln, &r->match, &r->n_match, val, vl, vcol);
		break;
	case K_UNLESS:
		add_pattern(p, ln, &r->unless, &r->n_unless, val, vl, vcol);
		break;
	case K_CWD:
		add_pattern(p, ln, &r->cwd, &r->n_cwd, val, vl, vcol);
		break;
	case K_ACTION: {
		static const struct {
			const char *name;
			enum eg_action a;
		} acts[] = {
			{ "confirm", EG_ACT_CONFIRM },
			{ "deny", EG_ACT_DENY },
			{ "allow", EG_ACT_ALLOW },
			{ "log", EG_ACT_LOG },
		};
		for (size_t j = 0; j < sizeof(acts) / sizeof(acts[0]); j++)
			if (strlen(acts[j].name) == vl && memcmp(val, acts[j].name, vl) == 0) {
				r->action = acts[j].a;
				return;
			}
		PERR(p, ln, vcol, "invalid action '%.*s' (expected confirm, deny, allow or log)",
		    clip(val, vl, 64), val);
		break;
	}
	case K_SEVERITY:
		if (vl == 6 && memcmp(val, "normal", 6) == 0)
			r->severity = EG_SEV_NORMAL;
		else if (vl == 8 && memcmp(val, "critical", 8) == 0)
			r->severity = EG_SEV_CRITICAL;
		else
			PERR(p, ln, vcol, "invalid severity '%.*s' (expected normal or critical)",
			    clip(val, vl, 64), val);
		break;
	case K_REASON: {
		size_t old = r->reason ? strlen(r->reason) : 0;
		char *nr = realloc(r->reason, old + (old ? 1 : 0) + vl + 1);
		if (!nr) {
			oom(p, ln);
			break;
		}
		if (old)
			nr[old++] = ' ';
		memcpy(nr + old, val, vl);
		nr[old + vl] = '\0';
		r->reason = nr;
		break;
	}
	case K_ENV:
		field_env(p, ln, s, v, e);
		break;
	case K_EXAMPLE:
		if (!(p->flags & EG_LOAD_NO_EXAMPLES))
			add_example(p, ln, &r->examples, &r->n_examples, val, vl, vcol);
		break;
	case K_SAFE:
		if (!(p->flags & EG_LOAD_NO_EXAMPLES))
			add_example(p, ln, &r->safes, &r->n_safes, val, vl, vcol);
		break;
	case K__COUNT:
		break;
	}
}

/*
 * A line that cannot be read (too long, NUL, bad UTF-8) is reported and
 * dropped. Where it stood decides what happens to the stanza around it.
 */
static void drop_line(struct parser *p, const char *s, size_t len)
{
	size_t i = 0;
	while (i < len && is_blank(s[i]))
		i++;
	if (i == len || s[i] == '#')
		return; /* blank or comment: nothing lost */
	if (i > 0) {
		p->damaged = true; /* a field of the current stanza is lost */
		p->bad = true;
		return;
	}
	/* perhaps a header: its stanza is lost, skip its fields */
	finish_stanza(p);
	p->skip = true;
}

static void parse_line(struct parser *p, unsigned ln, const char *s, size_t len)
{
	if (len > LINE_MAX_BYTES) {
		drop_line(p, s, len);
		p->errors++;
		eg_diags_add(p->d, p->name, ln, LINE_MAX_BYTES + 1,
		    "line is %zu bytes long, at most %d are allowed", len, LINE_MAX_BYTES);
		return;
	}
	const char *nul = p->clean ? NULL : memchr(s, '\0', len);
	size_t lim = nul ? (size_t)(nul - s) : len;
	size_t bad = p->clean ? lim : utf8_check((const unsigned char *)s, lim);
	if (bad < lim) {
		drop_line(p, s, len);
		p->errors++;
		eg_diags_add(p->d, p->name, ln, (unsigned)bad + 1, "invalid UTF-8 (byte 0x%02x)",
		    (unsigned char)s[bad]);
		return;
	}
	if (nul) {
		drop_line(p, s, len);
		p->errors++;
		eg_diags_add(p->d, p->name, ln, (unsigned)lim + 1,
		    "NUL byte in rule file (rule files are text)");
		return;
	}

	size_t i = 0;
	while (i < len && is_blank(s[i]))
		i++;
	if (i == len || s[i] == '#')
		return;
	if (i == 0)
		header_line(p, ln, s, len);
	else
		field_line(p, ln, s, len, i);
}

/*
 * A stanza's missing fields are found at its end; put this file's
 * diagnostics back in line order (stable: same position keeps its order).
 */
static void sort_diags(struct eg_diags *d, size_t from)
{
	for (size_t i = from + 1; i < d->n; i++) {
		struct eg_diag x = d->v[i];
		size_t j = i;
		while (j > from && (d->v[j - 1].line > x.line ||
					(d->v[j - 1].line == x.line && d->v[j - 1].col > x.col))) {
			d->v[j] = d->v[j - 1];
			j--;
		}
		d->v[j] = x;
	}
}

int eg_ruleset_parse_text(struct eg_ruleset *rs, const char *name, const char *text, size_t len,
    bool protected_src, struct eg_diags *d)
{
	return eg_ruleset_parse_text_ex(rs, name, text, len, protected_src, 0, d);
}

int eg_ruleset_parse_text_ex(struct eg_ruleset *rs, const char *name, const char *text, size_t len,
    bool protected_src, unsigned flags, struct eg_diags *d)
{
	struct parser p = { .rs = rs, .d = d, .name = name ? name : "<input>", .prot = protected_src,
		.flags = flags, .target = -1 };

	/* register the file */
	if (!grow_exact(&p, 0, (void **)&rs->files, rs->n_files, sizeof(*rs->files)) ||
	    !grow_exact(&p, 0, (void **)&rs->files_protected, rs->n_files,
		sizeof(*rs->files_protected)))
		return -1;
	char *fname = strdup(p.name);
	if (!fname) {
		oom(&p, 0);
		return -1;
	}
	p.file_order = (unsigned)rs->n_files;
	rs->files[rs->n_files] = fname;
	rs->files_protected[rs->n_files] = protected_src;
	rs->n_files++;

	size_t pos = 0, first_diag = d ? d->n : 0;
	unsigned ln = 0;
	bool gave_up = false;
	/* a UTF-8 byte order mark is tolerated; columns count from after it */
	if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
		pos = 3;
	/* the usual case: plain ASCII, no line needs the NUL and UTF-8 checks */
	p.clean = ascii_clean(text + pos, len - pos);
	while (pos < len) {
		ln++;
		const char *s = text + pos;
		const char *nl = memchr(s, '\n', len - pos);
		size_t l = nl ? (size_t)(nl - s) : len - pos;
		pos += l + (nl ? 1 : 0);
		if (l > 0 && s[l - 1] == '\r')
			l--; /* CRLF */
		parse_line(&p, ln, s, l);
		if (p.errors >= MAX_ERRORS && pos < len) {
			gave_up = true;
			p.bad = p.damaged = true;
			break;
		}
	}
	finish_stanza(&p);
	if (d)
		sort_diags(d, first_diag);
	if (gave_up)
		eg_diags_add(d, p.name, ln, 1, "too many errors, giving up on the rest of the file");
	return p.errors ? -1 : 0;
}

void eg_ruleset_free(struct eg_ruleset *rs)
{
	if (!rs)
		return;
	for (size_t i = 0; i < rs->n_rules; i++)
		eg_rule_free(&rs->rules[i]);
	free(rs->rules);
	for (size_t i = 0; i < rs->n_settings; i++)
		free_setting(&rs->settings[i]);
	free(rs->settings);
	for (size_t i = 0; i < rs->n_files; i++)
		free(rs->files[i]);
	free(rs->files);
	free(rs->files_protected);
	memset(rs, 0, sizeof(*rs));
}
