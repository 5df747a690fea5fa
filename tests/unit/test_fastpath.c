/*
 * The fast path stays fast, checked without a clock: with the full default
 * packs loaded, a program no rule names performs no PCRE2 compile, no PCRE2
 * match and no heap allocation, and maps no compile arena. The counters are
 * shown to work on a matching command. Also: a damaged block (the parts that
 * are validated lazily, when a lookup reaches them) fails closed.
 *
 * pcre2_match_8 and pcre2_compile_8 are wrapped at link time (--wrap, see
 * tests/meson.build); the allocator is interposed as in test_nomalloc.c.
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

#include "alloc_count.h"
#include "policy_copy.h"

static __thread unsigned long n_match, n_compile;

#define WRAP __attribute__((visibility("default")))
int __real_pcre2_match_8(const pcre2_code *, PCRE2_SPTR, PCRE2_SIZE, PCRE2_SIZE, uint32_t,
    pcre2_match_data *, pcre2_match_context *);
WRAP int __wrap_pcre2_match_8(const pcre2_code *, PCRE2_SPTR, PCRE2_SIZE, PCRE2_SIZE, uint32_t,
    pcre2_match_data *, pcre2_match_context *);
pcre2_code *__real_pcre2_compile_8(PCRE2_SPTR, PCRE2_SIZE, uint32_t, int *, PCRE2_SIZE *,
    pcre2_compile_context *);
WRAP pcre2_code *__wrap_pcre2_compile_8(PCRE2_SPTR, PCRE2_SIZE, uint32_t, int *, PCRE2_SIZE *,
    pcre2_compile_context *);

WRAP int __wrap_pcre2_match_8(const pcre2_code *c, PCRE2_SPTR s, PCRE2_SIZE l, PCRE2_SIZE o, uint32_t f,
    pcre2_match_data *md, pcre2_match_context *mc)
{
	n_match += counting;
	return __real_pcre2_match_8(c, s, l, o, f, md, mc);
}

WRAP pcre2_code *__wrap_pcre2_compile_8(PCRE2_SPTR p, PCRE2_SIZE l, uint32_t f, int *e, PCRE2_SIZE *eo,
    pcre2_compile_context *cc)
{
	n_compile += counting;
	return __real_pcre2_compile_8(p, l, f, e, eo, cc);
}

static struct eg_policy *load_packs(void)
{
	struct eg_sources src = { .packs_dir = EG_SOURCE_DIR "/patterns" };
	struct eg_ruleset rs = { 0 };
	struct eg_diags d = { 0 };
	cr_assert_eq(eg_ruleset_load(&rs, &src, &d), 0);
	struct eg_policy *p = eg_policy_build(&rs, &d);
	cr_assert_not_null(p);
	cr_assert_gt(eg_policy_rule_count(p), 50, "the full default packs");
	eg_ruleset_free(&rs);
	eg_diags_free(&d);
	return p;
}

static enum eg_action check(const struct eg_policy *p, struct eg_check_scratch *sc,
    char *const *argv, const char *exe, struct eg_check_result *res)
{
	struct eg_check_input in = { .argv = argv, .exe_path = exe, .cwd = "/tmp" };
	n_match = n_compile = n_alloc = 0;
	counting = 1;
	enum eg_action a = eg_check(p, &in, sc, res);
	counting = 0;
	return a;
}

Test(fastpath, non_matching_exec_touches_no_regex_and_no_heap)
{
	struct eg_policy *p = load_packs();
	struct eg_check_scratch *sc = malloc(sizeof *sc);
	struct eg_check_result res;
	char *const programs[][3] = {
		{ "/bin/true", NULL },
		{ "cc", "-O2", NULL },
		{ "/usr/bin/grep", "-r", NULL },
		{ "make", "-j8", NULL },
	};
	for (size_t i = 0; i < sizeof programs / sizeof programs[0]; i++) {
		counting = 1;
		bool may = eg_check_may_apply(p, programs[i][0], programs[i][0]);
		counting = 0;
		cr_expect_not(may, "%s: the program index rules it out", programs[i][0]);
		cr_expect_eq(check(p, sc, programs[i], NULL, &res), EG_ACT_NONE);
		cr_expect_eq(n_match, 0, "%s: %lu PCRE2 matches", programs[i][0], n_match);
		cr_expect_eq(n_compile, 0, "%s: %lu PCRE2 compiles", programs[i][0], n_compile);
#ifdef COUNTS_ALLOCATIONS
		cr_expect_eq(n_alloc, 0, "%s: %lu allocator calls", programs[i][0], n_alloc);
#endif
	}
	cr_expect_not(eg_regex_cache_used(p), "no compile arena was mapped");

	/* The counters count: a command the packs index runs regexes, decoded
	 * from the block's stored codes (no compile) ... */
	char *const tf[] = { "terraform", "destroy", NULL };
	cr_expect_eq(check(p, sc, tf, NULL, &res), EG_ACT_CONFIRM);
	cr_expect_gt(n_match, 0);
	cr_expect_eq(n_compile, 0, "stored codes: %lu PCRE2 compiles", n_compile);
	/* The first such check keeps the codes in its own scratch; the next
	 * makes the regex memory. */
	cr_expect_not(eg_regex_cache_used(p), "a first check mapped no regex memory");
	cr_expect_eq(check(p, sc, tf, NULL, &res), EG_ACT_CONFIRM);
	cr_expect(eg_regex_cache_used(p));

	/* ... or compiled, in a block without them. */
	unsigned char *mem;
	struct eg_policy *q = copy_policy(p, &mem);
	((struct eg_blk_header *)mem)->rxhead_off = 0;
	cr_expect_eq(check(q, sc, tf, NULL, &res), EG_ACT_CONFIRM);
	cr_expect_gt(n_match, 0);
	cr_expect_gt(n_compile, 0);
	eg_policy_free(q);
	free(mem);
	free(sc);
	eg_policy_free(p);
}

