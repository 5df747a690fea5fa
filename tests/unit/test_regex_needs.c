/*
 * What a regex needs of its subject (lib/regex_needs.c): the literals it
 * finds for known patterns, none where it cannot be sure, and, the point
 * of it all, never a literal a subject PCRE2 matches lacks: checked against
 * PCRE2 itself on random patterns and subjects, and on every regex of the
 * shipped packs with their examples and mutations of them.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "execguard.h"
#include "policy_block.h"
#include "regex_needs.h"

#ifndef EG_SOURCE_DIR
#error "EG_SOURCE_DIR must be defined by the build"
#endif

static struct eg_needs needs_of(const char *re)
{
	struct eg_needs n;
	memset(&n, 0x5a, sizeof n);
	eg_regex_needs(re, strlen(re), &n);
	return n;
}

/* The literals as one string, sorted, joined by '|' ("" for none). */
static void show(const struct eg_needs *n, char *out, size_t size)
{
	char lits[EG_NEEDS_MAX][EG_NEED_LEN_MAX + 1];
	for (unsigned i = 0; i < n->n; i++) {
		memcpy(lits[i], n->lit[i], n->len[i]);
		lits[i][n->len[i]] = '\0';
	}
	for (unsigned i = 1; i < n->n; i++)
		for (unsigned k = i; k > 0 && strcmp(lits[k - 1], lits[k]) > 0; k--) {
			char t[EG_NEED_LEN_MAX + 1];
			memcpy(t, lits[k], sizeof t);
			memcpy(lits[k], lits[k - 1], sizeof t);
			memcpy(lits[k - 1], t, sizeof t);
		}
	out[0] = '\0';
	for (unsigned i = 0; i < n->n; i++) {
		if (i > 0)
			strlcat(out, "|", size);
		strlcat(out, lits[i], size);
	}
}

static void expect_needs(const char *const (*cases)[2], size_t n_cases)
{
	for (size_t i = 0; i < n_cases; i++) {
		struct eg_needs n = needs_of(cases[i][0]);
		char got[512];
		cr_assert_leq(n.n, EG_NEEDS_MAX);
		show(&n, got, sizeof got);
		cr_expect_str_eq(got, cases[i][1], "needs of /%s/: \"%s\", expected \"%s\"", cases[i][0], got,
		    cases[i][1]);
	}
}

Test(regex_needs, literals_of_known_shapes)
{
	static const char *const cases[][2] = {
		{ "destroy", "destroy" },
		{ "(?:^|\\s)destroy(?:\\s|$)", "destroy" },
		{ "(?:^|\\s)(?:delete-vpc|delete-subnet)(?:\\s|$)", "delete-subnet|delete-vpc" },
		/* the longest run of a sequence is taken */
		{ "rb\\s(?:.*\\s)?s3://(?<target>[^/\\s]+)", "s3://" },
		{ "^(?>(?:-C|-c|--git-dir)\\s+\\S+\\s+|-\\S+\\s+)*+push(?:\\s|$)", "push" },
		{ "reset\\s(?:.*\\s)?--hard(?:\\s|$)", "--hard" },
		/* escaped punctuation is literal; \t is a tab */
		{ "a\\.b\\-c", "a.b-c" },
		{ "x\\ty", "x\ty" },
		/* quantifiers: optional parts are not needed; a repeated
		 * character ends the run and starts the next with it */
		{ "ab?cd", "cd" },
		{ "colou?r", "colo" },
		{ "xa+yz", "ayz" },
		{ "abc{2,}def", "cdef" },
		{ "abc{0,3}de", "ab" },
		{ "(?:foo)+bar", "foo" },
		{ "(?:foo)*bar", "bar" },
		{ "(?:foo)?ba", "ba" },
		/* alternatives: one of each; a longer literal that contains
		 * another adds nothing */
		{ "push|pull", "pull|push" },
		{ "delete|delete-all", "delete" },
		{ "(?:a|bb)(?:ccc|dddd)", "ccc|dddd" },
		/* lookarounds: a positive one is needed, a negative one not */
		{ "(?=.*--force)x", "--force" },
		{ "(?<=prod)x", "prod" },
		{ "(?!.*--dry-run)delete", "delete" },
		{ "^(?!.*(?:--help|-h)(?:\\s|$))", "" },
		/* named groups of all three spellings */
		{ "(?<t>abc)(?'u'de)(?P<v>f)", "abc" },
		/* a long run is cut: its first part is needed too */
		{ "abcdefghijklmnopqrstuvwxyz0123456789", "abcdefghijklmnopqrstuvwxyz012345" },
		/* nothing known */
		{ "", "" },
		{ ".*", "" },
		{ "\\s+", "" },
		{ "a|\\d", "" },
		{ "a?", "" },
		{ "(?:abc)?", "" },
		/* not understood exactly: none at all */
		{ "(?i)destroy", "" },
		{ "(?i:destroy)", "" },
		{ "(?x) destroy", "" },
		{ "(a)\\1destroy", "" },
		{ "\\Qdestroy\\E", "" },
		{ "\\x41destroy", "" },
		{ "destroy\\N{U+41}", "" },
		{ "(*UTF)destroy", "" },
		{ "destroy(?R)?", "" },
		{ "(?(1)a|b)destroy", "" },
		/* a quantifier after a comment applies to what is before it
		 * (found by fuzz_needs: "yz" was said to be needed) */
		{ "ab(?#note)cd", "" },
		{ "[]a]x(?<t>yz)(?#c)?w\\.", "" },
		{ "destroy{,3}", "" },
		{ "destroy{x}", "" },
		{ "destroy}", "" },
		{ "destroy]", "" },
		{ "d\xc3\xa9truire", "" },
		{ "destroy)", "" },
		{ "(destroy", "" },
		{ "destroy[abc", "" },
		{ "a**", "" },
		{ "*a", "" },
		{ "destroy\\", "" },
	};
	expect_needs(cases, sizeof cases / sizeof cases[0]);
}

