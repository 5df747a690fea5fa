/*
 * Regexes are compiled on first use, per process, so that a process that
 * never execs a program named by a rule never pays for PCRE2 at all (the
 * constructor does no regex work). Compilation happens on the hook path, so
 * memory comes from a reserved mmap region through a lock-free bump
 * allocator, and the compiled code is published with a compare-and-swap:
 * two threads (or a vfork child and a thread) racing on the same regex both
 * compile, one wins, the other's copy is simply never used.
 */
#include <errno.h>
#include <stdlib.h>

#include "policy_block.h"

#define EG_COMPILE_FLAGS (PCRE2_UTF | PCRE2_MATCH_INVALID_UTF)

/* The slots and the PCRE2 contexts come from the compile arena, which the
 * policy itself lives in (eg_policy_from_block): a guarded process's start
 * costs no malloc. */
int eg_regex_cache_init(struct eg_policy *p)
{
	p->slots = eg_arena_alloc(&p->compile_arena,
	    (size_t)(p->h->n_regex ? p->h->n_regex : 1) * sizeof *p->slots);
	if (p->slots == NULL)
		return -1;
	p->compile_gctx = pcre2_general_context_create(eg_arena_pcre2_malloc, eg_arena_pcre2_free,
	    &p->compile_arena);
	if (p->compile_gctx == NULL)
		return -1;
	p->compile_ctx = pcre2_compile_context_create(p->compile_gctx);
	return p->compile_ctx == NULL ? -1 : 0;
}

pcre2_code *eg_regex_get(const struct eg_policy *p, uint32_t id)
{
	if (id >= p->h->n_regex)
		return NULL;
	struct eg_regex_slot *slot = &p->slots[id];
	pcre2_code *code = atomic_load_explicit(&slot->code, memory_order_acquire);
	if (code != NULL)
		return code;
	if (atomic_load_explicit(&slot->failed, memory_order_relaxed))
		return NULL;

	int saved = errno;
	int err;
	PCRE2_SIZE erroff;
	const struct eg_blk_regex *r = &p->regex[id];
	code = pcre2_compile((PCRE2_SPTR)eg_blk_str(p, r->src), r->len, EG_COMPILE_FLAGS, &err,
	    &erroff, p->compile_ctx);
	errno = saved;
	if (code == NULL) {
		/* A syntax error is permanent; running out of arena is too. */
		atomic_store_explicit(&slot->failed, 1, memory_order_relaxed);
		return NULL;
	}
	pcre2_code *expected = NULL;
	if (!atomic_compare_exchange_strong_explicit(&slot->code, &expected, code,
	    memory_order_acq_rel, memory_order_acquire))
		code = expected; /* another thread won; ours stays unused in the arena */
	return code;
}