/* Set every regex's list of needed literals (regex_needs.h) to n entries
 * starting at `first`. */
static void set_needs(struct eg_policy *q, unsigned char *mem, uint32_t first, uint32_t n)
{
	struct eg_blk_regex *rx = (struct eg_blk_regex *)(mem + q->h->regex_off);
	for (uint32_t i = 0; i < q->h->n_regex; i++) {
		if (first != UINT32_MAX)
			rx[i].needs_first = first;
		rx[i].n_needs = n;
	}
}

/* A program the packs index, with arguments that hold none of the literals
 * its rules' regexes need (regex_needs.h): the check runs no PCRE2 match,
 * decodes or compiles nothing and maps no regex memory. Without the lists,
 * or with damaged ones, the same checks run the regexes (the counters
 * count), and decide the same. */
Test(fastpath, arguments_without_needed_literals_run_no_regex)
{
	struct eg_policy *p = load_packs();
	struct eg_check_scratch *sc = malloc(sizeof *sc);
	struct eg_check_result res;
	char *const cmds[][4] = {
		{ "git", "status", NULL },
		{ "git", "log", "--oneline", NULL },
		{ "git", "commit", "-m", "wip" },
		{ "terraform", "plan", NULL },
	};
	const size_t n_cmds = sizeof cmds / sizeof cmds[0];
	for (size_t i = 0; i < n_cmds; i++) {
		cr_expect_eq(check(p, sc, cmds[i], NULL, &res), EG_ACT_NONE, "%s %s", cmds[i][0], cmds[i][1]);
		cr_expect_eq(n_match, 0, "%s %s: %lu PCRE2 matches", cmds[i][0], cmds[i][1], n_match);
		cr_expect_eq(n_compile, 0, "%s %s: %lu PCRE2 compiles", cmds[i][0], cmds[i][1], n_compile);
	}
	cr_expect_not(eg_regex_cache_used(p), "no regex memory was mapped");
	char *const push[] = { "git", "push", "--force", NULL };
	cr_expect_eq(check(p, sc, push, NULL, &res), EG_ACT_CONFIRM, "git push --force is still asked");
	cr_expect_gt(n_match, 0);

	for (int how = 0; how < 3; how++) {
		unsigned char *mem;
		struct eg_policy *q = copy_policy(p, &mem);
		if (how == 0)
			set_needs(q, mem, UINT32_MAX, 0); /* none known */
		else if (how == 1)
			set_needs(q, mem, UINT32_MAX, EG_NEEDS_MAX + 1); /* too many */
		else
			set_needs(q, mem, q->h->n_u32 - 1, 2); /* past the pool */
		for (size_t i = 0; i < n_cmds; i++) {
			cr_expect_eq(check(q, sc, cmds[i], NULL, &res), EG_ACT_NONE);
			if (i == 0)
				cr_expect_gt(n_match, 0, "lists %d: %s %s runs its rules' regexes", how,
				    cmds[i][0], cmds[i][1]);
		}
		cr_expect_eq(check(q, sc, push, NULL, &res), EG_ACT_CONFIRM);
		eg_policy_free(q);
		free(mem);
	}

	/* A needed string that runs off the end of the strings: the regex runs. */
	unsigned char *mem;
	struct eg_policy *q = copy_policy(p, &mem);
	uint32_t *u32 = (uint32_t *)(mem + q->h->u32_off);
	mem[q->h->strings_off + q->h->strings_len - 1] = 'x';
	const struct eg_blk_regex *rx = (const struct eg_blk_regex *)(mem + q->h->regex_off);
	for (uint32_t i = 0; i < q->h->n_regex; i++)
		for (uint32_t k = 0; k < rx[i].n_needs; k++)
			u32[rx[i].needs_first + k] = q->h->strings_len - 1;
	cr_expect_eq(check(q, sc, cmds[0], NULL, &res), EG_ACT_NONE);
	cr_expect_gt(n_match, 0, "damaged strings: git status runs its rules' regexes");
	eg_policy_free(q);
	free(mem);

	/* The bounds themselves, entry by entry (a list read past them may
	 * still find strings there, and skip a regex that should run). */
	struct eg_blk_regex r = { .needs_first = p->h->n_u32 - 2, .n_needs = 2 };
	cr_expect(eg_policy_regex_needs_ok(p, &r), "the pool's last two entries");
	r.needs_first = p->h->n_u32 - 1;
	cr_expect_not(eg_policy_regex_needs_ok(p, &r), "one entry past the pool");
	r = (struct eg_blk_regex){ .needs_first = 0, .n_needs = EG_NEEDS_MAX };
	cr_expect(eg_policy_regex_needs_ok(p, &r));
	r.n_needs = EG_NEEDS_MAX + 1;
	cr_expect_not(eg_policy_regex_needs_ok(p, &r), "more than EG_NEEDS_MAX");
	const struct eg_blk_regex *first = NULL;
	for (uint32_t i = 0; i < p->h->n_regex && first == NULL; i++)
		if (p->regex[i].n_needs > 0)
			first = &p->regex[i];
	cr_assert_not_null(first);
	const char *lit;
	size_t lit_len;
	cr_expect(eg_policy_regex_need(p, first, 0, &lit, &lit_len));
	cr_expect(lit_len > 0 && lit[lit_len] == '\0');
	free(sc);
	eg_policy_free(p);
}

