/* The literals a regex needs of its subject. See regex_needs.h. */
#include "regex_needs.h"

#include <stdbool.h>
#include <string.h>

/* Deeper nesting than this gives no literals (the builder's stack). */
#define NEEDS_DEPTH_MAX 24

struct parser {
	const char *s, *end;
	int depth;
	bool bail; /* something not understood: the whole pattern gives none */
};

/* What one atom of a sequence is. */
enum atom { ATOM_LIT, ATOM_CLASS, ATOM_ASSERT, ATOM_GROUP };

static bool contains(const char *hay, size_t hl, const char *needle, size_t nl)
{
	for (size_t i = 0; i + nl <= hl; i++)
		if (memcmp(hay + i, needle, nl) == 0)
			return true;
	return false;
}

/* Add one literal to an either-of set: a literal that contains one already
 * there adds nothing (where it is, that one is too); one it is contained
 * in goes. False when the set would grow too large. */
static bool set_add(struct eg_needs *set, const char *lit, size_t len)
{
	for (unsigned i = 0; i < set->n; i++)
		if (contains(lit, len, set->lit[i], set->len[i]))
			return true;
	unsigned k = 0;
	for (unsigned i = 0; i < set->n; i++)
		if (!contains(set->lit[i], set->len[i], lit, len)) {
			if (k != i) {
				memcpy(set->lit[k], set->lit[i], set->len[i]);
				set->len[k] = set->len[i];
			}
			k++;
		}
	set->n = k;
	if (set->n == EG_NEEDS_MAX)
		return false;
	memcpy(set->lit[set->n], lit, len);
	set->len[set->n++] = (unsigned char)len;
	return true;
}

static unsigned shortest(const struct eg_needs *set)
{
	unsigned m = EG_NEED_LEN_MAX;
	for (unsigned i = 0; i < set->n; i++)
		if (set->len[i] < m)
			m = set->len[i];
	return m;
}

