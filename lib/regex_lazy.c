/*
 * Regexes are made on first use, per process, so that a process that never
 * execs a program named by a rule never pays for PCRE2 at all (the
 * constructor does no regex work, and maps nothing for it). A regex is
 * decoded from the code stored in the block (the stored codes, see
 * policy_block.h) when the block has a usable one, which copies a few
 * hundred bytes and runs none of PCRE2's compiler; otherwise it is compiled
 * from its source. This happens on the hook path, so memory comes from a
 * reserved mmap region through a lock-free bump allocator, and both the
 * compile state and each code are published with a compare-and-swap: two
 * threads (or a vfork child and a thread) racing both build, one wins, the
 * other's copy is unmapped or simply never used. The stored codes of a
 * group are put together (staged) in memory the caller lends for the
 * decode, the check's own scratch, whose pages its match writes anyway:
 * the regex memory then holds only what is kept, and usually writes one
 * page of it.
 *
 * The first check in a process that needs a stored code keeps the decoded
 * codes in that lent memory too, for itself only (check_cache_decode):
 * most processes that check check once (a shell's fork child, a program's
 * only spawn), and regex memory of the process's own costs them an mmap and
 * a fresh page, about 12,000 cycles on a KVM guest. The next check makes
 * the regex memory.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "errno_fast.h"
#include "hot_text.h"
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
	/* Numbers only: PCRE2_CONFIG_VERSION (a string copy) would fault in
	 * one more page of PCRE2's text on the first match of every process;
	 * the version is in the serialization header, checked by PCRE2. */
	memset(id, 0, sizeof *id);
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

/* Map the arena and set up the regex state at its start. Its pages are
 * written as they are used, not filled in ahead (MADV_POPULATE_WRITE):
 * on a KVM guest a page costs the same either way, and a first match
 * writes one page where four were filled in. Cold: a process's first check
 * does not come here (check_cache_decode), and the check path's code has to
 * fit in two windows of fault-around (lib/preload/hot_path.ld). */
static __attribute__((cold, noinline)) struct eg_regex_cache *cache_create(void)
{
	struct eg_arena arena;
	if (eg_arena_map(&arena, EG_COMPILE_ARENA_SIZE) < 0)
		return NULL;
	struct eg_regex_cache *c = eg_arena_alloc(&arena, sizeof *c);
	if (c == NULL) {
		eg_arena_unmap(&arena);
		return NULL;
	}
	/* The arena's bookkeeping moves into the mapping it describes (fresh
	 * pages are zero: the table starts empty, rxcode_state unknown). */
	eg_arena_init(&c->arena, arena.base, arena.size);
	atomic_store_explicit(&c->arena.used, atomic_load(&arena.used), memory_order_relaxed);
	/* The compile context is made on the first compile (compile_ctx): with
	 * stored codes, most processes never compile. */
	c->gctx = pcre2_general_context_create(eg_arena_pcre2_malloc, eg_arena_pcre2_free, &c->arena);
	if (c->gctx == NULL) {
		eg_arena_unmap(&arena);
		return NULL;
	}
	return c;
}

/* Where p's compile state is kept: in p, or, for a first part adopted for
 * one check, in the whole block's policy (policy_block.h). */
static _Atomic(struct eg_regex_cache *) *cache_slot(const struct eg_policy *p)
{
	struct eg_policy *mp = (struct eg_policy *)p; /* the cache is per-process state */
	return mp->first_part ? mp->cache_at : &mp->cache;
}

/* A slot's value once a check in this process has kept its codes in its
 * own memory (check_cache_decode): the regex memory is not made yet, and
 * the next check makes it. */
#define CHECK_DECODED ((struct eg_regex_cache *)(uintptr_t)1)

static inline bool is_cache(const struct eg_regex_cache *c)
{
	return c != NULL && c != CHECK_DECODED;
}

