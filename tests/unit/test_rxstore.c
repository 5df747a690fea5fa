/*
 * Compiled regexes stored in the policy block (the stored codes, see
 * lib/policy_block.h): a process decodes them instead of compiling; a
 * missing, damaged, misplaced or foreign stored code falls back to
 * compiling the pattern source and decides exactly as before; a regex that
 * cannot compile still fails closed; the section's bounds are checked.
 *
 * pcre2_compile_8 and pcre2_serialize_decode_8 are wrapped at link time
 * (--wrap, see tests/meson.build) to count what the check path does.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "execguard.h"
#include "load_internal.h"
#include "policy_block.h"

#ifndef EG_SOURCE_DIR
#error "EG_SOURCE_DIR must be defined by the build"
#endif

#include "alloc_count.h"
#include "policy_copy.h"

static __thread unsigned long n_compile, n_decode;

#define WRAP __attribute__((visibility("default")))
pcre2_code *__real_pcre2_compile_8(PCRE2_SPTR, PCRE2_SIZE, uint32_t, int *, PCRE2_SIZE *,
    pcre2_compile_context *);
WRAP pcre2_code *__wrap_pcre2_compile_8(PCRE2_SPTR, PCRE2_SIZE, uint32_t, int *, PCRE2_SIZE *,
    pcre2_compile_context *);
int32_t __real_pcre2_serialize_decode_8(pcre2_code **, int32_t, const uint8_t *,
    pcre2_general_context *);
WRAP int32_t __wrap_pcre2_serialize_decode_8(pcre2_code **, int32_t, const uint8_t *,
    pcre2_general_context *);

WRAP pcre2_code *__wrap_pcre2_compile_8(PCRE2_SPTR p, PCRE2_SIZE l, uint32_t f, int *e, PCRE2_SIZE *eo,
    pcre2_compile_context *cc)
{
	n_compile += counting;
	return __real_pcre2_compile_8(p, l, f, e, eo, cc);
}

WRAP int32_t __wrap_pcre2_serialize_decode_8(pcre2_code **codes, int32_t n, const uint8_t *bytes,
    pcre2_general_context *g)
{
	n_decode += counting;
	return __real_pcre2_serialize_decode_8(codes, n, bytes, g);
}

static struct eg_policy *build_ruleset(const struct eg_ruleset *rs, unsigned flags)
{
	struct eg_diags d = { 0 };
	struct eg_policy *p = eg_policy_build_ex(rs, flags, &d);
	cr_assert_not_null(p);
	eg_diags_free(&d);
	return p;
}

static struct eg_policy *load_packs(unsigned flags)
{
	struct eg_sources src = { .packs_dir = EG_SOURCE_DIR "/patterns" };
	struct eg_ruleset rs = { 0 };
	struct eg_diags d = { 0 };
	cr_assert_eq(eg_ruleset_load(&rs, &src, &d), 0);
	struct eg_policy *p = build_ruleset(&rs, flags);
	eg_ruleset_free(&rs);
	eg_diags_free(&d);
	return p;
}

static struct eg_policy *load_text(const char *text, unsigned flags)
{
	struct eg_ruleset rs = { 0 };
	struct eg_diags d = { 0 };
	int rc = eg_ruleset_parse_text(&rs, "t.rules", text, strlen(text), true, &d);
	for (size_t k = 0; k < d.n; k++)
		fprintf(stderr, "%s:%u:%u: %s\n", d.v[k].file, d.v[k].line, d.v[k].col, d.v[k].msg);
	cr_assert_eq(rc, 0);
	struct eg_policy *p = build_ruleset(&rs, flags);
	eg_ruleset_free(&rs);
	eg_diags_free(&d);
	return p;
}

static struct eg_check_scratch scratch;
static struct eg_check_result res;

static enum eg_action check(const struct eg_policy *p, char *const *argv)
{
	struct eg_check_input in = { .argv = argv, .cwd = "/tmp" };
	n_compile = n_decode = n_alloc = 0;
	counting = 1;
	enum eg_action a = eg_check(p, &in, &scratch, &res);
	counting = 0;
	return a;
}

#define ARGV(...) ((char *const[]){ __VA_ARGS__, NULL })

static const struct eg_blk_rxhead *head_of(const struct eg_policy *p)
{
	cr_assert_neq(p->h->rxhead_off, 0);
	return (const void *)(p->base + p->h->rxhead_off);
}

static const struct eg_blk_regex *entry_of(const struct eg_policy *p, uint32_t id)
{
	cr_assert_lt(id, p->h->n_regex);
	return &p->regex[id];
}

/* The first match regex of the first rule indexed under `prog`. */
static uint32_t first_match_regex(const struct eg_policy *p, const char *prog)
{
	const struct eg_blk_bucket *b;
	cr_assert_eq(eg_policy_find(p, prog, &b), 1);
	const struct eg_blk_rule *r = &p->rules[p->u32[b->rules_first]];
	cr_assert_gt(r->n_match, 0);
	return p->u32[r->match_first];
}

