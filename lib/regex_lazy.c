/*
 * Regexes are made on first use, per process, so that a process that never
 * execs a program named by a rule never pays for PCRE2 at all (the
 * constructor does no regex work, and maps nothing for it). A regex is
 * decoded from the code stored in the block (the rxcode section, see
 * policy_block.h) when the block has a usable one, which copies a few
 * hundred bytes and runs none of PCRE2's compiler; otherwise it is compiled
 * from its source. This happens on the hook path, so memory comes from a
 * reserved mmap region through a lock-free bump allocator, and both the
 * compile state and each code are published with a compare-and-swap: two
 * threads (or a vfork child and a thread) racing both build, one wins, the
 * other's copy is unmapped or simply never used.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "policy_block.h"

/* ------------------------------------------------------------ check values */

static inline uint64_t rotl64(uint64_t x, int r)
{
	return (x << r) | (x >> (64 - r));
}

static inline uint64_t mix_word(uint64_t h, uint64_t w)
{
	w *= 0x87c37b91114253d5ull;
	w = rotl64(w, 31);
	w *= 0x4cf5ad432745937full;
	h ^= w;
	return rotl64(h, 27) * 5 + 0x52dce729;
}

/* MurmurHash3's x64 mixing, one 64-bit lane: not a defence against someone
 * who can write the block (who could as well write its rules), but damage
 * and misplaced codes are caught. */
uint64_t eg_rx_check(const void *data, size_t len, uint64_t h)
{
	const unsigned char *p = data;
	h ^= 0x9e3779b97f4a7c15ull;
	for (; len >= 8; p += 8, len -= 8) {
		uint64_t w;
		memcpy(&w, p, 8);
		h = mix_word(h, w);
	}
	uint64_t tail = 0;
	memcpy(&tail, p, len);
	h = mix_word(h, tail ^ ((uint64_t)len << 56));
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return h;
}

void eg_pcre2_id_get(struct eg_pcre2_id *id)
{
	memset(id, 0, sizeof *id);
	int n = pcre2_config(PCRE2_CONFIG_VERSION, NULL);
	if (n <= 0 || (size_t)n > sizeof id->version)
		return; /* unit_ptr_size 0: never matches, no code is stored or used */
	(void)pcre2_config(PCRE2_CONFIG_VERSION, id->version);
	(void)pcre2_config(PCRE2_CONFIG_LINKSIZE, &id->linksize);
	(void)pcre2_config(PCRE2_CONFIG_NEWLINE, &id->newline);
	(void)pcre2_config(PCRE2_CONFIG_BSR, &id->bsr);
	(void)pcre2_config(PCRE2_CONFIG_UNICODE, &id->unicode);
	(void)pcre2_config(PCRE2_CONFIG_NEVER_BACKSLASH_C, &id->never_backslash_c);
	(void)pcre2_config(PCRE2_CONFIG_PARENSLIMIT, &id->parens_limit);
	id->compile_options = EG_COMPILE_FLAGS;
	id->unit_ptr_size = (uint32_t)(PCRE2_CODE_UNIT_WIDTH | sizeof(void *) << 8 |
	    sizeof(PCRE2_SIZE) << 16);
}

/* ------------------------------------------------------------ compile state */

/* Map the arena and set up the slots and PCRE2 contexts at its start. */
static struct eg_regex_cache *cache_create(const struct eg_policy *p)
{
	struct eg_arena arena;
	if (eg_arena_map(&arena, EG_COMPILE_ARENA_SIZE) < 0)
		return NULL;
	size_t n = p->h->n_regex ? p->h->n_regex : 1;
	struct eg_regex_cache *c = eg_arena_alloc(&arena, sizeof *c + n * sizeof c->slots[0]);
	if (c == NULL) {
		eg_arena_unmap(&arena);
		return NULL;
	}
	/* The arena's bookkeeping moves into the mapping it describes (fresh
	 * pages are zero: every slot starts empty, rxcode_state unknown). */
	eg_arena_init(&c->arena, arena.base, arena.size);
	atomic_store_explicit(&c->arena.used, atomic_load(&arena.used), memory_order_relaxed);
	c->gctx = pcre2_general_context_create(eg_arena_pcre2_malloc, eg_arena_pcre2_free, &c->arena);
	c->ctx = c->gctx ? pcre2_compile_context_create(c->gctx) : NULL;
	if (c->ctx == NULL) {
		eg_arena_unmap(&arena);
		return NULL;
	}
	return c;
}