static struct eg_regex_cache *cache_get(const struct eg_policy *p)
{
	_Atomic(struct eg_regex_cache *) *slot = cache_slot(p);
	struct eg_regex_cache *c = atomic_load_explicit(slot, memory_order_acquire);
	if (is_cache(c))
		return c;
	struct eg_regex_cache *made = cache_create();
	if (made == NULL)
		return NULL;
	struct eg_regex_cache *expected = c;
	while (!atomic_compare_exchange_strong_explicit(slot, &expected, made, memory_order_acq_rel,
	    memory_order_acquire)) {
		if (is_cache(expected)) {
			munmap(made->arena.base, made->arena.size); /* another thread won */
			return expected;
		}
	}
	return made;
}

/* Not on the hook path (tests, eg_policy_free): cold, as cache_create. */
__attribute__((cold)) bool eg_regex_cache_used(const struct eg_policy *p)
{
	struct eg_policy *mp = (struct eg_policy *)p;
	return is_cache(atomic_load_explicit(cache_slot(p), memory_order_acquire)) ||
	    (!p->first_part && is_cache(atomic_load_explicit(&mp->first_cache, memory_order_acquire)));
}

__attribute__((cold)) void eg_regex_cache_free(struct eg_policy *p)
{
	if (p->first_part)
		return; /* the whole block's policy has its state */
	_Atomic(struct eg_regex_cache *) *slots[] = { &p->cache, &p->first_cache };
	for (size_t i = 0; i < sizeof slots / sizeof *slots; i++) {
		struct eg_regex_cache *c = atomic_exchange(slots[i], NULL);
		if (is_cache(c)) {
			struct eg_arena a = { .base = c->arena.base, .size = c->arena.size };
			eg_arena_unmap(&a);
		}
	}
}

/* ------------------------------------------------------------ regex slots */

static inline uint32_t table_start(uint32_t id)
{
	return (id * 2654435761u) >> 26; /* EG_REGEX_TABLE == 64 */
}
_Static_assert(EG_REGEX_TABLE == 64, "table_start takes 6 bits");
/* The hook path takes no locks: 64-bit atomics must be instructions. */
_Static_assert(ATOMIC_LLONG_LOCK_FREE == 2, "64-bit atomics are not lock-free here");

static pcre2_code *table_value(const struct eg_regex_cache *c, uint64_t e)
{
	uint32_t v = (uint32_t)e;
	return v == 1 ? EG_REGEX_FAILED : (pcre2_code *)(c->arena.base + v);
}

/* Regex id's code: NULL not yet, EG_REGEX_FAILED, or the code. */
static pcre2_code *slot_get(struct eg_regex_cache *c, uint32_t id)
{
	uint64_t key = (uint64_t)id + 1;
	for (uint32_t i = 0, s = table_start(id); i < EG_REGEX_TABLE; i++, s = (s + 1) % EG_REGEX_TABLE) {
		uint64_t e = atomic_load_explicit(&c->table[s], memory_order_acquire);
		if (e == 0)
			return NULL; /* not in the table, which is not full: not yet */
		if (e >> 32 == key)
			return table_value(c, e);
	}
	struct eg_regex_slot *o = atomic_load_explicit(&c->overflow, memory_order_acquire);
	return o ? atomic_load_explicit(&o[id].code, memory_order_acquire) : NULL;
}

/* The overflow slots, made (zero) on first need. */
static __attribute__((cold, noinline)) struct eg_regex_slot *overflow_get(const struct eg_policy *p,
    struct eg_regex_cache *c)
{
	struct eg_regex_slot *o = atomic_load_explicit(&c->overflow, memory_order_acquire);
	if (o != NULL)
		return o;
	o = eg_arena_alloc(&c->arena, (size_t)p->h->n_regex * sizeof *o);
	if (o == NULL)
		return NULL;
	struct eg_regex_slot *expected = NULL;
	if (!atomic_compare_exchange_strong_explicit(&c->overflow, &expected, o, memory_order_acq_rel,
	    memory_order_acquire))
		o = expected; /* another thread's; ours stays unused in the arena */
	return o;
}

/* Publish regex id's code (or EG_REGEX_FAILED; codes live in the arena).
 * Returns what is published: ours, or what another thread published first. */