/* Commands and what the packs decide for them. */
static const struct {
	char *argv[6];
	enum eg_action want;
} cases[] = {
	{ { "terraform", "destroy", "-auto-approve" }, EG_ACT_CONFIRM },
	{ { "terraform", "plan", "-destroy" }, EG_ACT_NONE },
	{ { "terraform", "destroy", "-help" }, EG_ACT_NONE },
	{ { "dropdb", "prod" }, EG_ACT_CONFIRM },
	{ { "git", "push", "--force", "origin", "main" }, EG_ACT_CONFIRM },
	{ { "git", "status" }, EG_ACT_NONE },
	{ { "ls", "-l" }, EG_ACT_NONE },
};
#define N_CASES (sizeof cases / sizeof cases[0])

/* Every case decides as wanted, without failing. */
static void expect_cases(const struct eg_policy *p, const char *what)
{
	for (size_t i = 0; i < N_CASES; i++) {
		enum eg_action a = check(p, cases[i].argv);
		cr_expect_eq(a, cases[i].want, "%s: %s %s: %s", what, cases[i].argv[0], cases[i].argv[1],
		    eg_action_name(a));
		cr_expect_eq(res.fail, EG_FAIL_NONE, "%s: %s %s", what, cases[i].argv[0],
		    cases[i].argv[1]);
	}
}

Test(rxstore, packs_decisions_hold_with_and_without_stored_codes)
{
	struct eg_policy *with = load_packs(0), *without = load_packs(EG_BUILD_NO_CODES);
	cr_expect_neq(with->h->rxhead_off, 0, "eg_policy_build stores codes");
	cr_expect_gt(with->h->rxcodes_len, 0);
	cr_expect_eq(without->h->rxhead_off, 0, "EG_BUILD_NO_CODES stores none");
	cr_expect_eq(without->h->rxcodes_len, 0);
	expect_cases(with, "stored");
	expect_cases(without, "compiled");
	eg_policy_free(with);
	eg_policy_free(without);
}

/* A check of terraform destroy that decodes, compiles nothing and does not
 * allocate. */
static void expect_decoding_check(const struct eg_policy *p, const char *which)
{
	cr_expect_eq(check(p, ARGV("terraform", "destroy")), EG_ACT_CONFIRM, "%s check", which);
	cr_expect_eq(n_compile, 0, "%s check: %lu compiles", which, n_compile);
	cr_expect_gt(n_decode, 0, "%s check", which);
#ifdef COUNTS_ALLOCATIONS
	cr_expect_eq(n_alloc, 0, "%s check: %lu allocator calls", which, n_alloc);
#endif
}