/* A string is sound when a NUL ends it inside the strings section, read
 * eight bytes at a time (str_len): for a reason starting at each of the
 * section's last 64 offsets, with the section's tail made of bytes without
 * a NUL (from 0 to 40 of them, so that the scan starts at every alignment
 * and runs into the end in each of its loops), the answer is the
 * byte-by-byte one. */
Test(fastpath, string_bounds_at_every_alignment)
{
	struct eg_policy *p = load_packs();
	const struct eg_blk_bucket *b;
	cr_assert_eq(eg_policy_find(p, "terraform", &b), 1);
	uint32_t rule = p->u32[b->rules_first];
	for (uint32_t tail = 0; tail <= 40; tail++) {
		unsigned char *mem;
		struct eg_policy *q = copy_policy(p, &mem);
		uint32_t len = q->h->strings_len;
		char *strs = (char *)mem + q->h->strings_off;
		for (uint32_t k = 0; k < tail; k++)
			strs[len - 1 - k] = (char)('a' + k % 26);
		struct eg_blk_rule *qr = (struct eg_blk_rule *)(mem + q->h->rules_off) + rule;
		/* the rule's other strings: the section's first, whole whatever
		 * its tail */
		uint32_t *files = (uint32_t *)(mem + q->h->files_off);
		cr_assert(memchr(strs, '\0', 16) != NULL);
		qr->id = qr->programs = files[qr->file] = 0;
		for (uint32_t off = len - 64; off < len + 3; off++) {
			qr->reason = off;
			bool want = false;
			for (uint32_t i = off; i < len && !want; i++)
				want = strs[i] == '\0';
			cr_expect_eq(eg_policy_rule_shown_ok(q, rule), want, "tail %u, reason at %u of %u", tail,
			    off, len);
		}
		eg_policy_free(q);
		free(mem);
	}
	eg_policy_free(p);
}