static pcre2_code *slot_put(const struct eg_policy *p, struct eg_regex_cache *c, uint32_t id,
    pcre2_code *code)
{
	uint64_t key = (uint64_t)id + 1;
	uint64_t want = key << 32 |
	    (code == EG_REGEX_FAILED ? 1u : (uint32_t)((unsigned char *)code - c->arena.base));
	for (uint32_t i = 0, s = table_start(id); i < EG_REGEX_TABLE; i++, s = (s + 1) % EG_REGEX_TABLE) {
		uint64_t e = atomic_load_explicit(&c->table[s], memory_order_acquire);
		if (e == 0 && atomic_compare_exchange_strong_explicit(&c->table[s], &e, want,
		    memory_order_acq_rel, memory_order_acquire))
			return code;
		if (e >> 32 == key)
			return table_value(c, e); /* another thread won */
	}
	/* The table is full (and stays so): the overflow slots. */
	struct eg_regex_slot *o = overflow_get(p, c);
	if (o == NULL)
		return code; /* used, not kept: made again next time */
	pcre2_code *expected = NULL;
	if (!atomic_compare_exchange_strong_explicit(&o[id].code, &expected, code,
	    memory_order_acq_rel, memory_order_acquire))
		return expected;
	return code;
}

/* ------------------------------------------------------------ stored codes */

/* The head as a whole, once per process: the PCRE2 that encoded the codes is
 * this one, and the shared prefix is intact. */
static bool rxhead_ok(const struct eg_policy *p)
{
	if (p->h->rxhead_off == 0) /* eg_policy_init_block checked its bounds */
		return false;
	const struct eg_blk_rxhead *hd = (const void *)(p->base + p->h->rxhead_off);
	if (memcmp(hd->magic, EG_HOT_STR(EG_RXHEAD_MAGIC), sizeof EG_RXHEAD_MAGIC) != 0)
		return false;
	struct eg_pcre2_id own;
	eg_pcre2_id_get(&own);
	if (memcmp(&own, &hd->id, sizeof own) != 0 ||
	    eg_rx_check(hd->prefix, sizeof hd->prefix, 0) != hd->prefix_check)
		return false;
	/* PCRE2's version, code unit width and sizes, as PCRE2 checks them
	 * (not a group's worth of codes: another layout of the prefix). */
	return pcre2_serialize_get_number_of_codes(hd->prefix) == (int32_t)EG_RXCODE_GROUP_MAX;
}

static __attribute__((noinline)) bool rxcode_usable(const struct eg_policy *p, struct eg_regex_cache *c)
{
	int st = atomic_load_explicit(&c->rxcode_state, memory_order_acquire);
	if (st == EG_RXCODE_UNKNOWN) {
		/* Racing threads compute the same answer. */
		st = rxhead_ok(p) ? EG_RXCODE_USABLE : EG_RXCODE_UNUSABLE;
		atomic_store_explicit(&c->rxcode_state, st, memory_order_release);
	}
	return st == EG_RXCODE_USABLE;
}

/* The bytes of regex j's stored code, if its entry checks out (bounds, and
 * the check value of its id and bytes): checked when reached, as the rest
 * of the block is. NULL: none, compile. */
static const unsigned char *stored_code(const struct eg_policy *p, uint32_t j)
{
	const struct eg_blk_regex *r = &p->regex[j];
	uint32_t area = p->h->rxcodes_len;
	if (r->code_len == 0 || r->code_len > EG_RXCODE_MAX_CODE || r->code_off > area ||
	    r->code_len > area - r->code_off)
		return NULL;
	const unsigned char *bytes = p->base + p->h->rxcodes_off + r->code_off;
	return eg_rx_check(bytes, r->code_len, j) == r->check ? bytes : NULL;
}

/* The regex whose decoded code serves regex j (the first with its source),
 * if the entries agree: j's entry checks out and points at the same stored
 * bytes as the canonical one's (so j's own bytes are those of its source).
 * Else j itself. */
static uint32_t canon_of(const struct eg_policy *p, uint32_t j)
{
	const struct eg_blk_regex *r = &p->regex[j];
	if (r->code_len == 0 || r->canon >= j)
		return j;
	const struct eg_blk_regex *c = &p->regex[r->canon];
	if (c->code_off != r->code_off || c->code_len != r->code_len || stored_code(p, j) == NULL)
		return j;
	return r->canon;
}

