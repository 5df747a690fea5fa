/* Adopt, validate and query a policy block. */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "policy_block.h"

uint32_t eg_name_hash(const char *s)
{
	uint32_t h = 2166136261u;
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 16777619u;
	}
	return h;
}

uint64_t eg_fnv64(const void *data, size_t len, uint64_t h)
{
	const unsigned char *p = data;
	if (h == 0)
		h = 14695981039346656037ull;
	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 1099511628211ull;
	}
	return h;
}

static bool range_ok(uint32_t off, uint64_t n, size_t elem, size_t size)
{
	return off % 4 == 0 && (uint64_t)off + n * elem <= size;
}

static bool str_ok(const struct eg_policy *p, uint32_t off)
{
	return off < p->h->strings_len;
}

static bool list_ok(const struct eg_policy *p, uint32_t first, uint32_t n, uint32_t mult)
{
	return (uint64_t)first + (uint64_t)n * mult <= p->h->n_u32;
}

static bool ids_ok(const struct eg_policy *p, uint32_t first, uint32_t n, uint32_t limit)
{
	for (uint32_t i = 0; i < n; i++)
		if (p->u32[first + i] >= limit)
			return false;
	return true;
}

/* Every offset is checked once here, so the hook path can trust the block. */
static bool validate(struct eg_policy *p)
{
	const struct eg_blk_header *h = p->h;
	size_t size = p->size;
	if (size < sizeof *h || memcmp(h->magic, EG_BLOCK_MAGIC, sizeof EG_BLOCK_MAGIC) != 0 ||
	    h->version != EG_BLOCK_VERSION || h->size != size || size > EG_BLOCK_MAX_SIZE)
		return false;
	if (!range_ok(h->rules_off, h->n_rules, sizeof(struct eg_blk_rule), size) ||
	    !range_ok(h->regex_off, h->n_regex, sizeof(struct eg_blk_regex), size) ||
	    !range_ok(h->buckets_off, h->n_buckets, sizeof(struct eg_blk_bucket), size) ||
	    !range_ok(h->u32_off, h->n_u32, sizeof(uint32_t), size) ||
	    !range_ok(h->files_off, h->n_files, sizeof(uint32_t), size) ||
	    !range_ok(h->settings_off, h->n_settings, sizeof(struct eg_blk_setting), size) ||
	    (uint64_t)h->strings_off + h->strings_len > size || h->strings_len == 0)
		return false;
	if (h->n_buckets == 0 || (h->n_buckets & (h->n_buckets - 1)) != 0)
		return false;
	p->rules = (const void *)(p->base + h->rules_off);
	p->regex = (const void *)(p->base + h->regex_off);
	p->buckets = (const void *)(p->base + h->buckets_off);
	p->u32 = (const void *)(p->base + h->u32_off);
	p->files = (const void *)(p->base + h->files_off);
	p->settings = (const void *)(p->base + h->settings_off);
	p->strings = (const char *)(p->base + h->strings_off);
	if (p->strings[h->strings_len - 1] != '\0' || p->strings[0] != '\0')
		return false;
	for (uint32_t i = 0; i < h->n_files; i++)
		if (!str_ok(p, p->files[i]))
			return false;
	for (uint32_t i = 0; i < h->n_settings; i++) {
		const struct eg_blk_setting *st = &p->settings[i];
		if (!str_ok(p, st->key) || !str_ok(p, st->value) ||
		    (h->n_files ? st->file >= h->n_files : st->file != 0))
			return false;
	}
	for (uint32_t i = 0; i < h->n_regex; i++) {
		const struct eg_blk_regex *r = &p->regex[i];
		if (!str_ok(p, r->src) || (uint64_t)r->src + r->len >= h->strings_len)
			return false;
	}
	for (uint32_t i = 0; i < h->n_rules; i++) {
		const struct eg_blk_rule *r = &p->rules[i];
		if (!str_ok(p, r->id) || !str_ok(p, r->reason) || !str_ok(p, r->programs) ||
		    (h->n_files ? r->file >= h->n_files : r->file != 0) || r->action > EG_ACT_DENY ||
		    r->severity > EG_SEV_CRITICAL)
			return false;
		if (!list_ok(p, r->match_first, r->n_match, 1) ||
		    !list_ok(p, r->unless_first, r->n_unless, 1) ||
		    !list_ok(p, r->cwd_first, r->n_cwd, 1) || !list_ok(p, r->env_first, r->n_env, 2))
			return false;
		if (!ids_ok(p, r->match_first, r->n_match, h->n_regex) ||
		    !ids_ok(p, r->unless_first, r->n_unless, h->n_regex) ||
		    !ids_ok(p, r->cwd_first, r->n_cwd, h->n_regex))
			return false;
		for (uint32_t e = 0; e < r->n_env; e++)
			if (!str_ok(p, p->u32[r->env_first + 2 * e]) ||
			    p->u32[r->env_first + 2 * e + 1] >= h->n_regex)
				return false;
	}
	for (uint32_t i = 0; i < h->n_buckets; i++) {
		const struct eg_blk_bucket *b = &p->buckets[i];
		if (b->name == 0)
			continue;
		if (!str_ok(p, b->name) || !list_ok(p, b->rules_first, b->n_rules, 1) ||
		    !ids_ok(p, b->rules_first, b->n_rules, h->n_rules))
			return false;
	}
	return true;
}

