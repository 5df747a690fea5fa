/* Flatten a parsed ruleset into a policy block (see policy_block.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "policy_block.h"

struct vec {
	unsigned char *v;
	size_t n, cap;
};

static int vec_put(struct vec *b, const void *data, size_t n)
{
	if (b->n + n > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->n + n)
			cap *= 2;
		unsigned char *nv = realloc(b->v, cap);
		if (nv == NULL)
			return -1;
		b->v = nv;
		b->cap = cap;
	}
	memcpy(b->v + b->n, data, n);
	b->n += n;
	return 0;
}

struct builder {
	struct vec strings, rules, regex, u32, files;
	bool oom;
};

static uint32_t add_str(struct builder *b, const char *s)
{
	if (s == NULL || *s == '\0')
		return 0;
	uint32_t off = (uint32_t)b->strings.n;
	if (vec_put(&b->strings, s, strlen(s) + 1) < 0)
		b->oom = true;
	return off;
}

static uint32_t add_u32(struct builder *b, uint32_t v)
{
	uint32_t idx = (uint32_t)(b->u32.n / sizeof(uint32_t));
	if (vec_put(&b->u32, &v, sizeof v) < 0)
		b->oom = true;
	return idx;
}

static uint32_t add_regex(struct builder *b, const char *src)
{
	struct eg_blk_regex r = { .src = add_str(b, src), .len = (uint32_t)strlen(src) };
	uint32_t id = (uint32_t)(b->regex.n / sizeof r);
	if (vec_put(&b->regex, &r, sizeof r) < 0)
		b->oom = true;
	return id;
}

/* Regex ids are handed out consecutively, so a list is first_id .. +n. */
static uint32_t add_regex_list(struct builder *b, const struct eg_pattern *pats, size_t n)
{
	uint32_t first_id = (uint32_t)(b->regex.n / sizeof(struct eg_blk_regex));
	for (size_t i = 0; i < n; i++)
		add_regex(b, pats[i].re);
	uint32_t first = (uint32_t)(b->u32.n / sizeof(uint32_t));
	for (size_t i = 0; i < n; i++)
		add_u32(b, first_id + (uint32_t)i);
	return first;
}

struct prog_entry {
	const char *name;
	uint32_t *rules;
	size_t n, cap;
};

static int prog_cmp(const void *a, const void *b)
{
	return strcmp(((const struct prog_entry *)a)->name, ((const struct prog_entry *)b)->name);
}

static int build_programs(const struct eg_ruleset *rs, struct prog_entry **out, size_t *n_out)
{
	size_t n = 0, cap = 0;
	struct prog_entry *v = NULL;
	for (size_t r = 0; r < rs->n_rules; r++) {
		for (size_t i = 0; i < rs->rules[r].n_programs; i++) {
			const char *name = rs->rules[r].programs[i];
			size_t j;
			for (j = 0; j < n; j++)
				if (strcmp(v[j].name, name) == 0)
					break;
			if (j == n) {
				if (n == cap) {
					cap = cap ? cap * 2 : 64;
					struct prog_entry *nv = reallocarray(v, cap, sizeof *v);
					if (nv == NULL)
						goto oom;
					v = nv;
				}
				v[n++] = (struct prog_entry){ .name = name };
			}
			struct prog_entry *e = &v[j];
			if (e->n > 0 && e->rules[e->n - 1] == r)
				continue; /* the same name twice in one rule */
			if (e->n == e->cap) {
				e->cap = e->cap ? e->cap * 2 : 4;
				uint32_t *nr = reallocarray(e->rules, e->cap, sizeof *nr);
				if (nr == NULL)
					goto oom;
				e->rules = nr;
			}
			e->rules[e->n++] = (uint32_t)r;
		}
	}
	if (n > 1)
		qsort(v, n, sizeof *v, prog_cmp);
	*out = v;
	*n_out = n;
	return 0;
oom:
	for (size_t j = 0; j < n; j++)
		free(v[j].rules);
	free(v);
	return -1;
}

static char *join_programs(const struct eg_rule *r)
{
	size_t len = 1;
	for (size_t i = 0; i < r->n_programs; i++)
		len += strlen(r->programs[i]) + 1;
	char *s = malloc(len);
	if (s == NULL)
		return NULL;
	s[0] = '\0';
	for (size_t i = 0; i < r->n_programs; i++) {
		if (i)
			strlcat(s, " ", len);
		strlcat(s, r->programs[i], len);
	}
	return s;
}

static size_t align8(size_t n)
{
	return (n + 7u) & ~(size_t)7u;
}

struct eg_policy *eg_policy_build(const struct eg_ruleset *rs, struct eg_diags *d)
{
	struct builder b = { 0 };
	struct prog_entry *progs = NULL;
	size_t n_progs = 0;
	struct eg_policy *p = NULL;
	unsigned char *block = NULL;