Test(regex_needs, classes_are_skipped_whole)
{
	/* a ']' first, an escaped one, POSIX classes and \p{..} inside */
	static const char *const cases[][2] = {
		{ "[]a]xyz", "xyz" },
		{ "[^]a]xyz", "xyz" },
		{ "[a\\]]xyz", "xyz" },
		{ "[[:alpha:]]xyz", "xyz" },
		{ "[\\p{L}]xyz\\p{Lu}q", "xyz" },
		{ "[|)(]xyz", "xyz" },
		/* "[:" is a POSIX class only if ":]" comes before any ']': here
		 * the class ends at "b]", and "|" is an alternation */
		{ "[a[:b]|c:]]xyz", "" },
		{ "[a[:b]xyz", "xyz" },
		/* \c takes the next character, even a ']' */
		{ "[\\c]xyz[a]", "" },
	};
	expect_needs(cases, sizeof cases / sizeof cases[0]);
}

/* ------------------------------------------------------------ soundness */

static pcre2_code *compile(const char *re)
{
	int err;
	PCRE2_SIZE off;
	return pcre2_compile((PCRE2_SPTR)re, PCRE2_ZERO_TERMINATED, EG_COMPILE_FLAGS, &err, &off, NULL);
}

static bool matches(const pcre2_code *code, const char *s, size_t len)
{
	pcre2_match_data *md = pcre2_match_data_create_from_pattern(code, NULL);
	int rc = pcre2_match(code, (PCRE2_SPTR)s, len, 0, 0, md, NULL);
	pcre2_match_data_free(md);
	return rc >= 0;
}

static bool met(const struct eg_needs *n, const char *s, size_t len)
{
	if (n->n == 0)
		return true;
	for (unsigned i = 0; i < n->n; i++)
		if (memmem(s, len, n->lit[i], n->len[i]) != NULL)
			return true;
	return false;
}

static unsigned long rng = 88172645463325252ul;

static unsigned rnd(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % n);
}

/* A random pattern over a small alphabet, from most of the syntax the
 * extractor reads: literals, escapes, classes, groups of every kind,
 * alternation, quantifiers (greedy, lazy, possessive), anchors. */
static void gen(char *out, size_t size, int depth)
{
	static const char *const atoms[] = { "a", "b", "c", "-", " ", "\\-", "\\.", ".", "\\s", "\\S",
		"[ab]", "[^a]", "\\d", "^", "$", "\\b", "\\w", "\\t", "ab", "ba", "cab", "(?#c)",
		"[a[:b]", "[:]", ":]", "[[:digit:]]" };
	static const char *const quants[] = { "", "", "", "", "?", "*", "+", "{2}", "{1,2}", "{0,1}",
		"{2,}", "+?", "*+", "??" };
	static const char *const opens[] = { "(", "(?:", "(?>", "(?=", "(?!", "(?<t>", "(?|" };
	unsigned parts = 1 + rnd(5);
	for (unsigned i = 0; i < parts; i++) {
		unsigned pick = rnd(10);
		if (pick == 0 && depth < 3) {
			char inner[256] = "";
			gen(inner, sizeof inner, depth + 1);
			const char *open = opens[rnd(sizeof opens / sizeof opens[0])];
			/* a named group once only (duplicate names do not compile) */
			if (strcmp(open, "(?<t>") == 0 && strstr(out, "(?<t>") != NULL)
				open = "(";
			strlcat(out, open, size);
			strlcat(out, inner, size);
			strlcat(out, ")", size);
		} else if (pick == 1 && depth > 0) {
			strlcat(out, "|", size);
			continue;
		} else {
			strlcat(out, atoms[rnd(sizeof atoms / sizeof atoms[0])], size);
		}
		strlcat(out, quants[rnd(sizeof quants / sizeof quants[0])], size);
	}
	if (depth == 0 && rnd(4) == 0) {
		strlcat(out, "|", size);
		gen(out, size, 1);
	}
}