/* Is this decoded code what was stored (size, options)? */
static bool decoded_ok(pcre2_code *code, uint32_t len)
{
	size_t size = 0;
	uint32_t opts = 0;
	return code != NULL && pcre2_pattern_info(code, PCRE2_INFO_SIZE, &size) == 0 && size == len &&
	    pcre2_pattern_info(code, PCRE2_INFO_ARGOPTIONS, &opts) == 0 && opts == EG_COMPILE_FLAGS;
}



/* Put together regex id's stored code (bytes, len), and those of the next
 * regexes of its group that are not decoded yet, behind the prefix in
 * `stage` (EG_REGEX_STAGE_SIZE bytes, or len bytes more when `alone`), and decode them
 * in one pcre2_serialize_decode: they share one copy of the character tables
 * in the arena. Each is published in the slot of its canonical regex. */
static pcre2_code *decode_staged(const struct eg_policy *p, struct eg_regex_cache *c, uint32_t id,
    uint32_t k, const unsigned char *bytes, uint32_t len, unsigned char *stage, bool alone)
{
	const struct eg_blk_rxhead *hd = (const void *)(p->base + p->h->rxhead_off);
	uint32_t canon[EG_RXCODE_GROUP_MAX], lens[EG_RXCODE_GROUP_MAX];
	uint32_t n = 0;
	size_t at = EG_RXCODE_PREFIX_LEN;
	memcpy(stage, hd->prefix, EG_RXCODE_PREFIX_LEN);
	memcpy(stage + at, bytes, len);
	at += len;
	canon[n] = k;
	lens[n++] = len;
	uint32_t end = p->regex[id].group_end;
	if (end > p->h->n_regex)
		end = p->h->n_regex;
	for (uint32_t j = id + 1; !alone && j < end && n < EG_RXCODE_GROUP_MAX; j++) {
		uint32_t jl = p->regex[j].code_len;
		if (jl == 0 || jl > EG_REGEX_STAGE_SIZE - at)
			continue;
		uint32_t jk = canon_of(p, j);
		if (slot_get(c, jk) != NULL)
			continue;
		bool dup = false;
		for (uint32_t i = 0; i < n && !dup; i++)
			dup = canon[i] == jk;
		const unsigned char *jb = dup ? NULL : stored_code(p, j);
		if (jb == NULL)
			continue;
		memcpy(stage + at, jb, jl);
		at += jl;
		canon[n] = jk;
		lens[n++] = jl;
	}
	pcre2_code *codes[EG_RXCODE_GROUP_MAX];
	if (pcre2_serialize_decode(codes, (int32_t)n, stage, c->gctx) != (int32_t)n)
		return NULL;
	pcre2_code *mine = NULL;
	for (uint32_t i = 0; i < n; i++) {
		if (!decoded_ok(codes[i], lens[i]))
			continue; /* not published: compiled when reached */
		pcre2_code *won = slot_put(p, c, canon[i], codes[i]);
		if (i == 0)
			mine = won;
	}
	return mine == EG_REGEX_FAILED ? NULL : mine;
}

/* No room lent for the stage: on the stack. */
static __attribute__((noinline)) pcre2_code *decode_on_stack(const struct eg_policy *p,
    struct eg_regex_cache *c, uint32_t id, uint32_t k, const unsigned char *bytes, uint32_t len)
{
	_Alignas(16) unsigned char stage[EG_REGEX_STAGE_SIZE];
	return decode_staged(p, c, id, k, bytes, len, stage, false);
}

/* One code too large for a stage (no pack has one): alone, staged in the
 * lent memory or else in the arena (kept, unused, for the process). */
static __attribute__((cold, noinline)) pcre2_code *decode_alone(const struct eg_policy *p,
    struct eg_regex_cache *c, uint32_t id, uint32_t k, const unsigned char *bytes, uint32_t len,
    struct eg_arena *lent)
{
	size_t need = EG_RXCODE_PREFIX_LEN + (size_t)len;
	unsigned char *big = lent ? eg_arena_alloc(lent, need) : NULL;
	if (big == NULL)
		big = eg_arena_alloc(&c->arena, need);
	return big ? decode_staged(p, c, id, k, bytes, len, big, true) : NULL;
}