	vec_put(&b.strings, "", 1); /* offset 0 is the empty string */
	for (size_t f = 0; f < rs->n_files; f++) {
		uint32_t off = add_str(&b, rs->files[f]);
		if (vec_put(&b.files, &off, sizeof off) < 0)
			b.oom = true;
	}
	for (size_t r = 0; r < rs->n_rules; r++) {
		const struct eg_rule *src = &rs->rules[r];
		char *progs_joined = join_programs(src);
		if (progs_joined == NULL) {
			b.oom = true;
			break;
		}
		uint32_t file_idx = 0;
		for (size_t f = 0; f < rs->n_files; f++)
			if (src->file && strcmp(rs->files[f], src->file) == 0)
				file_idx = (uint32_t)f;
		struct eg_blk_rule br = {
			.id = add_str(&b, src->id),
			.reason = add_str(&b, src->reason),
			.programs = add_str(&b, progs_joined),
			.file = file_idx,
			.line = src->line,
			.file_order = src->file_order,
			.action = (uint8_t)src->action,
			.severity = (uint8_t)src->severity,
			.protected_src = src->protected_src,
		};
		free(progs_joined);
		br.n_match = (uint32_t)src->n_match;
		br.match_first = add_regex_list(&b, src->match, src->n_match);
		br.n_unless = (uint32_t)src->n_unless;
		br.unless_first = add_regex_list(&b, src->unless, src->n_unless);
		br.n_cwd = (uint32_t)src->n_cwd;
		br.cwd_first = add_regex_list(&b, src->cwd, src->n_cwd);
		br.n_env = (uint32_t)src->n_env;
		br.env_first = (uint32_t)(b.u32.n / sizeof(uint32_t));
		for (size_t i = 0; i < src->n_env; i++) {
			add_u32(&b, add_str(&b, src->env[i].name));
			add_u32(&b, add_regex(&b, src->env[i].re.re));
		}
		if (vec_put(&b.rules, &br, sizeof br) < 0)
			b.oom = true;
	}

	if (build_programs(rs, &progs, &n_progs) < 0)
		b.oom = true;
	size_t n_buckets = 16;
	while (n_buckets < n_progs * 2)
		n_buckets *= 2;
	struct eg_blk_bucket *buckets = calloc(n_buckets, sizeof *buckets);
	if (buckets == NULL)
		b.oom = true;
	for (size_t i = 0; buckets && i < n_progs; i++) {
		uint32_t h = eg_name_hash(progs[i].name);
		size_t slot = h & (n_buckets - 1);
		while (buckets[slot].name != 0)
			slot = (slot + 1) & (n_buckets - 1);
		buckets[slot].name = add_str(&b, progs[i].name);
		buckets[slot].hash = h;
		buckets[slot].n_rules = (uint32_t)progs[i].n;
		buckets[slot].rules_first = (uint32_t)(b.u32.n / sizeof(uint32_t));
		for (size_t j = 0; j < progs[i].n; j++)
			add_u32(&b, progs[i].rules[j]);
	}
	if (b.oom)
		goto oom;

	struct eg_blk_header h = { .version = EG_BLOCK_VERSION };
	memcpy(h.magic, EG_BLOCK_MAGIC, sizeof EG_BLOCK_MAGIC);
	size_t off = align8(sizeof h);
	h.n_rules = (uint32_t)rs->n_rules;
	h.rules_off = (uint32_t)off;
	off = align8(off + b.rules.n);
	h.n_regex = (uint32_t)(b.regex.n / sizeof(struct eg_blk_regex));
	h.regex_off = (uint32_t)off;
	off = align8(off + b.regex.n);
	h.n_buckets = (uint32_t)n_buckets;
	h.buckets_off = (uint32_t)off;
	off = align8(off + n_buckets * sizeof *buckets);
	h.n_u32 = (uint32_t)(b.u32.n / sizeof(uint32_t));
	h.u32_off = (uint32_t)off;
	off = align8(off + b.u32.n);
	h.n_files = (uint32_t)rs->n_files;
	h.files_off = (uint32_t)off;
	off = align8(off + b.files.n);
	h.strings_len = (uint32_t)b.strings.n;
	h.strings_off = (uint32_t)off;
	off = align8(off + b.strings.n);
	if (off > EG_BLOCK_MAX_SIZE) {
		eg_diags_add(d, NULL, 0, 0, "the rules in effect are too large (%zu bytes)", off);
		goto fail;
	}
	h.size = (uint32_t)off;

	block = calloc(1, off);
	if (block == NULL)
		goto oom;
	memcpy(block + h.rules_off, b.rules.v, b.rules.n);
	memcpy(block + h.regex_off, b.regex.v, b.regex.n);
	memcpy(block + h.buckets_off, buckets, n_buckets * sizeof *buckets);
	memcpy(block + h.u32_off, b.u32.v, b.u32.n);
	memcpy(block + h.files_off, b.files.v, b.files.n);
	memcpy(block + h.strings_off, b.strings.v, b.strings.n);
	memcpy(block, &h, sizeof h);
	h.hash = eg_fnv64(block, off, 0);
	memcpy(block, &h, sizeof h);

	p = eg_policy_from_block(block, off, false);
	if (p == NULL) {
		eg_diags_add(d, NULL, 0, 0, "internal error: built policy does not validate");
		goto fail;
	}
	p->owned_heap = true;
	block = NULL;
	goto done;
oom:
	eg_diags_add(d, NULL, 0, 0, "out of memory while building the policy");
fail:
	free(block);
	p = NULL;
done:
	for (size_t j = 0; j < n_progs; j++)
		free(progs[j].rules);
	free(progs);
	free(buckets);
	free(b.strings.v);
	free(b.rules.v);
	free(b.regex.v);
	free(b.u32.v);
	free(b.files.v);
	return p;
}