Test(rxstore, stored_code_is_decoded_not_compiled)
{
	struct eg_policy *p = load_packs(0);
	expect_decoding_check(p, "first");
	/* The first check kept its codes in its own memory; the second
	 * decodes them into the process's regex memory, where they are kept:
	 * the third decodes nothing. */
	cr_expect_not(eg_regex_cache_used(p), "the first check made no regex memory");
	expect_decoding_check(p, "second");
	cr_expect(eg_regex_cache_used(p));
	cr_expect_eq(check(p, ARGV("terraform", "destroy")), EG_ACT_CONFIRM);
	cr_expect_eq(n_decode, 0);
	cr_expect_eq(n_compile, 0);

	/* Every stored code decodes to a code of its recorded size, with the
	 * options the library compiles with. */
	for (uint32_t id = 0; id < p->h->n_regex; id++) {
		const struct eg_blk_regex *e = entry_of(p, id);
		cr_assert_gt(e->code_len, 0, "regex %u has a stored code", id);
		n_compile = 0;
		counting = 1;
		pcre2_code *code = eg_regex_get(p, id, NULL, NULL);
		counting = 0;
		cr_assert_not_null(code);
		cr_expect_eq(n_compile, 0, "regex %u: compiled", id);
		size_t size = 0;
		uint32_t opts = 0;
		pcre2_pattern_info(code, PCRE2_INFO_SIZE, &size);
		pcre2_pattern_info(code, PCRE2_INFO_ARGOPTIONS, &opts);
		cr_expect_eq(size, e->code_len);
		cr_expect_eq(opts, EG_COMPILE_FLAGS);
	}
	/* More regexes than the table holds: the rest are kept in the overflow
	 * slots; each is made once. */
	cr_assert_gt(p->h->n_regex, 2 * EG_REGEX_TABLE);
	cr_expect_not_null(p->cache->overflow);
	for (uint32_t id = 0; id < p->h->n_regex; id++) {
		pcre2_code *a = eg_regex_get(p, id, NULL, NULL);
		n_compile = n_decode = 0;
		counting = 1;
		pcre2_code *b = eg_regex_get(p, id, NULL, NULL);
		counting = 0;
		cr_expect_eq(a, b, "regex %u: the same code", id);
		cr_expect_eq(n_compile + n_decode, 0, "regex %u: made again", id);
		uint32_t k = p->regex[id].canon;
		cr_expect_eq(eg_regex_get(p, k, NULL, NULL), a, "regex %u: the code of its canonical regex %u", id, k);
	}
	eg_policy_free(p);
}

Test(rxstore, without_stored_codes_it_compiles_without_allocating)
{
	struct eg_policy *p = load_packs(EG_BUILD_NO_CODES);
	cr_expect_eq(check(p, ARGV("terraform", "destroy")), EG_ACT_CONFIRM);
	cr_expect_gt(n_compile, 0);
	cr_expect_eq(n_decode, 0);
#ifdef COUNTS_ALLOCATIONS
	cr_expect_eq(n_alloc, 0, "%lu allocator calls", n_alloc);
#endif
	eg_policy_free(p);
}