/*
 * Decode regex id's stored code, with its group (decode_staged), staged in
 * `lent` when it has room. Returns id's code, NULL if its entry does not
 * check out (the caller compiles).
 */
static pcre2_code *decode_group(const struct eg_policy *p, struct eg_regex_cache *c, uint32_t id,
    uint32_t k, struct eg_arena *lent)
{
	const unsigned char *bytes = stored_code(p, id);
	if (bytes == NULL)
		return NULL;
	uint32_t len = p->regex[id].code_len;
	size_t lent_used = lent ? atomic_load_explicit(&lent->used, memory_order_relaxed) : 0;
	pcre2_code *code;
	if (len > EG_RXCODE_GROUP_BYTES) {
		code = decode_alone(p, c, id, k, bytes, len, lent);
	} else {
		unsigned char *st = lent ? eg_arena_alloc(lent, EG_REGEX_STAGE_SIZE) : NULL;
		code = st ? decode_staged(p, c, id, k, bytes, len, st, false)
			  : decode_on_stack(p, c, id, k, bytes, len);
	}
	if (lent != NULL) /* the stage is read no more */
		atomic_store_explicit(&lent->used, lent_used, memory_order_relaxed);
	return code;
}

/* Room for a check's own codes (check_cache_decode): the character tables
 * and a group's codes (a stage's worth at most), each allocation rounded
 * up to 16 bytes, and the general context. */
#define CHECK_CODES_ROOM (EG_REGEX_STAGE_SIZE + 16u * (EG_RXCODE_GROUP_MAX + 2u) + 64u)

/*
 * A process's first check that needs a stored code: decode regex id's group
 * into the memory the check lends, behind a regex state of the check's own
 * (*check), where the rest of the check finds them; the stage, above them,
 * is free again after the decode. Returns id's code, or NULL with nothing
 * taken from `lent` (the caller goes the usual way): no usable code, a code
 * too large for a stage, too little room.
 */
static pcre2_code *check_cache_decode(const struct eg_policy *p, uint32_t id, struct eg_arena *lent,
    struct eg_regex_cache **check)
{
	uint32_t len = p->regex[id].code_len;
	if (len > EG_RXCODE_GROUP_BYTES)
		return NULL;
	size_t start = atomic_load_explicit(&lent->used, memory_order_relaxed);
	struct eg_regex_cache *c = eg_arena_alloc(lent, sizeof *c);
	unsigned char *room = eg_arena_alloc(lent, CHECK_CODES_ROOM);
	unsigned char *stage = eg_arena_alloc(lent, EG_REGEX_STAGE_SIZE);
	pcre2_code *code = NULL;
	if (c != NULL && room != NULL && stage != NULL) {
		memset(c, 0, sizeof *c); /* lent memory holds an earlier check's bytes */
		eg_arena_init(&c->arena, room, CHECK_CODES_ROOM);
		c->gctx = pcre2_general_context_create(eg_arena_pcre2_malloc, eg_arena_pcre2_free, &c->arena);
		const unsigned char *bytes = stored_code(p, id);
		if (c->gctx != NULL && bytes != NULL && rxcode_usable(p, c))
			code = decode_staged(p, c, id, canon_of(p, id), bytes, len, stage, false);
	}
	if (code == NULL) {
		atomic_store_explicit(&lent->used, start, memory_order_relaxed);
		return NULL;
	}
	/* Kept: the state and the codes, which take no more (the next decode
	 * this check needs goes to the process's regex memory). */
	c->arena.size = atomic_load_explicit(&c->arena.used, memory_order_relaxed);
	atomic_store_explicit(&lent->used, (size_t)(room - lent->base) + c->arena.size,
	    memory_order_relaxed);
	c->owner = p->h;
	*check = c;
	return code;
}