/* Lazily validated parts of the block, damaged one at a time: each check
 * that reaches the damage is refused, and the rest of the block still works. */
Test(fastpath, damaged_entries_fail_closed_when_reached)
{
	struct eg_policy *p = load_packs();
	struct eg_check_scratch *sc = malloc(sizeof *sc);
	struct eg_check_result res;
	char *const tf[] = { "terraform", "destroy", NULL };
	char *const ls[] = { "ls", "-l", NULL };
	const struct eg_blk_bucket *b;
	cr_assert_eq(eg_policy_find(p, "terraform", &b), 1);
	uint32_t first_rule = p->u32[b->rules_first];
	uint32_t bucket_off = (uint32_t)((const unsigned char *)b - p->base);

	for (int damage = 0; damage < 7; damage++) {
		unsigned char *mem;
		struct eg_policy *q = copy_policy(p, &mem);
		struct eg_blk_bucket *qb = (struct eg_blk_bucket *)(mem + bucket_off);
		struct eg_blk_rule *qr =
		    (struct eg_blk_rule *)(mem + q->h->rules_off) + q->u32[qb->rules_first];
		uint32_t *qu32 = (uint32_t *)(mem + q->h->u32_off);
		switch (damage) {
		case 0: qb->n_rules = q->h->n_u32 + 1; break;          /* list past the pool */
		case 1: qu32[qb->rules_first] = q->h->n_rules; break;  /* rule index out of range */
		case 2: qr->reason = q->h->strings_len + 7; break;     /* string out of range */
		case 3: qr->action = 99; qr->n_match = 0; break;        /* garbage action */
		case 4: qr->match_first = q->h->n_u32; qr->n_match = 2; break; /* regex list past the pool */
		case 5: /* a string that runs off the end of the strings (checked when used) */
			mem[q->h->strings_off + q->h->strings_len - 1] = 'x';
			qr->reason = q->h->strings_len - 1;
			break;
		case 6: { /* likewise the name of the rule's file */
			uint32_t *files = (uint32_t *)(mem + q->h->files_off);
			mem[q->h->strings_off + q->h->strings_len - 1] = 'x';
			files[qr->file] = q->h->strings_len - 1;
			break;
		}
		}
		(void)first_rule;
		enum eg_action a = check(q, sc, tf, NULL, &res);
		cr_expect_eq(a, EG_ACT_DENY, "damage %d: refused", damage);
		cr_expect_neq(res.fail, EG_FAIL_NONE, "damage %d: as a failure", damage);
		cr_expect_eq(check(q, sc, ls, NULL, &res), EG_ACT_NONE, "damage %d: ls unaffected", damage);
		eg_policy_free(q);
		free(mem);
	}

	/* A regex whose source runs past the strings: the rule using it fails closed. */
	unsigned char *mem;
	struct eg_policy *q = copy_policy(p, &mem);
	const struct eg_blk_rule *r = &q->rules[first_rule];
	cr_assert_gt(r->n_match, 0);
	struct eg_blk_regex *rx = (struct eg_blk_regex *)(mem + q->h->regex_off) + q->u32[r->match_first];
	rx->len = q->h->strings_len;
	cr_expect_eq(check(q, sc, tf, NULL, &res), EG_ACT_DENY);
	cr_expect_eq(res.fail, EG_FAIL_REGEX);
	eg_policy_free(q);
	free(mem);

	/* Header damage is still caught when the block is adopted. */
	q = copy_policy(p, &mem);
	size_t size = q->size;
	eg_policy_free(q);
	((struct eg_blk_header *)mem)->n_buckets = 3;
	cr_expect_null(eg_policy_from_block(mem, size, false));
	free(mem);
	free(sc);
	eg_policy_free(p);
}