Test(rxstore, identical_patterns_share_one_code)
{
	struct eg_policy *p = load_text(
	    "rule a\n program aa\n match ^x(\\s|$)\n unless --dry-run\n action confirm\n reason r\n"
	    " example aa x\n\n"
	    "rule b\n program bb\n match ^y(\\s|$)\n unless --dry-run\n action confirm\n reason r\n"
	    " example bb y\n",
	    0);
	cr_assert_eq(p->h->n_regex, 4);
	/* ids in order: a.match, a.unless, b.match, b.unless */
	cr_expect_eq(entry_of(p, 1)->code_off, entry_of(p, 3)->code_off);
	cr_expect_eq(entry_of(p, 3)->canon, 1);
	cr_expect_neq(entry_of(p, 0)->code_off, entry_of(p, 2)->code_off);
	/* the rules have different programs: separate groups */
	cr_expect_eq(entry_of(p, 0)->group_end, 2);
	cr_expect_eq(entry_of(p, 2)->group_end, 4);
	cr_expect_eq(check(p, ARGV("aa", "x", "--dry-run")), EG_ACT_NONE);
	cr_expect_eq(n_decode, 1, "a's group in one decode");
	/* b's unless is decoded already (a's), so b decodes its match alone */
	cr_expect_eq(check(p, ARGV("bb", "y", "--dry-run")), EG_ACT_NONE);
	cr_expect_eq(n_decode, 1);
	cr_expect_eq(check(p, ARGV("bb", "y")), EG_ACT_CONFIRM);
	cr_expect_eq(n_decode, 0);
	cr_expect_eq(n_compile, 0);
	cr_expect_eq(eg_regex_get(p, 1, NULL, NULL), eg_regex_get(p, 3, NULL, NULL), "one decoded code for both");
	eg_policy_free(p);
}

/* A code too large for a stage is staged alone: in the check's scratch, or,
 * with no room lent, in the regex memory. */
static struct eg_policy *load_big_code(void)
{
	/* An alternation of 400 words compiles to well over a stage. */
	size_t cap = 16384, n = 0;
	char *text = malloc(cap);
	n += (size_t)snprintf(text + n, cap - n, "rule big\n program big\n match ^(");
	for (int i = 0; i < 400; i++)
		n += (size_t)snprintf(text + n, cap - n, "%sword%dx", i ? "|" : "", i);
	n += (size_t)snprintf(text + n, cap - n, ")$\n action deny\n reason r\n example big word1x\n");
	cr_assert_lt(n, cap);
	struct eg_policy *p = load_text(text, 0);
	free(text);
	return p;
}

Test(rxstore, large_code_is_staged_alone)
{
	struct eg_policy *p = load_big_code();
	uint32_t len = entry_of(p, 0)->code_len;
	cr_assert_gt(len, EG_RXCODE_GROUP_BYTES);
	cr_expect_eq(check(p, ARGV("big", "word399x")), EG_ACT_DENY);
	cr_expect_eq(res.fail, EG_FAIL_NONE);
	cr_expect_eq(n_compile, 0);
	cr_expect_eq(n_decode, 1);
	/* kept: the state, the tables and the code, not its stage */
	size_t kept = atomic_load(&p->cache->arena.used);
	cr_expect_lt(kept, 2 * (size_t)len, "%zu bytes of regex memory for a %u-byte code", kept, len);
	cr_expect_eq(check(p, ARGV("big", "word400x")), EG_ACT_NONE);
	eg_policy_free(p);

	p = load_big_code();
	counting = 1;
	n_decode = 0;
	cr_expect_not_null(eg_regex_get(p, 0, NULL, NULL));
	counting = 0;
	cr_expect_eq(n_decode, 1);
	cr_expect_gt(atomic_load(&p->cache->arena.used), kept + len, "no room lent: staged in the regex memory");
	eg_policy_free(p);
}

Test(rxstore, a_regex_that_cannot_compile_still_fails_closed)
{
	/* Parsed without eg_ruleset_validate_regex: no code can be stored for
	 * the broken pattern, and compiling it on the hook path fails. */
	struct eg_policy *p = load_text(
	    "rule bad\n program tool\n match (unclosed\n action confirm\n reason r\n example tool x\n\n"
	    "rule good\n program other\n match ^go$\n action confirm\n reason r\n example other go\n",
	    0);
	cr_expect_eq(entry_of(p, 0)->code_len, 0);
	cr_expect_gt(entry_of(p, 1)->code_len, 0);
	cr_expect_eq(check(p, ARGV("tool", "x")), EG_ACT_DENY);
	cr_expect_eq(res.fail, EG_FAIL_REGEX);
	cr_expect_eq(n_compile, 1);
	cr_expect_eq(check(p, ARGV("other", "go")), EG_ACT_CONFIRM);
	cr_expect_eq(res.fail, EG_FAIL_NONE);
	cr_expect_eq(n_compile, 0);
	eg_policy_free(p);
}