Test(regex_needs, never_a_literal_a_match_lacks_random)
{
	static const char alphabet[] = "abc- .\t1";
	unsigned long patterns = 0, with_needs = 0, matched = 0, skipped = 0;
	for (int i = 0; i < 6000; i++) {
		char re[1024] = "";
		gen(re, sizeof re, 0);
		pcre2_code *code = compile(re);
		if (code == NULL)
			continue;
		patterns++;
		struct eg_needs n = needs_of(re);
		with_needs += n.n > 0;
		for (int k = 0; k < 60; k++) {
			char s[24];
			size_t len = rnd(sizeof s);
			for (size_t j = 0; j < len; j++)
				s[j] = alphabet[rnd(sizeof alphabet - 1)];
			bool m = matches(code, s, len), ok = met(&n, s, len);
			matched += m;
			skipped += !ok;
			cr_assert(!m || ok, "/%s/ matches \"%.*s\", which lacks every literal it is said to need",
			    re, (int)len, s);
		}
		pcre2_code_free(code);
	}
	fprintf(stderr, "random: %lu patterns, %lu with literals; %lu matches, %lu subjects ruled out\n",
	    patterns, with_needs, matched, skipped);
	/* the test tests something: patterns with literals, matches, and
	 * subjects the literals rule out */
	cr_expect_gt(with_needs, patterns / 4);
	cr_expect_gt(matched, 10000);
	cr_expect_gt(skipped, 10000);
}

/* Mutations of a subject: a byte dropped, doubled or replaced, words swapped. */
static size_t mutate(const char *s, size_t len, char *out, size_t size)
{
	static const char bytes[] = " -=/.:abcdefxyz0";
	size_t n = len < size - 2 ? len : size - 2, at = len ? rnd((unsigned)len) : 0;
	memcpy(out, s, n);
	switch (rnd(3)) {
	case 0: /* drop */
		if (n > 0) {
			memmove(out + at, out + at + 1, n - at - 1);
			n--;
		}
		break;
	case 1: /* insert */
		memmove(out + at + 1, out + at, n - at);
		out[at] = bytes[rnd(sizeof bytes - 1)];
		n++;
		break;
	default: /* replace */
		if (n > 0)
			out[at] = bytes[rnd(sizeof bytes - 1)];
		break;
	}
	return n;
}