static struct eg_regex_cache *cache_get(const struct eg_policy *p)
{
	struct eg_policy *mp = (struct eg_policy *)p; /* the cache is per-process state */
	struct eg_regex_cache *c = atomic_load_explicit(&mp->cache, memory_order_acquire);
	if (c != NULL)
		return c;
	int saved = errno;
	struct eg_regex_cache *made = cache_create(p);
	errno = saved;
	if (made == NULL)
		return NULL;
	struct eg_regex_cache *expected = NULL;
	if (atomic_compare_exchange_strong_explicit(&mp->cache, &expected, made, memory_order_acq_rel,
	    memory_order_acquire))
		return made;
	munmap(made->arena.base, made->arena.size); /* another thread won */
	errno = saved;
	return expected;
}

bool eg_regex_cache_used(const struct eg_policy *p)
{
	return atomic_load_explicit(&((struct eg_policy *)p)->cache, memory_order_acquire) != NULL;
}

void eg_regex_cache_free(struct eg_policy *p)
{
	struct eg_regex_cache *c = atomic_exchange(&p->cache, NULL);
	if (c != NULL) {
		struct eg_arena a = { .base = c->arena.base, .size = c->arena.size };
		eg_arena_unmap(&a);
	}
}

/* ------------------------------------------------------------ stored codes */

/* The rxcode section's head, if its bounds hold (nothing else checked). */
static const struct eg_blk_rxcode_head *rxcode_head(const struct eg_policy *p)
{
	const struct eg_blk_header *h = p->h;
	if (h->rxcode_len < sizeof(struct eg_blk_rxcode_head))
		return NULL;
	/* eg_policy_init_block checked off % 8 and off + len <= size. */
	return (const void *)(p->base + h->rxcode_off);
}

/* The section as a whole, once per process: the head's bounds, the PCRE2
 * that encoded the codes is this one, the shared prefix is intact. */
static bool rxcode_section_ok(const struct eg_policy *p)
{
	const struct eg_blk_rxcode_head *hd = rxcode_head(p);
	if (hd == NULL)
		return false;
	uint32_t len = p->h->rxcode_len;
	if (memcmp(hd->magic, EG_RXCODE_MAGIC, sizeof EG_RXCODE_MAGIC) != 0 || hd->n != p->h->n_regex ||
	    hd->entries_off % 8 != 0 || hd->entries_off > len ||
	    (uint64_t)hd->n * sizeof(struct eg_blk_rxcode) > len - hd->entries_off ||
	    hd->prefix_len != EG_RXCODE_PREFIX_LEN || hd->prefix_off > len ||
	    hd->prefix_len > len - hd->prefix_off)
		return false;
	struct eg_pcre2_id own;
	eg_pcre2_id_get(&own);
	if (own.unit_ptr_size == 0 || memcmp(&own, &hd->id, sizeof own) != 0)
		return false;
	const unsigned char *sec = (const unsigned char *)hd;
	return eg_rx_check(sec + hd->prefix_off, hd->prefix_len, 0) == hd->prefix_check;
}

static bool rxcode_usable(const struct eg_policy *p, struct eg_regex_cache *c)
{
	int st = atomic_load_explicit(&c->rxcode_state, memory_order_acquire);
	if (st == EG_RXCODE_UNKNOWN) {
		/* Racing threads compute the same answer. */
		st = rxcode_section_ok(p) ? EG_RXCODE_USABLE : EG_RXCODE_UNUSABLE;
		atomic_store_explicit(&c->rxcode_state, st, memory_order_release);
	}
	return st == EG_RXCODE_USABLE;
}