/* Damage to one stored code, or to what all of them share: every case still
 * decides as before, by compiling what it cannot decode. */
Test(rxstore, damaged_or_foreign_codes_fall_back_to_compiling)
{
	struct eg_policy *p = load_packs(0);
	uint32_t tf = first_match_regex(p, "terraform");
	uint32_t other = first_match_regex(p, "dropdb");
	cr_assert_lt(p->regex[other].group_end, tf, "dropdb's group is apart from terraform's");
	enum { N_DAMAGE = 15 };
	for (int damage = 0; damage < N_DAMAGE; damage++) {
		unsigned char *mem;
		struct eg_policy *q = copy_policy(p, &mem);
		cr_assert_not_null(q);
		struct eg_blk_header *h = (void *)mem;
		struct eg_blk_rxhead *hd = (void *)(mem + h->rxhead_off);
		struct eg_blk_regex *rx = (void *)(mem + h->regex_off);
		struct eg_blk_regex *e = &rx[tf];
		unsigned char *codes = mem + h->rxcodes_off;
		bool whole = false; /* the stored codes are refused as a whole */
		switch (damage) {
		case 0: codes[e->code_off + e->code_len / 2] ^= 0x40; break; /* a byte of the code */
		case 1: e->check ^= 1; break;                                 /* its check value */
		case 2: e->code_len = h->rxcodes_len; break;                  /* runs past the area */
		case 3: e->code_off = h->rxcodes_len - 4; break;              /* starts at its end */
		case 4: e->code_len = 8; break;                               /* cut short */
		case 5: /* another regex's code */
			e->code_off = rx[other].code_off;
			e->code_len = rx[other].code_len;
			e->check = rx[other].check;
			break;
		case 6: e->canon = other; break;        /* shares another regex's decoded code */
		case 7: e->group_end = UINT32_MAX; break; /* a group past the regexes */
		case 8: hd->prefix[100] ^= 1; whole = true; break; /* the character tables */
		case 9: hd->prefix[4] ^= 1; whole = true; break;   /* PCRE2's own version field */
		case 10: hd->prefix[6] ^= 1; hd->prefix_check = eg_rx_check(hd->prefix, sizeof hd->prefix, 0);
			whole = true; break; /* another PCRE2 version (PCRE2's own header) */
		case 11: hd->id.linksize = 4; whole = true; break;    /* another PCRE2 build */
		case 12: hd->id.compile_options = 0; whole = true; break;
		case 13: hd->magic[0] = 'X'; whole = true; break;
		case 14: /* made a duplicate of another regex, but for its check value */
			e->canon = other;
			e->code_off = rx[other].code_off;
			e->code_len = rx[other].code_len;
			break;
		}
		expect_cases(q, "damaged");
		/* Again in a fresh process (cache): the damaged code itself. */
		eg_policy_free(q);
		q = eg_policy_from_block(mem, p->size, false);
		cr_assert_not_null(q);
		cr_expect_eq(check(q, ARGV("terraform", "destroy")), EG_ACT_CONFIRM, "damage %d", damage);
		cr_expect_eq(res.fail, EG_FAIL_NONE, "damage %d", damage);
		if (damage == 6 || damage == 7) /* ignored: its own code, as stored */
			cr_expect_eq(n_compile, 0, "damage %d: compiled", damage);
		else
			cr_expect_geq(n_compile, 1, "damage %d: compiled", damage);
		/* The rest still serves from the stored codes, unless refused whole. */
		cr_expect_eq(check(q, ARGV("dropdb", "prod")), EG_ACT_CONFIRM, "damage %d", damage);
		if (whole)
			cr_expect_gt(n_compile, 0, "damage %d: dropdb compiled", damage);
		else
			cr_expect_eq(n_compile, 0, "damage %d: dropdb decoded", damage);
		/* And in another order: the other regexes' codes made first. */
		eg_policy_free(q);
		q = eg_policy_from_block(mem, p->size, false);
		cr_assert_not_null(q);
		cr_expect_eq(check(q, ARGV("dropdb", "prod")), EG_ACT_CONFIRM, "damage %d", damage);
		for (size_t i = N_CASES; i-- > 0;)
			cr_expect_eq(check(q, cases[i].argv), cases[i].want, "damage %d, case %zu", damage, i);
		eg_policy_free(q);
		free(mem);
	}
	eg_policy_free(p);
}

