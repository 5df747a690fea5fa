/* Adopt, validate and query a policy block. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "policy_block.h"
#include "regex_needs.h"
#include "hot_text.h"
#include "hot_str.h"

EG_HOT_TEXT uint32_t eg_name_hash(const char *s)
{
	uint32_t h = EG_NAME_HASH_INIT;
	for (; *s; s++)
		h = eg_name_hash_step(h, (unsigned char)*s);
	return h;
}

EG_HOT_TEXT uint64_t eg_fnv64(const void *data, size_t len, uint64_t h)
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

EG_HOT_TEXT static bool range_ok(uint32_t off, uint64_t n, size_t elem, size_t size)
{
	return off % 4 == 0 && (uint64_t)off + n * elem <= size;
}

/* A string is sound if it ends inside the strings section. Checked where
 * it is used, not for the whole section when the block is adopted: the
 * section's last byte is on the block's last page, one more page fault in
 * every process (and fork child) that execs. */
EG_HOT_TEXT static bool str_len(const struct eg_policy *p, uint32_t off, size_t *len)
{
	const char *s = p->strings;
	uint32_t end = p->h->strings_len, i = off;
	if (off >= end)
		return false;
	/* Eight bytes at a time from an 8-byte boundary (a check validates
	 * every string of each rule that applies, reasons of a hundred bytes
	 * and more, on every match): a word has a zero byte when one of its
	 * bytes borrows in w - 0x01..01 and was below 0x80. */
	for (; i < end && ((uintptr_t)(s + i) & 7) != 0; i++)
		if (s[i] == '\0')
			goto found;
	for (; end - i >= 8; i += 8) {
		uint64_t w;
		memcpy(&w, s + i, 8);
		if (((w - 0x0101010101010101ull) & ~w & 0x8080808080808080ull) != 0)
			break;
	}
	for (; i < end; i++)
		if (s[i] == '\0')
			goto found;
	return false;
found:
	*len = i - off;
	return true;
}

EG_HOT_TEXT static bool str_ok(const struct eg_policy *p, uint32_t off)
{
	size_t len;
	return str_len(p, off, &len);
}

EG_HOT_TEXT static bool list_ok(const struct eg_policy *p, uint32_t first, uint32_t n, uint32_t mult)
{
	return (uint64_t)first + (uint64_t)n * mult <= p->h->n_u32;
}

EG_HOT_TEXT static bool ids_ok(const struct eg_policy *p, uint32_t first, uint32_t n, uint32_t limit)
{
	for (uint32_t i = 0; i < n; i++)
		if (p->u32[first + i] >= limit)
			return false;
	return true;
}

/* A file index, and its name sound (when the block lists files). */
EG_HOT_TEXT static bool file_ok(const struct eg_policy *p, uint32_t file)
{
	if (!p->h->n_files)
		return file == 0;
	return file < p->h->n_files && str_ok(p, p->files[file]);
}

/* The header and the section bounds, and the two small sections (files,
 * settings) that are read without a lookup. Touches the header page (the
 * files and settings follow it) and the settings' strings; a file's name
 * is checked with the rule or setting that names it. The size of the block
 * does not matter. */