static __attribute__((cold, noinline)) pcre2_compile_context *compile_ctx(struct eg_regex_cache *c)
{
	pcre2_compile_context *ctx = atomic_load_explicit(&c->ctx, memory_order_acquire);
	if (ctx != NULL)
		return ctx;
	ctx = pcre2_compile_context_create(c->gctx);
	if (ctx == NULL)
		return NULL;
	pcre2_compile_context *expected = NULL;
	if (!atomic_compare_exchange_strong_explicit(&c->ctx, &expected, ctx, memory_order_acq_rel,
	    memory_order_acquire))
		ctx = expected;
	return ctx;
}

/* ------------------------------------------------------------ the lookup */

/* No usable stored code: compile regex id's source, into its own slot.
 * Cold, as compile_ctx. */
static __attribute__((cold, noinline)) pcre2_code *compile_source(const struct eg_policy *p,
    struct eg_regex_cache *c, uint32_t id)
{
	const struct eg_blk_regex *r = &p->regex[id];
	pcre2_compile_context *ctx = compile_ctx(c);
	int err;
	PCRE2_SIZE erroff;
	pcre2_code *code = ctx == NULL ? NULL : pcre2_compile((PCRE2_SPTR)eg_blk_str(p, r->src), r->len,
	    EG_COMPILE_FLAGS, &err, &erroff, ctx);
	/* A syntax error is permanent; running out of arena is too. */
	return slot_put(p, c, id, code != NULL ? code : EG_REGEX_FAILED);
}

/* Regex id's code in c, decoded for it or for the first regex with its
 * source (*k): NULL not yet, EG_REGEX_FAILED, or the code. */
static __attribute__((noinline)) pcre2_code *code_in(const struct eg_policy *p,
    struct eg_regex_cache *c, uint32_t id, uint32_t *k)
{
	pcre2_code *code = slot_get(c, id);
	if (code != NULL)
		return code;
	*k = canon_of(p, id);
	return *k == id ? NULL : slot_get(c, *k);
}

/* eg_regex_get but for errno; EG_REGEX_FAILED as NULL */
static pcre2_code *regex_lookup(const struct eg_policy *p, uint32_t id, struct eg_arena *lent,
    struct eg_regex_cache **check)
{
	pcre2_code *code;
	uint32_t k = id;
	struct eg_regex_cache *own = check ? *check : NULL;
	if (own != NULL && own->owner == p->h && (code = code_in(p, own, id, &k)) != NULL)
		return code;
	_Atomic(struct eg_regex_cache *) *slot = cache_slot(p);
	if (check != NULL && own == NULL && lent != NULL &&
	    atomic_load_explicit(slot, memory_order_acquire) == NULL &&
	    (code = check_cache_decode(p, id, lent, check)) != NULL) {
		struct eg_regex_cache *expected = NULL; /* else a thread's regex memory: kept */
		atomic_compare_exchange_strong_explicit(slot, &expected, CHECK_DECODED,
		    memory_order_acq_rel, memory_order_acquire);
		return code;
	}
	struct eg_regex_cache *c = cache_get(p);
	if (c == NULL)
		return NULL;
	if ((code = code_in(p, c, id, &k)) != NULL)
		return code;
	/* Decoded once for all the regexes with the same source (k, which
	 * code_in set when it found nothing). */
	if (rxcode_usable(p, c) && (code = decode_group(p, c, id, k, lent)) != NULL)
		return code;
	return compile_source(p, c, id);
}

pcre2_code *eg_regex_get(const struct eg_policy *p, uint32_t id, struct eg_arena *lent,
    struct eg_regex_cache **check)
{
	if (id >= p->h->n_regex)
		return NULL;
	const struct eg_blk_regex *r = &p->regex[id];
	/* Checked here rather than when the block is mapped (policy_block.h). */
	if (r->src >= p->h->strings_len || (uint64_t)r->src + r->len >= p->h->strings_len)
		return NULL;
	int *eloc = eg_errno_loc(), saved = *eloc;
	pcre2_code *code = regex_lookup(p, id, lent, check);
	eg_errno_restore(eloc, saved);
	return code == EG_REGEX_FAILED ? NULL : code;
}