Test(rxstore, bounds_are_checked_when_the_block_is_adopted)
{
	struct eg_policy *p = load_packs(0);
	size_t size = p->size;
	for (int damage = 0; damage < 7; damage++) {
		unsigned char *mem;
		struct eg_policy *q = copy_policy(p, &mem);
		cr_assert_not_null(q);
		eg_policy_free(q);
		struct eg_blk_header *h = (void *)mem;
		bool adopts = false;
		switch (damage) {
		case 0: h->rxcodes_len = (uint32_t)size; break;             /* past the block */
		case 1: h->rxcodes_off = UINT32_MAX - 7; break;              /* wraps around */
		case 2: h->rxhead_off = (uint32_t)size - 8; break;           /* head past the block */
		case 3: h->rxhead_off += 4; break;                           /* misaligned */
		case 4: h->rxhead_off = UINT32_MAX & ~7u; break;
		case 5: h->regex_off += 4; break;                            /* entries misaligned */
		case 6: h->rxhead_off = 0; h->rxcodes_len = 0; adopts = true; break; /* none */
		}
		q = eg_policy_from_block(mem, size, false);
		if (adopts) {
			cr_expect_not_null(q);
			expect_cases(q, "no stored codes");
		} else {
			cr_expect_null(q, "damage %d: adopted", damage);
		}
		eg_policy_free(q);
		free(mem);
	}
	/* An entry whose bytes lie outside the codes area: compiled. */
	unsigned char *mem;
	struct eg_policy *q = copy_policy(p, &mem);
	eg_policy_free(q);
	((struct eg_blk_header *)mem)->rxcodes_len = 16;
	q = eg_policy_from_block(mem, size, false);
	cr_assert_not_null(q);
	cr_expect_eq(check(q, ARGV("terraform", "destroy")), EG_ACT_CONFIRM);
	cr_expect_gt(n_compile, 0);
	cr_expect_eq(n_decode, 0);
	expect_cases(q, "short codes area");
	eg_policy_free(q);
	free(mem);
	eg_policy_free(p);
}

Test(rxstore, the_pcre2_identity_is_this_library)
{
	struct eg_pcre2_id a, b;
	eg_pcre2_id_get(&a);
	eg_pcre2_id_get(&b);
	cr_expect_neq(a.unit_ptr_size, 0);
	cr_expect_eq(a.compile_options, EG_COMPILE_FLAGS);
	cr_expect_eq(memcmp(&a, &b, sizeof a), 0);
	/* and a block's section records it */
	struct eg_policy *p = load_packs(0);
	cr_expect_eq(memcmp(&head_of(p)->id, &a, sizeof a), 0);
	cr_expect_eq(pcre2_serialize_get_number_of_codes(head_of(p)->prefix),
	    (int32_t)EG_RXCODE_GROUP_MAX, "the prefix is of a whole group");
	eg_policy_free(p);
}

/* The file `execguard run` writes keeps the stored codes, and a process that
 * maps it decodes them. */