EG_HOT_TEXT static bool validate_header(struct eg_policy *p)
{
	const struct eg_blk_header *h = p->h;
	size_t size = p->size;
	if (size < sizeof *h || !eg_hs_eq_n(h->magic, EG_HOT_STR(EG_BLOCK_MAGIC), sizeof EG_BLOCK_MAGIC) ||
	    h->version != EG_BLOCK_VERSION || h->size != size || size > EG_BLOCK_MAX_SIZE)
		return false;
	if (!range_ok(h->rules_off, h->n_rules, sizeof(struct eg_blk_rule), size) ||
	    !range_ok(h->regex_off, h->n_regex, sizeof(struct eg_blk_regex), size) ||
	    h->regex_off % 8 != 0 ||
	    !range_ok(h->buckets_off, h->n_buckets, sizeof(struct eg_blk_bucket), size) ||
	    !range_ok(h->u32_off, h->n_u32, sizeof(uint32_t), size) ||
	    !range_ok(h->files_off, h->n_files, sizeof(uint32_t), size) ||
	    !range_ok(h->settings_off, h->n_settings, sizeof(struct eg_blk_setting), size) ||
	    (uint64_t)h->strings_off + h->strings_len > size || h->strings_len == 0)
		return false;
	/* The stored codes' bounds only: each entry, and the head's contents,
	 * are checked on first use (regex_lazy.c); what is wrong there means
	 * compiling. */
	if ((h->rxhead_off != 0 && (h->rxhead_off % 8 != 0 ||
	    !range_ok(h->rxhead_off, 1, sizeof(struct eg_blk_rxhead), size))) ||
	    (uint64_t)h->rxcodes_off + h->rxcodes_len > size)
		return false;
	if (h->n_buckets == 0 || (h->n_buckets & (h->n_buckets - 1)) != 0)
		return false;
	if (h->filter_log2 != 0 && (h->filter_log2 < EG_FILTER_LOG2_MIN ||
	    h->filter_log2 > EG_FILTER_LOG2_MAX || h->filter_off % 8 != 0 ||
	    !range_ok(h->filter_off, 1u << (h->filter_log2 - 3), 1, size)))
		return false;
	if (h->first_size != 0 && (h->first_off % 8 != 0 || h->first_off == 0 ||
	    (uint64_t)h->first_off + h->first_size > size || h->n_first == 0 ||
	    !range_ok(h->first_hashes_off, h->n_first, sizeof(uint32_t), size)))
		return false;
	p->filter = h->filter_log2 ? (const void *)(p->base + h->filter_off) : NULL;
	p->filter_log2 = h->filter_log2;
	p->rules = (const void *)(p->base + h->rules_off);
	p->regex = (const void *)(p->base + h->regex_off);
	p->buckets = (const void *)(p->base + h->buckets_off);
	p->u32 = (const void *)(p->base + h->u32_off);
	p->files = (const void *)(p->base + h->files_off);
	p->settings = (const void *)(p->base + h->settings_off);
	p->strings = (const char *)(p->base + h->strings_off);
	for (uint32_t i = 0; i < h->n_settings; i++) {
		const struct eg_blk_setting *st = &p->settings[i];
		if (!str_ok(p, st->key) || !str_ok(p, st->value) || !file_ok(p, st->file))
			return false;
	}
	return true;
}

bool eg_policy_rule_ok(const struct eg_policy *p, uint32_t ri)
{
	return eg_policy_rule_match_ok(p, ri) && eg_policy_rule_shown_ok(p, ri);
}

bool eg_policy_rule_shown_ok(const struct eg_policy *p, uint32_t ri)
{
	const struct eg_blk_rule *r = &p->rules[ri];
	return str_ok(p, r->id) && str_ok(p, r->reason) && str_ok(p, r->programs) && file_ok(p, r->file);
}