/* Regex `id`'s stored code, decoded into the arena; NULL if there is none or
 * it does not check out (the caller compiles). The entry is checked here,
 * when it is reached, as the rest of the block is. */
static pcre2_code *decode_stored(const struct eg_policy *p, struct eg_regex_cache *c, uint32_t id,
    const struct eg_blk_regex *r)
{
	const struct eg_blk_rxcode_head *hd = rxcode_head(p);
	const unsigned char *sec = (const unsigned char *)hd;
	uint32_t len = p->h->rxcode_len;
	const struct eg_blk_rxcode *e = (const void *)(sec + hd->entries_off);
	e += id;
	if (e->len == 0 || e->len > EG_RXCODE_MAX_CODE || e->off > len || e->len > len - e->off)
		return NULL;
	const unsigned char *bytes = sec + e->off;
	uint64_t chk = eg_rx_check(eg_blk_str(p, r->src), r->len, 0);
	if (eg_rx_check(bytes, e->len, chk) != e->check)
		return NULL;

	/* pcre2_serialize_decode wants the prefix and the code in one piece. */
	_Alignas(16) unsigned char stack_stage[EG_RXCODE_PREFIX_LEN + EG_RXCODE_STACK_CODE];
	unsigned char *stage = stack_stage;
	if (e->len > EG_RXCODE_STACK_CODE) {
		stage = eg_arena_alloc(&c->arena, EG_RXCODE_PREFIX_LEN + (size_t)e->len);
		if (stage == NULL)
			return NULL;
	}
	memcpy(stage, sec + hd->prefix_off, EG_RXCODE_PREFIX_LEN);
	memcpy(stage + EG_RXCODE_PREFIX_LEN, bytes, e->len);
	pcre2_code *code = NULL;
	if (pcre2_serialize_decode(&code, 1, stage, c->gctx) != 1 || code == NULL)
		return NULL;
	/* What was decoded is what was stored (the memory stays in the arena
	 * if not: a bump allocator does not free). */
	size_t size = 0;
	uint32_t opts = 0;
	if (pcre2_pattern_info(code, PCRE2_INFO_SIZE, &size) != 0 || size != e->len ||
	    pcre2_pattern_info(code, PCRE2_INFO_ARGOPTIONS, &opts) != 0 || opts != EG_COMPILE_FLAGS)
		return NULL;
	return code;
}

/* ------------------------------------------------------------ the lookup */

pcre2_code *eg_regex_get(const struct eg_policy *p, uint32_t id)
{
	if (id >= p->h->n_regex)
		return NULL;
	const struct eg_blk_regex *r = &p->regex[id];
	/* Checked here rather than when the block is mapped (policy_block.h). */
	if (r->src >= p->h->strings_len || (uint64_t)r->src + r->len >= p->h->strings_len)
		return NULL;
	struct eg_regex_cache *c = cache_get(p);
	if (c == NULL)
		return NULL;
	struct eg_regex_slot *slot = &c->slots[id];
	pcre2_code *code = atomic_load_explicit(&slot->code, memory_order_acquire);
	if (code == EG_REGEX_FAILED)
		return NULL;
	if (code != NULL)
		return code;

	int saved = errno;
	code = rxcode_usable(p, c) ? decode_stored(p, c, id, r) : NULL;
	if (code == NULL) {
		int err;
		PCRE2_SIZE erroff;
		code = pcre2_compile((PCRE2_SPTR)eg_blk_str(p, r->src), r->len, EG_COMPILE_FLAGS, &err,
		    &erroff, c->ctx);
	}
	errno = saved;
	/* A syntax error is permanent; running out of arena is too. */
	pcre2_code *result = code != NULL ? code : EG_REGEX_FAILED;
	pcre2_code *expected = NULL;
	if (!atomic_compare_exchange_strong_explicit(&slot->code, &expected, result,
	    memory_order_acq_rel, memory_order_acquire))
		result = expected; /* another thread won; ours stays unused in the arena */
	return result == EG_REGEX_FAILED ? NULL : result;
}