struct eg_policy *eg_policy_from_block(const void *block, size_t size, bool owned_mmap)
{
	/* The policy lives at the start of its own compile arena (fresh,
	 * zero-filled pages): no malloc when a guarded process starts. */
	struct eg_arena arena;
	if (((uintptr_t)block % 8) != 0 || eg_arena_map(&arena, EG_COMPILE_ARENA_SIZE) < 0)
		return NULL;
	struct eg_policy *p = eg_arena_alloc(&arena, sizeof *p);
	if (p == NULL) {
		eg_arena_unmap(&arena);
		return NULL;
	}
	eg_arena_init(&p->compile_arena, arena.base, arena.size);
	atomic_store(&p->compile_arena.used, atomic_load(&arena.used));
	p->base = block;
	p->size = size;
	p->h = block;
	if (!validate(p) || eg_regex_cache_init(p) < 0) {
		eg_arena_unmap(&arena);
		return NULL;
	}
	p->owned_mmap = owned_mmap;
	return p;
}

const void *eg_policy_block(const struct eg_policy *p, size_t *size)
{
	*size = p->size;
	return p->base;
}

uint64_t eg_policy_hash(const struct eg_policy *p)
{
	/* Zero when built with EG_BUILD_NO_HASH: the hash is of the block with
	 * the field zero, which is the block as it is. */
	if (p->h->hash != 0)
		return p->h->hash;
	return eg_fnv64(p->base, p->size, 0);
}

void eg_policy_free(struct eg_policy *p)
{
	if (p == NULL)
		return;
	/* Contexts, compiled codes and p itself live in the arena. */
	struct eg_arena arena = { .base = p->compile_arena.base, .size = p->compile_arena.size };
	if (p->owned_mmap)
		munmap((void *)p->base, p->size);
	else if (p->owned_heap)
		free((void *)p->base);
	eg_arena_unmap(&arena);
}

size_t eg_policy_rule_count(const struct eg_policy *p)
{
	return p->h->n_rules;
}

int eg_policy_rule_info(const struct eg_policy *p, uint32_t rule, struct eg_rule_info *out)
{
	if (p == NULL || rule >= p->h->n_rules)
		return -1;
	const struct eg_blk_rule *r = &p->rules[rule];
	out->id = eg_blk_str(p, r->id);
	out->file = p->h->n_files ? eg_blk_str(p, p->files[r->file]) : "";
	out->line = r->line;
	out->action = r->action;
	out->severity = r->severity;
	out->reason = eg_blk_str(p, r->reason);
	out->programs = eg_blk_str(p, r->programs);
	return 0;
}

const struct eg_blk_bucket *eg_policy_lookup(const struct eg_policy *p, const char *name)
{
	if (name == NULL || *name == '\0')
		return NULL;
	uint32_t h = eg_name_hash(name);
	uint32_t mask = p->h->n_buckets - 1;
	for (uint32_t i = 0, slot = h & mask; i <= mask; i++, slot = (slot + 1) & mask) {
		const struct eg_blk_bucket *b = &p->buckets[slot];
		if (b->name == 0)
			return NULL;
		if (b->hash == h && strcmp(eg_blk_str(p, b->name), name) == 0)
			return b;
	}
	return NULL;
}