EG_HOT_TEXT bool eg_policy_rule_match_ok(const struct eg_policy *p, uint32_t ri)
{
	const struct eg_blk_header *h = p->h;
	if (ri >= h->n_rules)
		return false;
	const struct eg_blk_rule *r = &p->rules[ri];
	if (r->action > EG_ACT_DENY || r->severity > EG_SEV_CRITICAL)
		return false;
	if (!list_ok(p, r->match_first, r->n_match, 1) || !list_ok(p, r->unless_first, r->n_unless, 1) ||
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
	return true;
}

EG_HOT_TEXT bool eg_policy_regex_needs_ok(const struct eg_policy *p, const struct eg_blk_regex *r)
{
	return r->n_needs <= EG_NEEDS_MAX && list_ok(p, r->needs_first, r->n_needs, 1);
}

EG_HOT_TEXT bool eg_policy_regex_need(const struct eg_policy *p, const struct eg_blk_regex *r, uint32_t k,
    const char **lit, size_t *len)
{
	uint32_t off = p->u32[r->needs_first + k];
	if (!str_len(p, off, len) || *len == 0)
		return false;
	*lit = p->strings + off;
	return true;
}

EG_HOT_TEXT int eg_policy_init_block(struct eg_policy *p, const void *block, size_t size, bool owned_mmap)
{
	*p = (struct eg_policy){ .base = block, .size = size, .h = block };
	atomic_init(&p->cache, NULL);
	atomic_init(&p->first_cache, NULL);
	if (((uintptr_t)block % 8) != 0 || !validate_header(p))
		return -1;
	p->owned_mmap = owned_mmap;
	return 0;
}

struct eg_policy *eg_policy_from_block(const void *block, size_t size, bool owned_mmap)
{
	/* A page of its own, not malloc: callers include the preload library's
	 * fallback path. */
	int saved = errno;
	struct eg_policy *p = mmap(NULL, sizeof *p, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	errno = saved;
	if (p == MAP_FAILED)
		return NULL;
	if (eg_policy_init_block(p, block, size, owned_mmap) < 0) {
		munmap(p, sizeof *p);
		return NULL;
	}
	p->owned_self = true;
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
	eg_regex_cache_free(p);
	if (p->owned_mmap)
		munmap((void *)p->base, p->size);
	else if (p->owned_heap)
		free((void *)p->base);
	if (p->owned_self)
		munmap(p, sizeof *p);
}

size_t eg_policy_rule_count(const struct eg_policy *p)
{
	return p->h->n_rules;
}

int eg_policy_rule_info(const struct eg_policy *p, uint32_t rule, struct eg_rule_info *out)
{
	if (p == NULL || !eg_policy_rule_ok(p, rule))
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

/* The bucket of `name`, whose eg_name_hash is h, in p's index (as
 * eg_policy_find, with the name filter passed). */
EG_HOT_TEXT static int find_hashed(const struct eg_policy *p, const char *name, uint32_t h,
    const struct eg_blk_bucket **out)
{
	uint32_t mask = p->h->n_buckets - 1;
	for (uint32_t i = 0, slot = h & mask; i <= mask; i++, slot = (slot + 1) & mask) {
		const struct eg_blk_bucket *b = &p->buckets[slot];
		if (b->name == 0)
			return 0;
		if (b->hash != h)
			continue;
		if (!str_ok(p, b->name))
			return -1;
		if (strcmp(eg_blk_str(p, b->name), name) != 0)
			continue;
		if (!list_ok(p, b->rules_first, b->n_rules, 1) ||
		    !ids_ok(p, b->rules_first, b->n_rules, p->h->n_rules))
			return -1;
		*out = b;
		return 1;
	}
	return 0;
}

/* The name filter first, on the block's first page: a name it rules out is
 * in no bucket, and is told without reading the index (with 10,000
 * programs a 1 MiB table, a page fault and a window of memory for each
 * name looked up). */
EG_HOT_TEXT static bool filter_passes(const struct eg_policy *p, uint32_t h)
{
	return p->filter == NULL || eg_filter_maybe(p->filter, p->filter_log2, h);
}

EG_HOT_TEXT int eg_policy_find(const struct eg_policy *p, const char *name, const struct eg_blk_bucket **out)
{
	*out = NULL;
	if (name == NULL || *name == '\0')
		return 0;
	uint32_t h = eg_name_hash(name);
	return filter_passes(p, h) ? find_hashed(p, name, h, out) : 0;
}

/* Is h among the first part's programs' hashes (sorted)? */
EG_HOT_TEXT static bool first_has(const struct eg_policy *p, uint32_t h)
{
	const uint32_t *hashes = (const void *)(p->base + p->h->first_hashes_off);
	uint32_t lo = 0, n = p->h->n_first, hi = n;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (hashes[mid] < h)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && hashes[lo] == h;
}

/* Adopt p's first part into *first: its compile state p's first_cache. */
EG_HOT_TEXT static int first_adopt(const struct eg_policy *p, struct eg_policy *first)
{
	if (eg_policy_init_block(first, p->base + p->h->first_off, p->h->first_size, false) < 0 ||
	    first->h->first_size != 0) {
		first->base = NULL;
		return -1;
	}
	first->first_part = true;
	first->cache_at = &((struct eg_policy *)p)->first_cache;
	return 0;
}

EG_HOT_TEXT int eg_policy_find_first(const struct eg_policy *p, const char *name, struct eg_policy *first,
    const struct eg_blk_bucket **out, bool *in_first)
{
	*in_first = false;
	*out = NULL;
	if (name == NULL || *name == '\0')
		return 0;
	uint32_t h = eg_name_hash(name);
	if (!filter_passes(p, h))
		return 0;
	if (p->h->first_size != 0 && !p->first_part && first_has(p, h)) {
		if (first->base == NULL && first_adopt(p, first) < 0)
			return -1;
		int found = find_hashed(first, name, h, out);
		if (found != 0) {
			*in_first = found > 0;
			return found;
		}
		/* a name of the same hash: the whole block's index */
	}
	return find_hashed(p, name, h, out);
}