/* A rule tried shows nothing, so what it would show (its id, reason and
 * file's name, among the block's strings) is checked once it applies, not
 * for every rule tried: a match reads none of those pages. Damaged there,
 * the rule still refuses what it applies to, and only that. */
Test(fastpath, shown_strings_checked_when_the_rule_applies)
{
	struct eg_policy *p = load_packs();
	struct eg_check_scratch *sc = malloc(sizeof *sc);
	struct eg_check_result res;
	char *const destroy[] = { "terraform", "destroy", NULL };
	char *const unlock[] = { "terraform", "force-unlock", "1234", NULL };
	char *const plan[] = { "terraform", "plan", NULL };
	cr_assert_eq(check(p, sc, destroy, NULL, &res), EG_ACT_CONFIRM);
	uint32_t destroy_rule = res.rule;
	cr_assert_eq(check(p, sc, unlock, NULL, &res), EG_ACT_CONFIRM);
	cr_assert_neq(res.rule, destroy_rule);
	uint32_t unlock_rule = res.rule;

	for (int damage = 0; damage < 3; damage++) {
		unsigned char *mem;
		struct eg_policy *q = copy_policy(p, &mem);
		struct eg_blk_rule *qr = (struct eg_blk_rule *)(mem + q->h->rules_off) + destroy_rule;
		/* past the strings' end (the files' names end them: a string made
		 * to run off the end would be another rule's file's name) */
		uint32_t bad = q->h->strings_len;
		switch (damage) {
		case 0: qr->reason = bad; break;
		case 1: qr->id = bad; break;
		case 2: /* a file of its own, its name damaged (the others' files are sound) */
			cr_assert_gt(q->h->n_files, 1);
			qr->file = (qr->file + 1) % q->h->n_files;
			((uint32_t *)(mem + q->h->files_off))[qr->file] = bad;
			break;
		}
		cr_expect_eq(check(q, sc, destroy, NULL, &res), EG_ACT_DENY, "damage %d: refused", damage);
		cr_expect_neq(res.fail, EG_FAIL_NONE, "damage %d: as a failure", damage);
		cr_expect_eq(check(q, sc, unlock, NULL, &res), EG_ACT_CONFIRM,
		    "damage %d: the rule tried before the one that applies does not refuse", damage);
		cr_expect_eq(res.rule, unlock_rule);
		cr_expect_eq(res.fail, EG_FAIL_NONE);
		cr_expect_eq(check(q, sc, plan, NULL, &res), EG_ACT_NONE, "damage %d: plan unaffected", damage);
		eg_policy_free(q);
		free(mem);
	}
	free(sc);
	eg_policy_free(p);
}

/* The block's name filter (policy_block.h), which a fork child's exec hook
 * reads instead of the index (exec_fast.h): it must hold every name the
 * index holds, also once folded to the size the library copies, and let
 * few others through. */
static bool filter_has(const uint64_t *w, uint32_t log2, const char *name)
{
	return eg_filter_maybe(w, log2, eg_name_hash(name));
}