Test(regex_needs, never_a_literal_a_match_lacks_packs)
{
	struct eg_sources src = { .packs_dir = EG_SOURCE_DIR "/patterns" };
	struct eg_ruleset rs = { 0 };
	struct eg_diags d = { 0 };
	cr_assert_eq(eg_ruleset_load(&rs, &src, &d), 0);
	/* subjects: every example and safe line, whole and without its first
	 * word (a rule's regexes see the arguments) */
	size_t n_subj = 0, cap = 0;
	char **subj = NULL;
	for (size_t r = 0; r < rs.n_rules; r++) {
		const struct eg_rule *rule = &rs.rules[r];
		for (size_t k = 0; k < rule->n_examples + rule->n_safes; k++) {
			const char *t = k < rule->n_examples ? rule->examples[k].text :
			    rule->safes[k - rule->n_examples].text;
			const char *sp = strchr(t, ' ');
			if (n_subj + 2 > cap) {
				cap = cap ? cap * 2 : 256;
				subj = realloc(subj, cap * sizeof *subj);
				cr_assert_not_null(subj);
			}
			subj[n_subj++] = strdup(t);
			subj[n_subj++] = strdup(sp ? sp + 1 : "");
		}
	}
	unsigned long regexes = 0, with_needs = 0, matched = 0, ruled_out = 0;
	for (size_t r = 0; r < rs.n_rules; r++) {
		const struct eg_rule *rule = &rs.rules[r];
		const struct eg_pattern *lists[] = { rule->match, rule->unless, rule->cwd };
		const size_t counts[] = { rule->n_match, rule->n_unless, rule->n_cwd };
		for (size_t l = 0; l < 3; l++)
			for (size_t i = 0; i < counts[l]; i++) {
				const char *re = lists[l][i].re;
				pcre2_code *code = compile(re);
				cr_assert_not_null(code, "%s: /%s/", rule->id, re);
				struct eg_needs n = needs_of(re);
				regexes++;
				with_needs += n.n > 0;
				for (size_t s = 0; s < n_subj; s++)
					for (int m = 0; m < 12; m++) {
						char buf[4096];
						size_t len = strlen(subj[s]);
						const char *text = subj[s];
						if (m > 0) {
							len = mutate(subj[s], len, buf, sizeof buf);
							text = buf;
						}
						bool hit = matches(code, text, len), ok = met(&n, text, len);
						matched += hit;
						ruled_out += !ok;
						cr_assert(!hit || ok, "%s: /%s/ matches \"%.*s\" without its literals",
						    rule->id, re, (int)len, text);
					}
				pcre2_code_free(code);
			}
	}
	fprintf(stderr, "packs: %lu regexes, %lu with literals; %lu matches, %lu subjects ruled out\n",
	    regexes, with_needs, matched, ruled_out);
	cr_expect_gt(with_needs, regexes / 2, "most of the packs' regexes need a literal");
	cr_expect_gt(matched, 1000);
	for (size_t s = 0; s < n_subj; s++)
		free(subj[s]);
	free(subj);
	eg_ruleset_free(&rs);
	eg_diags_free(&d);
}

/* ------------------------------------------------------------ in the block */

/* Where a check reads the literals: right after its program's name, in one
 * place of the strings, even among a thousand other programs whose names
 * sort before and after it and whose rules need the same "--help". */
Test(regex_needs, literals_lie_beside_the_programs_name)
{
	size_t cap = 1u << 20, len = 0;
	char *text = malloc(cap);
	cr_assert_not_null(text);
	for (int i = 0; i < 1000; i++)
		len += (size_t)snprintf(text + len, cap - len,
		    "rule r.%c%d\n  program %c%04d\n  match (?:^|\\s)erase-%d(?:\\s|$)\n"
		    "  unless (?:^|\\s)--help(?:\\s|$)\n  action confirm\n  reason r\n"
		    "  example %c%04d erase-%d\n\n",
		    i < 500 ? 'a' : 'z', i, i < 500 ? 'a' : 'z', i, i, i < 500 ? 'a' : 'z', i, i);
	len += (size_t)snprintf(text + len, cap - len,
	    "rule m.wipe\n  program mmm\n  match (?:^|\\s)wipe(?:\\s|$)\n"
	    "  unless (?:^|\\s)--help(?:\\s|$)\n  action confirm\n  reason r\n  example mmm wipe\n");
	struct eg_ruleset rs = { 0 };
	struct eg_diags d = { 0 };
	cr_assert_eq(eg_ruleset_parse_text(&rs, "many.rules", text, len, true, &d), 0);
	struct eg_policy *p = eg_policy_build(&rs, &d);
	cr_assert_not_null(p);
	const struct eg_blk_bucket *b;
	cr_assert_eq(eg_policy_find(p, "mmm", &b), 1);
	const struct eg_blk_rule *r = &p->rules[p->u32[b->rules_first]];
	uint32_t ids[] = { p->u32[r->match_first], p->u32[r->unless_first] };
	const char *want[] = { "wipe", "--help" };
	for (int k = 0; k < 2; k++) {
		const struct eg_blk_regex *rx = &p->regex[ids[k]];
		cr_assert_eq(rx->n_needs, 1);
		uint32_t off = p->u32[rx->needs_first];
		cr_expect_str_eq(p->strings + off, want[k]);
		/* after the name, or a copy a neighbour's rules use, just before */
		uint32_t dist = off > b->name ? off - b->name : b->name - off;
		cr_expect_lt(dist, 512u, "\"%s\" at string offset %u, mmm's name at %u", want[k], off,
		    b->name);
		/* the rule's lists of them beside its own */
		cr_expect_lt(rx->needs_first > r->unless_first ? rx->needs_first - r->unless_first :
		    r->unless_first - rx->needs_first, 8u);
	}
	eg_policy_free(p);
	eg_ruleset_free(&rs);
	eg_diags_free(&d);
	free(text);
}