Test(rxstore, a_saved_policy_file_carries_the_codes)
{
	struct eg_policy *p = load_packs(0);
	char dir[] = "/tmp/eg-rxstore-XXXXXX";
	cr_assert_not_null(mkdtemp(dir));
	char env0[sizeof dir + 32];
	snprintf(env0, sizeof env0, "XDG_CACHE_HOME=%s", dir);
	char *envp[] = { env0, NULL };
	char path[4096];
	cr_assert_eq(eg_policy_save(p, envp, path, sizeof path), 0);
	struct eg_policy *q = eg_policy_map_file(path);
	cr_assert_not_null(q);
	cr_expect_neq(q->h->rxhead_off, 0);
	cr_expect_eq(check(q, ARGV("terraform", "destroy")), EG_ACT_CONFIRM);
	cr_expect_eq(n_compile, 0);
	cr_expect_gt(n_decode, 0);
	expect_cases(q, "saved");
	eg_policy_free(q);
	eg_policy_free(p);
	unlink(path);
	char sub[sizeof dir + 16];
	snprintf(sub, sizeof sub, "%s/execguard", dir);
	rmdir(sub);
	rmdir(dir);
}

/* A group is staged in the memory the check lends (its scratch), so that
 * the regex memory keeps only what is kept: the first match of terraform
 * with the packs writes one page of it. With no room lent, on the stack. */
Test(rxstore, a_decode_stages_in_lent_memory_and_keeps_one_page)
{
	struct eg_policy *p = load_packs(0);
	cr_expect_eq(check(p, ARGV("terraform", "destroy")), EG_ACT_CONFIRM);
	cr_expect_eq(check(p, ARGV("terraform", "destroy")), EG_ACT_CONFIRM);
	cr_expect_gt(n_decode, 0, "the second check decodes into the regex memory");
	cr_expect_eq(n_compile, 0);
	size_t kept = atomic_load(&p->cache->arena.used);
	cr_expect_leq(kept, 4096, "%zu bytes of regex memory after the first match there", kept);
	eg_policy_free(p);

	/* Lent room is taken for the stage, and only then; it is free again
	 * when the call returns. */
	p = load_packs(0);
	uint32_t id = first_match_regex(p, "dropdb");
	static _Alignas(16) unsigned char room[2 * EG_REGEX_STAGE_SIZE];
	memset(room, 0xa5, sizeof room);
	struct eg_arena lent;
	eg_arena_init(&lent, room, sizeof room);
	n_decode = n_compile = 0;
	counting = 1;
	cr_expect_not_null(eg_regex_get(p, id, &lent, NULL));
	counting = 0;
	cr_expect_eq(n_decode, 1);
	cr_expect_eq(memcmp(room, head_of(p)->prefix, EG_RXCODE_PREFIX_LEN), 0,
	    "the stage came from the lent room");
	cr_expect_eq(atomic_load(&lent.used), 0, "the stage is free again");
	cr_expect_eq(check(p, ARGV("dropdb", "prod")), EG_ACT_CONFIRM);
	eg_policy_free(p);

	/* Too little room lent, or none: on the stack, decoded all the same. */
	for (int none = 0; none < 2; none++) {
		p = load_packs(0);
		id = first_match_regex(p, "terraform");
		eg_arena_init(&lent, room, EG_REGEX_STAGE_SIZE - 16);
		n_decode = n_compile = 0;
		counting = 1;
		cr_expect_not_null(eg_regex_get(p, id, none ? NULL : &lent, NULL));
		counting = 0;
		cr_expect_eq(n_decode, 1);
		cr_expect_eq(n_compile, 0);
		cr_expect_eq(atomic_load(&lent.used), 0);
		cr_expect_leq(atomic_load(&p->cache->arena.used), 4096);
		expect_cases(p, none ? "no room lent" : "too little room lent");
		eg_policy_free(p);
	}
}

/* A process's first check that needs a stored code keeps the decoded codes
 * in the memory the check lends, for that check: no regex memory is made
 * (an mmap and a fresh page), and the check finds the rest of the group
 * there. A regex outside that group, or the next check, goes to the
 * process's regex memory. Too little room lent: the usual way. */