Test(fastpath, name_filter_holds_every_indexed_program)
{
	struct eg_policy *p = load_packs();
	cr_assert_not_null(p->filter, "the block carries a filter");
	cr_assert_geq(p->filter_log2, EG_FILTER_LOG2_MIN);
	uint32_t small = EG_FILTER_LOG2_MIN - 3; /* folded to an eighth */
	uint64_t *folded = calloc((size_t)1 << (small - 6), sizeof *folded);
	eg_filter_fold(folded, small, p->filter, p->filter_log2);
	size_t names = 0;
	for (uint32_t i = 0; i < p->h->n_buckets; i++) {
		if (p->buckets[i].name == 0)
			continue;
		const char *n = eg_blk_str(p, p->buckets[i].name);
		names++;
		cr_expect(filter_has(p->filter, p->filter_log2, n), "%s is in the filter", n);
		cr_expect(filter_has(folded, small, n), "%s is in the folded filter", n);
	}
	cr_assert_gt(names, 50);
	/* names no rule lists mostly miss (two bits a name, 32 bits a name) */
	size_t hits = 0;
	char name[32];
	for (int i = 0; i < 10000; i++) {
		snprintf(name, sizeof name, "no-such-program-%d", i);
		const struct eg_blk_bucket *b;
		cr_assert_eq(eg_policy_find(p, name, &b), 0);
		hits += filter_has(p->filter, p->filter_log2, name);
	}
	cr_expect_lt(hits, 200, "%zu of 10000 unlisted names pass the filter", hits);
	free(folded);
	eg_policy_free(p);
}

Test(fastpath, damaged_filter_bounds_fail_validation)
{
	struct eg_policy *p = load_packs();
	unsigned char *mem;
	size_t size;
	eg_policy_block(p, &size);
	struct eg_policy *q = copy_policy(p, &mem);
	eg_policy_free(q);
	struct eg_blk_header *h = (struct eg_blk_header *)mem;
	uint32_t log2 = h->filter_log2, off = h->filter_off;
	h->filter_log2 = EG_FILTER_LOG2_MAX + 1;
	cr_expect_null(eg_policy_from_block(mem, size, false), "a filter larger than allowed");
	h->filter_log2 = log2;
	h->filter_off = (uint32_t)size - 8;
	cr_expect_null(eg_policy_from_block(mem, size, false), "a filter past the block's end");
	h->filter_off = off + 4;
	cr_expect_null(eg_policy_from_block(mem, size, false), "a filter not 8-aligned");
	h->filter_off = off;
	h->filter_log2 = 0;
	q = eg_policy_from_block(mem, size, false);
	cr_expect_not_null(q, "no filter at all is a valid block");
	if (q) {
		cr_expect_null(q->filter);
		eg_policy_free(q);
	}
	free(mem);
	eg_policy_free(p);
}

/* A lookup asks the name filter before the program index: a name the filter
 * rules out is answered without reading a bucket (with 10,000 programs the
 * index is 1 MiB, a page fault for each name looked up). Shown with every
 * bucket damaged to claim that name (its hash, an unsound string): with the
 * filter the lookup says "none"; without it, it reaches the damage. */
Test(fastpath, lookup_asks_the_filter_before_the_index)
{
	struct eg_policy *p = load_packs();
	char name[64];
	int i = 0;
	do
		snprintf(name, sizeof name, "no-such-program-%d", i++);
	while (filter_has(p->filter, p->filter_log2, name));
	size_t size;
	eg_policy_block(p, &size);
	unsigned char *mem;
	struct eg_policy *q = copy_policy(p, &mem);
	eg_policy_free(q);
	struct eg_blk_header *h = (struct eg_blk_header *)mem;
	struct eg_blk_bucket *bk = (struct eg_blk_bucket *)(mem + h->buckets_off);
	for (uint32_t b = 0; b < h->n_buckets; b++)
		bk[b] = (struct eg_blk_bucket){ .name = h->strings_len + 1, .hash = eg_name_hash(name) };
	const struct eg_blk_bucket *found;
	q = eg_policy_from_block(mem, size, false);
	cr_assert_not_null(q);
	cr_expect_eq(eg_policy_find(q, name, &found), 0, "ruled out by the filter: no bucket read");
	eg_policy_free(q);
	h->filter_log2 = 0; /* no filter */
	q = eg_policy_from_block(mem, size, false);
	cr_assert_not_null(q);
	cr_expect_eq(eg_policy_find(q, name, &found), -1, "without the filter, the damaged bucket");
	eg_policy_free(q);
	free(mem);
	eg_policy_free(p);
}
