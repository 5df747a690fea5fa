/*
 * Regexes are compiled on first use, per process, so that a process that
 * never execs a program named by a rule never pays for PCRE2 at all (the
 * constructor does no regex work, and maps nothing for it). Compilation
 * happens on the hook path, so memory comes from a reserved mmap region
 * through a lock-free bump allocator, and both the compile state and each
 * compiled code are published with a compare-and-swap: two threads (or a
 * vfork child and a thread) racing both build, one wins, the other's copy
 * is unmapped or simply never used.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "policy_block.h"

#define EG_COMPILE_FLAGS (PCRE2_UTF | PCRE2_MATCH_INVALID_UTF)

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
	 * pages are zero: every slot starts empty). */
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
	int err;
	PCRE2_SIZE erroff;
	code = pcre2_compile((PCRE2_SPTR)eg_blk_str(p, r->src), r->len, EG_COMPILE_FLAGS, &err,
	    &erroff, c->ctx);
	errno = saved;
	/* A syntax error is permanent; running out of arena is too. */
	pcre2_code *result = code != NULL ? code : EG_REGEX_FAILED;
	pcre2_code *expected = NULL;
	if (!atomic_compare_exchange_strong_explicit(&slot->code, &expected, result,
	    memory_order_acq_rel, memory_order_acquire))
		result = expected; /* another thread won; ours stays unused in the arena */
	return result == EG_REGEX_FAILED ? NULL : result;
}