Test(rxstore, a_first_check_keeps_its_codes_in_its_own_memory)
{
	struct eg_policy *p = load_packs(0);
	uint32_t id = first_match_regex(p, "terraform");
	uint32_t end = p->regex[id].group_end;
	cr_assert_gt(end, id + 1, "terraform's first regex has a group");
	static _Alignas(16) unsigned char room[4 * EG_REGEX_STAGE_SIZE];
	struct eg_arena lent;
	eg_arena_init(&lent, room, sizeof room);
	struct eg_regex_cache *own = NULL;
	n_decode = n_compile = 0;
	counting = 1;
	pcre2_code *code = eg_regex_get(p, id, &lent, &own);
	counting = 0;
	cr_assert_not_null(code);
	cr_expect_eq(n_decode, 1);
	cr_assert_not_null(own, "the check has codes of its own");
	cr_expect_not(eg_regex_cache_used(p), "no regex memory made");
	size_t used = atomic_load(&lent.used);
	cr_expect_gt(used, 0);
	cr_expect_leq(used, sizeof *own + EG_REGEX_STAGE_SIZE + 16u * (EG_RXCODE_GROUP_MAX + 2u) + 64u,
	    "%zu bytes kept, the stage free again", used);
	cr_expect((unsigned char *)code >= room && (unsigned char *)code < room + used,
	    "the code is in the lent memory");

	/* The rest of the group: found, not decoded again, nothing more taken. */
	counting = 1;
	for (uint32_t j = id + 1; j < end; j++)
		cr_expect_not_null(eg_regex_get(p, j, &lent, &own), "regex %u", j);
	counting = 0;
	cr_expect_eq(n_decode, 1);
	cr_expect_eq(atomic_load(&lent.used), used);
	cr_expect_not(eg_regex_cache_used(p));

	/* Another program's regex, in the same check: the regex memory. */
	uint32_t other = first_match_regex(p, "dropdb");
	cr_assert(other < id || other >= end);
	counting = 1;
	cr_expect_not_null(eg_regex_get(p, other, &lent, &own));
	counting = 0;
	cr_expect_eq(n_decode, 2);
	cr_expect(eg_regex_cache_used(p), "made for a regex outside the check's group");
	cr_expect_eq(atomic_load(&lent.used), used);
	eg_policy_free(p);

	/* The next check of the process makes the regex memory. */
	p = load_packs(0);
	eg_arena_init(&lent, room, sizeof room);
	own = NULL;
	cr_expect_not_null(eg_regex_get(p, id, &lent, &own));
	cr_expect_not_null(own);
	eg_arena_init(&lent, room, sizeof room);
	own = NULL;
	cr_expect_not_null(eg_regex_get(p, id, &lent, &own));
	cr_expect_null(own, "a second check keeps nothing of its own");
	cr_expect(eg_regex_cache_used(p));
	cr_expect_eq(atomic_load(&lent.used), 0);
	eg_policy_free(p);

	/* Too little room lent: the regex memory, decided the same. */
	p = load_packs(0);
	eg_arena_init(&lent, room, 2 * EG_REGEX_STAGE_SIZE);
	own = NULL;
	cr_expect_not_null(eg_regex_get(p, id, &lent, &own));
	cr_expect_null(own);
	cr_expect(eg_regex_cache_used(p));
	eg_policy_free(p);

	/* Each case as a process's first check decides as the packs do. */
	for (size_t i = 0; i < N_CASES; i++) {
		p = load_packs(0);
		enum eg_action a = check(p, cases[i].argv);
		cr_expect_eq(a, cases[i].want, "first check: %s %s: %s", cases[i].argv[0],
		    cases[i].argv[1], eg_action_name(a));
		cr_expect_eq(res.fail, EG_FAIL_NONE);
		eg_policy_free(p);
	}
}