/* Is `a` a better requirement than `b`: rarer strings, fewer of them? */
static bool better(const struct eg_needs *a, const struct eg_needs *b)
{
	if (a->n == 0)
		return false;
	if (b->n == 0)
		return true;
	unsigned sa = shortest(a), sb = shortest(b);
	return sa != sb ? sa > sb : a->n < b->n;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_alnum(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* A decimal number of a quantifier; false if none. */
static bool number(struct parser *p, unsigned *v)
{
	if (p->s >= p->end || !is_digit(*p->s))
		return false;
	unsigned n = 0;
	while (p->s < p->end && is_digit(*p->s)) {
		if (n < 100000u)
			n = n * 10u + (unsigned)(*p->s - '0');
		p->s++;
	}
	*v = n;
	return true;
}

/* The quantifier after an atom, if any: how often it must occur at least,
 * and whether it may occur more than once. */
static void quantifier(struct parser *p, unsigned *min, bool *many)
{
	*min = 1;
	*many = false;
	if (p->s >= p->end)
		return;
	switch (*p->s) {
	case '?':
		*min = 0;
		p->s++;
		break;
	case '*':
		*min = 0;
		*many = true;
		p->s++;
		break;
	case '+':
		*many = true;
		p->s++;
		break;
	case '{': {
		/* Only {n}, {n,} and {n,m}: any other brace is literal text to
		 * one PCRE2 and a quantifier to another ({,m} since 10.43). */
		p->s++;
		unsigned lo, hi;
		if (!number(p, &lo)) {
			p->bail = true;
			return;
		}
		hi = lo;
		if (p->s < p->end && *p->s == ',') {
			p->s++;
			if (!number(p, &hi))
				hi = lo + 2; /* {n,}: unbounded */
		}
		if (p->s >= p->end || *p->s != '}' || hi < lo) {
			p->bail = true;
			return;
		}
		p->s++;
		*min = lo;
		*many = hi > 1;
		break;
	}
	default:
		return;
	}
	if (p->s < p->end && (*p->s == '?' || *p->s == '+'))
		p->s++; /* lazy or possessive: the same strings */
	if (p->s < p->end && (*p->s == '?' || *p->s == '*' || *p->s == '+' || *p->s == '{'))
		p->bail = true; /* a quantifier on a quantifier */
}

/* Skip to just past the next `close`; bail if there is none. */
static void skip_past(struct parser *p, char close)
{
	while (p->s < p->end && *p->s != close)
		p->s++;
	if (p->s >= p->end)
		p->bail = true;
	else
		p->s++;
}

/* After "[:" (or "[." or "[=", `term` the ':'), is there a POSIX class,
 * as PCRE2's check_posix_syntax decides: its closing ":]" before any ']'
 * or "[:"? Then *after is just past it. Otherwise the '[' is a member like
 * any other, and the class goes on. */
static bool posix_class(const char *s, const char *end, char term, const char **after)
{
	for (; end - s >= 2; s++) {
		if (s[0] == '\\' && (s[1] == ']' || s[1] == '\\'))
			s++;
		else if ((s[0] == '[' && s[1] == term) || s[0] == ']')
			return false;
		else if (s[0] == term && s[1] == ']') {
			*after = s + 2;
			return true;
		}
	}
	return false;
}

/* Skip a character class after its '['. */
static void skip_class(struct parser *p)
{
	if (p->s < p->end && *p->s == '^')
		p->s++;
	if (p->s < p->end && *p->s == ']')
		p->s++; /* a ']' first is a member */
	while (p->s < p->end) {
		char c = *p->s++;
		if (c == ']')
			return;
		if (c == '\\') {
			/* \Q..\E quotes; \c takes the next character, ']' too */
			if (p->s >= p->end || *p->s == 'Q' || *p->s == 'E' || *p->s == 'c') {
				p->bail = true;
				return;
			}
			char e = *p->s++;
			if ((e == 'x' || e == 'o' || e == 'p' || e == 'P' || e == 'N') && p->s < p->end &&
			    *p->s == '{') {
				skip_past(p, '}');
				if (p->bail)
					return;
			}
		} else if (c == '[' && p->s < p->end && (*p->s == ':' || *p->s == '.' || *p->s == '=')) {
			const char *after;
			if (posix_class(p->s + 1, p->end, *p->s, &after))
				p->s = after;
		}
	}
	p->bail = true; /* unterminated */
}

/* An escape after its '\': a literal character (*lit), a class or an
 * assertion. */
static enum atom escape(struct parser *p, char *lit)
{
	if (p->s >= p->end) {
		p->bail = true;
		return ATOM_ASSERT;
	}
	char c = *p->s++;
	if ((unsigned char)c < 0x80 && !is_alnum(c)) {
		*lit = c;
		return ATOM_LIT;
	}
	switch (c) {
	case 'd': case 'D': case 's': case 'S': case 'w': case 'W':
	case 'h': case 'H': case 'v': case 'V': case 'R': case 'X':
		return ATOM_CLASS;
	case 'N':
		if (p->s < p->end && *p->s == '{')
			p->bail = true; /* \N{U+...}: a character */
		return ATOM_CLASS;
	case 'p': case 'P':
		if (p->s < p->end && *p->s == '{') {
			skip_past(p, '}');
		} else if (p->s < p->end) {
			p->s++;
		} else {
			p->bail = true;
		}
		return ATOM_CLASS;
	case 'b': case 'B': case 'A': case 'z': case 'Z': case 'G': case 'K':
		return ATOM_ASSERT;
	case 't': *lit = '\t'; return ATOM_LIT;
	case 'n': *lit = '\n'; return ATOM_LIT;
	case 'r': *lit = '\r'; return ATOM_LIT;
	case 'f': *lit = '\f'; return ATOM_LIT;
	case 'e': *lit = '\033'; return ATOM_LIT;
	case 'a': *lit = '\a'; return ATOM_LIT;
	default:
		/* backreferences, \x, \o, \c, \g, \k, \Q, \E, \C, ...: not
		 * worth getting exactly right */
		p->bail = true;
		return ATOM_ASSERT;
	}
}

static void alternation(struct parser *p, struct eg_needs *out);

/* A group after its '(': its needs (none for a negative assertion). */
static void group(struct parser *p, struct eg_needs *out)
{
	bool negative = false;
	out->n = 0;
	if (p->s < p->end && *p->s == '*') {
		p->bail = true; /* (*VERB) */
		return;
	}
	if (p->s < p->end && *p->s == '?') {
		p->s++;
		char c = p->s < p->end ? *p->s : '\0';
		char c2 = p->s + 1 < p->end ? p->s[1] : '\0';
		if (c == ':' || c == '>' || c == '|' || c == '=') {
			p->s++;
		} else if (c == '!') {
			negative = true;
			p->s++;
		} else if (c == '<' && (c2 == '=' || c2 == '!')) {
			negative = c2 == '!';
			p->s += 2;
		} else if (c == '<' || c == '\'' || (c == 'P' && c2 == '<')) {
			/* a named group: (?<name>, (?'name', (?P<name> */
			char close = c == '\'' ? '\'' : '>';
			p->s += c == 'P' ? 2 : 1;
			const char *name = p->s;
			while (p->s < p->end && (is_alnum(*p->s) || *p->s == '_'))
				p->s++;
			if (p->s == name || p->s >= p->end || *p->s != close) {
				p->bail = true;
				return;
			}
			p->s++;
		} else {
			p->bail = true; /* options, recursion, conditions, ... */
			return;
		}
	}
	if (++p->depth > NEEDS_DEPTH_MAX) {
		p->bail = true;
		return;
	}
	alternation(p, out);
	p->depth--;
	if (p->s >= p->end || *p->s != ')') {
		p->bail = true;
		return;
	}
	p->s++;
	if (negative)
		out->n = 0;
}

/* The run of literal characters being read, a needed string once it ends. */
struct run {
	char s[EG_NEED_LEN_MAX];
	size_t len;
	bool full; /* cut: what follows is not next to it */
};

static void run_end(struct run *r, struct eg_needs *best)
{
	if (r->len > 0) {
		struct eg_needs one = { .n = 1, .len = { (unsigned char)r->len } };
		memcpy(one.lit[0], r->s, r->len);
		if (better(&one, best))
			*best = one;
	}
	r->len = 0;
	r->full = false;
}

static void run_add(struct run *r, char c)
{
	if (r->len == EG_NEED_LEN_MAX)
		r->full = true;
	if (!r->full)
		r->s[r->len++] = c;
}

/* A sequence, up to '|', ')' or the end: the best of the needs of its
 * parts (each is needed, one is enough to test). */
static void sequence(struct parser *p, struct eg_needs *best)
{
	struct run run = { .len = 0 };
	best->n = 0;
	while (!p->bail && p->s < p->end && *p->s != '|' && *p->s != ')') {
		char c = *p->s++, lit = c;
		enum atom kind;
		struct eg_needs inner = { .n = 0 };
		switch (c) {
		case '(':
			kind = ATOM_GROUP;
			group(p, &inner);
			break;
		case '[':
			kind = ATOM_CLASS;
			skip_class(p);
			break;
		case '.':
			kind = ATOM_CLASS;
			break;
		case '^':
		case '$':
			kind = ATOM_ASSERT;
			break;
		case '\\':
			kind = escape(p, &lit);
			break;
		case '*': case '+': case '?': case '{': case ']': case '}':
			p->bail = true; /* nothing to repeat, or a brace or bracket taken literally */
			return;
		default:
			if ((unsigned char)c >= 0x80) {
				p->bail = true; /* a character of more than one byte */
				return;
			}
			kind = ATOM_LIT;
			break;
		}
		unsigned min;
		bool many;
		quantifier(p, &min, &many);
		if (p->bail)
			return;
		if (kind != ATOM_LIT) {
			run_end(&run, best);
			if (kind == ATOM_GROUP && min > 0 && better(&inner, best))
				*best = inner;
			continue;
		}
		if (min == 0) {
			run_end(&run, best);
			continue;
		}
		run_add(&run, lit);
		if (many) {
			/* more of it may follow: what follows is next to its last one */
			run_end(&run, best);
			run_add(&run, lit);
		}
	}
	run_end(&run, best);
}

/* Alternatives: one of them matched, so the needs of all together (none if
 * one needs nothing). */
static void alternation(struct parser *p, struct eg_needs *out)
{
	sequence(p, out);
	bool none = out->n == 0;
	while (!p->bail && p->s < p->end && *p->s == '|') {
		p->s++;
		struct eg_needs branch;
		sequence(p, &branch);
		if (branch.n == 0)
			none = true;
		for (unsigned i = 0; !none && i < branch.n; i++)
			if (!set_add(out, branch.lit[i], branch.len[i]))
				none = true;
	}
	if (none)
		out->n = 0;
}

void eg_regex_needs(const char *pattern, size_t len, struct eg_needs *out)
{
	struct parser p = { .s = pattern, .end = pattern + len };
	alternation(&p, out);
	if (p.bail || p.s != p.end)
		out->n = 0; /* not understood, or a ')' too many */
}
