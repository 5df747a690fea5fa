/* Flatten a parsed ruleset into a policy block (see policy_block.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "load_internal.h"
#include "policy_block.h"
#include "regex_needs.h"

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

/* Room for n more bytes, so that vec_put does not grow step by step. */
static int vec_reserve(struct vec *b, size_t n)
{
	if (b->n + n <= b->cap)
		return 0;
	unsigned char *nv = realloc(b->v, b->n + n);
	if (nv == NULL)
		return -1;
	b->v = nv;
	b->cap = b->n + n;
	return 0;
}

static size_t slen(const char *s)
{
	return s ? strlen(s) + 1 : 0;
}

struct builder {
	struct vec strings, rules, regex, u32, files, settings;
	bool lookup_only; /* EG_BUILD_FIRST_PART */
	/* The regexes' sources, put after every other string (sources_last):
	 * only a compile reads them. Offsets + 1 until then (0: empty). */
	struct vec sources;
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
	uint32_t id = (uint32_t)(b->regex.n / sizeof(struct eg_blk_regex));
	uint32_t src_off = 0;
	if (*src != '\0') {
		src_off = (uint32_t)b->sources.n + 1;
		if (vec_put(&b->sources, src, strlen(src) + 1) < 0)
			b->oom = true;
	}
	struct eg_blk_regex r = { .src = src_off, .len = (uint32_t)strlen(src), .canon = id,
		.group_end = id + 1 };
	if (vec_put(&b->regex, &r, sizeof r) < 0)
		b->oom = true;
	return id;
}

/* The regexes of a rule, which get consecutive ids: match, unless, cwd,
 * env. */
static size_t rule_regexes(const struct eg_rule *r)
{
	return r->n_match + r->n_unless + r->n_cwd + r->n_env;
}

/*
 * What each regex needs of its subject (regex_needs.h). Each program's name
 * is followed by the literals of its rules' regexes (a copy near enough is
 * used again, needs_str): a check of a program the rules name reads its
 * name and these, next to each other, and, when none is in the command,
 * nothing else of the strings or the codes. A rule's literals go with the
 * first program (in the order of build_programs) that names it. The lists
 * of string offsets go into the u32 pool beside each rule's own lists
 * (needs_emit).
 */
struct needs_table {
	struct vec offs;      /* uint32_t string offsets, the lists one after another */
	uint32_t *list;       /* per regex id: first index in offs, count */
	uint32_t *rule_first; /* per rule: the id of its first regex */
	bool *rule_done;
	uint32_t *seen;       /* open addressing: string offset of a literal, 0 = empty */
	size_t seen_size;     /* power of two, at most half full */
};

/* eg_name_hash of the first n bytes of s */
static uint32_t lit_hash(const char *s, size_t n)
{
	uint32_t h = EG_NAME_HASH_INIT;
	for (size_t i = 0; i < n; i++)
		h = eg_name_hash_step(h, (unsigned char)s[i]);
	return h;
}

/* A literal already added this close before the end of the strings is
 * used again; one further back is added again, beside the program's name
 * (a literal most programs' rules need, "--help", would otherwise be on
 * the page of the first of them, a page more for every other's check). */
#define NEEDS_REUSE_WITHIN 256u

/* The string offset of the literal, added when there is none near. */
static uint32_t needs_str(struct builder *b, struct needs_table *t, const char *lit, size_t n)
{
	size_t slot = lit_hash(lit, n) & (t->seen_size - 1);
	for (; t->seen[slot] != 0; slot = (slot + 1) & (t->seen_size - 1)) {
		const char *have = (const char *)b->strings.v + t->seen[slot];
		if (strncmp(have, lit, n) == 0 && have[n] == '\0')
			break;
	}
	if (t->seen[slot] != 0 && b->strings.n - t->seen[slot] <= NEEDS_REUSE_WITHIN)
		return t->seen[slot];
	char buf[EG_NEED_LEN_MAX + 1];
	memcpy(buf, lit, n);
	buf[n] = '\0';
	uint32_t off = add_str(b, buf);
	t->seen[slot] = off; /* the newest copy, near what follows */
	return off;
}

static void needs_of(struct builder *b, struct needs_table *t, const char *src, uint32_t id)
{
	struct eg_needs needs = { .n = 0 };
	if (src != NULL && *src != '\0')
		eg_regex_needs(src, strlen(src), &needs);
	t->list[2 * id] = (uint32_t)(t->offs.n / sizeof(uint32_t));
	t->list[2 * id + 1] = needs.n;
	for (unsigned k = 0; k < needs.n && !b->oom; k++) {
		uint32_t off = needs_str(b, t, needs.lit[k], needs.len[k]);
		if (vec_put(&t->offs, &off, sizeof off) < 0)
			b->oom = true;
	}
}

/* The literals of rule r's regexes, in the order their ids are given. */
static void needs_of_rule(struct builder *b, struct needs_table *t, const struct eg_ruleset *rs, size_t r)
{
	if (t->rule_done[r])
		return;
	t->rule_done[r] = true;
	const struct eg_rule *src = &rs->rules[r];
	uint32_t id = t->rule_first[r];
	for (size_t i = 0; i < src->n_match; i++)
		needs_of(b, t, src->match[i].re, id++);
	for (size_t i = 0; i < src->n_unless; i++)
		needs_of(b, t, src->unless[i].re, id++);
	for (size_t i = 0; i < src->n_cwd; i++)
		needs_of(b, t, src->cwd[i].re, id++);
	for (size_t i = 0; i < src->n_env; i++)
		needs_of(b, t, src->env[i].re.re, id++);
}

static bool needs_init(struct needs_table *t, const struct eg_ruleset *rs, size_t n_re)
{
	t->seen_size = 64;
	while (t->seen_size < 2 * n_re * EG_NEEDS_MAX)
		t->seen_size *= 2;
	t->seen = calloc(t->seen_size, sizeof *t->seen);
	t->list = calloc(2 * n_re + 2, sizeof *t->list);
	t->rule_first = calloc(rs->n_rules + 1, sizeof *t->rule_first);
	t->rule_done = calloc(rs->n_rules + 1, sizeof *t->rule_done);
	if (t->seen == NULL || t->list == NULL || t->rule_first == NULL || t->rule_done == NULL)
		return false;
	uint32_t id = 0;
	for (size_t r = 0; r < rs->n_rules; r++) {
		const struct eg_rule *src = &rs->rules[r];
		t->rule_first[r] = id;
		id += (uint32_t)rule_regexes(src);
	}
	return true;
}

static void needs_free(struct needs_table *t)
{
	free(t->offs.v);
	free(t->list);
	free(t->rule_first);
	free(t->rule_done);
	free(t->seen);
}

/* The lists of regexes first_id .. end_id - 1 (one rule's) into the u32
 * pool. */
static void needs_emit(struct builder *b, const struct needs_table *t, uint32_t first_id,
    uint32_t end_id)
{
	const uint32_t *offs = (const uint32_t *)(const void *)t->offs.v;
	for (size_t id = first_id; id < end_id && !b->oom; id++) {
		struct eg_blk_regex *rx = (struct eg_blk_regex *)(void *)b->regex.v + id;
		rx->needs_first = (uint32_t)(b->u32.n / sizeof(uint32_t));
		rx->n_needs = t->list[2 * id + 1];
		for (uint32_t k = 0; k < rx->n_needs; k++)
			add_u32(b, offs[t->list[2 * id] + k]);
	}
}

/* The sources after the rules' other strings (and before the names and
 * literals a lookup reads): a rule that applies reads its id and reason,
 * and these pages of the block only when a regex has no stored code. */
static void sources_last(struct builder *b)
{
	size_t base = b->strings.n;
	struct eg_blk_regex *rx = (void *)b->regex.v;
	if (b->lookup_only) {
		for (size_t i = 0; i < b->regex.n / sizeof *rx; i++)
			rx[i].src = 0;
		return;
	}
	if (b->sources.n == 0)
		return; /* no regex, or only empty ones (sources.v NULL) */
	if (vec_put(&b->strings, b->sources.v, b->sources.n) < 0) {
		b->oom = true;
		return;
	}
	for (size_t i = 0; i < b->regex.n / sizeof *rx; i++)
		rx[i].src = rx[i].src ? (uint32_t)(base + rx[i].src - 1) : 0;
}

static void add_regexes(struct builder *b, const struct eg_pattern *pats, size_t n)
{
	for (size_t i = 0; i < n; i++)
		add_regex(b, pats[i].re);
}

/* Regex ids are handed out consecutively, so a rule's list is first_id ..
 * +n: its index in the u32 pool. */
static uint32_t add_id_list(struct builder *b, uint32_t first_id, uint32_t n)
{
	uint32_t first = (uint32_t)(b->u32.n / sizeof(uint32_t));
	for (uint32_t i = 0; i < n; i++)
		add_u32(b, first_id + i);
	return first;
}

/* A program name and the rules indexed under it (ascending, no repeats). */
struct prog_entry {
	const char *name;
	uint32_t *rules; /* into the shared array of build_programs */
	uint32_t hash;   /* eg_name_hash(name) */
	uint32_t n;
	uint32_t last; /* the last rule counted, UINT32_MAX = none */
	uint32_t name_off; /* in the block's strings */
	uint32_t list_first; /* its rule list in the u32 pool */
};

/* By the first rule that names the program, then by name. */
static int prog_cmp(const void *a, const void *b)
{
	const struct prog_entry *x = a, *y = b;
	if (x->rules[0] != y->rules[0])
		return x->rules[0] < y->rules[0] ? -1 : 1;
	return strcmp(x->name, y->name);
}

/*
 * Every program name with the rules naming it, in the order of the first
 * rule that names it (prog_cmp: the order the block lays them out in,
 * eg_policy_build_ex). A hash table
 * finds a name's entry (no scan of the names seen so far); the rule lists
 * share one array, *shared_out, which the caller frees with the entries.
 */
static int build_programs(const struct eg_ruleset *rs, struct prog_entry **out, size_t *n_out,
    uint32_t **shared_out)
{
	size_t n_pairs = 0;
	for (size_t r = 0; r < rs->n_rules; r++)
		n_pairs += rs->rules[r].n_programs;
	size_t n_slots = 16;
	while (n_slots < n_pairs * 2)
		n_slots *= 2;
	uint32_t *slots = malloc(n_slots * sizeof *slots); /* entry index + 1, 0 = empty */
	uint32_t *pair_entry = malloc((n_pairs ? n_pairs : 1) * sizeof *pair_entry);
	struct prog_entry *v = malloc((n_pairs ? n_pairs : 1) * sizeof *v);
	uint32_t *shared = NULL;
	if (slots == NULL || pair_entry == NULL || v == NULL)
		goto oom;
	memset(slots, 0, n_slots * sizeof *slots);

	/* Pass 1: an entry per distinct name, and how many rules it gets. */
	size_t n = 0, k = 0, total = 0;
	for (size_t r = 0; r < rs->n_rules; r++) {
		for (size_t i = 0; i < rs->rules[r].n_programs; i++, k++) {
			const char *name = rs->rules[r].programs[i];
			uint32_t h = eg_name_hash(name);
			size_t slot = h & (n_slots - 1);
			while (slots[slot] != 0) {
				const struct prog_entry *e = &v[slots[slot] - 1];
				if (e->hash == h && strcmp(e->name, name) == 0)
					break;
				slot = (slot + 1) & (n_slots - 1);
			}
			if (slots[slot] == 0) {
				v[n] = (struct prog_entry){ .name = name, .hash = h, .last = UINT32_MAX };
				slots[slot] = (uint32_t)++n;
			}
			struct prog_entry *e = &v[slots[slot] - 1];
			pair_entry[k] = slots[slot] - 1;
			if (e->last == (uint32_t)r)
				continue; /* the same name twice in one rule */
			e->last = (uint32_t)r;
			e->n++;
			total++;
		}
	}
	shared = malloc((total ? total : 1) * sizeof *shared);
	if (shared == NULL)
		goto oom;
	size_t at = 0;
	for (size_t j = 0; j < n; j++) {
		v[j].rules = shared + at;
		at += v[j].n;
		v[j].n = 0;
	}
	/* Pass 2: fill the lists in rule order, so each is ascending. */
	k = 0;
	for (size_t r = 0; r < rs->n_rules; r++) {
		for (size_t i = 0; i < rs->rules[r].n_programs; i++, k++) {
			struct prog_entry *e = &v[pair_entry[k]];
			if (e->n > 0 && e->rules[e->n - 1] == (uint32_t)r)
				continue;
			e->rules[e->n++] = (uint32_t)r;
		}
	}
	if (n > 1)
		qsort(v, n, sizeof *v, prog_cmp);
	free(slots);
	free(pair_entry);
	*out = v;
	*n_out = n;
	*shared_out = shared;
	return 0;
oom:
	free(slots);
	free(pair_entry);
	free(v);
	free(shared);
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
	size_t o = 0;
	for (size_t i = 0; i < r->n_programs; i++) {
		if (i)
			s[o++] = ' ';
		size_t l = strlen(r->programs[i]);
		memcpy(s + o, r->programs[i], l);
		o += l;
	}
	s[o] = '\0';
	return s;
}

/* Rule r's id, reason and programs into the strings, and its variables'
 * names (env_names[env_at[r] ..]). */
static void rule_strings(struct builder *b, const struct eg_ruleset *rs, size_t r, uint32_t *env_names,
    const uint32_t *env_at)
{
	const struct eg_rule *src = &rs->rules[r];
	struct eg_blk_rule *br = (struct eg_blk_rule *)(void *)b->rules.v + r;
	for (size_t i = 0; i < src->n_env; i++)
		env_names[env_at[r] + i] = add_str(b, src->env[i].name);
	char *progs_joined = join_programs(src);
	if (progs_joined == NULL) {
		b->oom = true;
		return;
	}
	br->id = add_str(b, src->id);
	br->reason = add_str(b, src->reason);
	br->programs = add_str(b, progs_joined);
	free(progs_joined);
}

/* The kernel's window of fault-around (64 KiB) and where in it the
 * builder puts a place a lookup reads, in a block of more than CENTRE_FROM
 * bytes (eg_policy_build_ex). */
#define WINDOW ((size_t)64 << 10)
#define CENTRE (WINDOW / 2)
#define CENTRE_FROM ((size_t)256 << 10)

static size_t align8(size_t n)
{
	return (n + 7u) & ~(size_t)7u;
}

/* Copy a section to block + at and zero the padding after it (to the next
 * multiple of 8, where the next section starts, or the block ends). */
static void put_section(unsigned char *block, size_t at, const void *data, size_t n)
{
	if (n > 0)
		memcpy(block + at, data, n);
	memset(block + at + n, 0, align8(at + n) - (at + n));
}

/* No stored codes after all: no entry may point at one. */
static void drop_codes(struct builder *b, struct eg_blk_rxhead *head, struct vec *codes)
{
	struct eg_blk_regex *rx = (void *)b->regex.v;
	size_t n = b->regex.n / sizeof(struct eg_blk_regex);
	for (size_t i = 0; i < n; i++) {
		rx[i].code_off = rx[i].code_len = 0;
		rx[i].canon = (uint32_t)i;
		rx[i].group_end = (uint32_t)i + 1;
		rx[i].check = 0;
	}
	memset(head, 0, sizeof *head);
	codes->n = 0;
}

/* Serialize one code: the whole stream (free with pcre2_serialize_free), or
 * NULL. */
static uint8_t *serialize(const pcre2_code *code, int32_t copies, PCRE2_SIZE *len)
{
	const pcre2_code *codes[EG_RXCODE_GROUP_MAX];
	for (int32_t i = 0; i < copies; i++)
		codes[i] = code;
	uint8_t *ser = NULL;
	if (pcre2_serialize_encode(codes, copies, &ser, len, NULL) != copies)
		return NULL;
	return ser;
}

/*
 * The stored codes (policy_block.h): every regex compiled as the preload
 * library compiles it and serialized; the prefix once, in *head; each
 * distinct pattern's code once, in *codes, its entry in the regex section
 * (b->regex, updated in place). A regex that does not compile, or whose
 * code is too large, gets no stored code (the process that reaches it
 * compiles, and fails closed as before). Groups: the regexes of consecutive
 * rules with the same programs (rx_rules[id]: the rule of the
 * regex's rule), up to EG_RXCODE_GROUP_MAX codes and _GROUP_BYTES bytes.
 * head->magic stays zero when nothing is stored. 0, or -1 out of memory.
 */
static int build_rxcode(struct builder *b, const uint32_t *rx_rules, struct eg_blk_rxhead *head,
    struct vec *codes)
{
	struct eg_pcre2_id id;
	eg_pcre2_id_get(&id);
	size_t n = b->regex.n / sizeof(struct eg_blk_regex);
	if (n == 0)
		return 0;
	struct eg_blk_regex *rx = (void *)b->regex.v;
	const struct eg_blk_rule *rules = (const void *)b->rules.v;
	const char *strings = (const char *)b->strings.v;
	size_t n_slots = 16;
	while (n_slots < n * 2)
		n_slots *= 2;
	uint32_t *slots = calloc(n_slots, sizeof *slots); /* regex index + 1, 0 = empty */
	bool have_prefix = false, stop = false, oom = slots == NULL;
	static const unsigned char zeros[8];
	for (size_t i = 0; !oom && !stop && i < n; i++) {
		const char *src = strings + rx[i].src;
		rx[i].canon = (uint32_t)i;
		rx[i].group_end = (uint32_t)i + 1;
		size_t slot = eg_name_hash(src) & (n_slots - 1);
		while (slots[slot] != 0 && strcmp(strings + rx[slots[slot] - 1].src, src) != 0)
			slot = (slot + 1) & (n_slots - 1);
		if (slots[slot] != 0) {
			const struct eg_blk_regex *first = &rx[slots[slot] - 1];
			rx[i].canon = first->code_len ? first->canon : (uint32_t)i;
			rx[i].code_off = first->code_off;
			rx[i].code_len = first->code_len;
			continue;
		}
		slots[slot] = (uint32_t)i + 1;
		int err;
		PCRE2_SIZE erroff;
		pcre2_code *code = pcre2_compile((PCRE2_SPTR)src, rx[i].len, EG_COMPILE_FLAGS, &err,
		    &erroff, NULL);
		if (code == NULL)
			continue;
		PCRE2_SIZE ser_len = 0;
		uint8_t *ser = serialize(code, 1, &ser_len);
		if (!have_prefix && ser != NULL) {
			/* The prefix of a stream of a whole group's worth of codes. */
			PCRE2_SIZE group_len;
			uint8_t *group = serialize(code, EG_RXCODE_GROUP_MAX, &group_len);
			if (group != NULL && group_len > EG_RXCODE_PREFIX_LEN) {
				memcpy(head->prefix, group, EG_RXCODE_PREFIX_LEN);
				have_prefix = true;
			}
			if (group != NULL)
				pcre2_serialize_free(group);
		}
		/* A stream must be the prefix and the code (the prefix's size is
		 * PCRE2's, checked here), and its prefix the group's but for the
		 * count of codes (bytes 12-15): same PCRE2, same tables. */
		size_t code_size = 0;
		if (ser != NULL && (pcre2_pattern_info(code, PCRE2_INFO_SIZE, &code_size) != 0 ||
		    ser_len != EG_RXCODE_PREFIX_LEN + code_size)) {
			have_prefix = false; /* not the layout this file knows: store none */
			stop = true;
		}
		if (have_prefix && ser != NULL && ser_len > EG_RXCODE_PREFIX_LEN &&
		    ser_len - EG_RXCODE_PREFIX_LEN <= EG_RXCODE_MAX_CODE &&
		    codes->n + ser_len <= EG_BLOCK_MAX_SIZE && memcmp(head->prefix, ser, 12) == 0 &&
		    memcmp(head->prefix + 16, ser + 16, EG_RXCODE_PREFIX_LEN - 16) == 0) {
			size_t clen = ser_len - EG_RXCODE_PREFIX_LEN;
			rx[i].code_off = (uint32_t)codes->n;
			rx[i].code_len = (uint32_t)clen;
			if (vec_put(codes, ser + EG_RXCODE_PREFIX_LEN, clen) < 0 ||
			    vec_put(codes, zeros, align8(clen) - clen) < 0)
				oom = true;
		}
		if (ser != NULL)
			pcre2_serialize_free(ser);
		pcre2_code_free(code);
	}
	/* The groups, and each entry's check value (its id, then its bytes). */
	for (size_t i = 0; !oom && have_prefix && !stop && i < n;) {
		size_t end = i, bytes = 0;
		do {
			bytes += rx[end].code_len;
			end++;
		} while (end < n && end - i < EG_RXCODE_GROUP_MAX &&
		    bytes + rx[end].code_len <= EG_RXCODE_GROUP_BYTES &&
		    strcmp(strings + rules[rx_rules[end]].programs, strings + rules[rx_rules[i]].programs) == 0);
		for (; i < end; i++) {
			rx[i].group_end = (uint32_t)end;
			if (rx[i].code_len != 0)
				rx[i].check = eg_rx_check(codes->v + rx[i].code_off, rx[i].code_len, i);
		}
	}
	if (!oom && have_prefix && !stop) {
		memcpy(head->magic, EG_RXHEAD_MAGIC, sizeof EG_RXHEAD_MAGIC);
		head->id = id;
		head->prefix_check = eg_rx_check(head->prefix, sizeof head->prefix, 0);
	} else {
		drop_codes(b, head, codes);
	}
	free(slots);
	return oom ? -1 : 0;
}

static int u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

/* The regexes of the first n rules: the ids the first part shares. */
static size_t count_regexes(const struct eg_ruleset *rs, size_t n)
{
	size_t k = 0;
	for (size_t r = 0; r < n; r++)
		k += rule_regexes(&rs->rules[r]);
	return k;
}

/*
 * The first part of a large block (policy_block.h): the first rules, as many
 * as fit in `budget` bytes with a copy of the codes' head and its programs'
 * hashes, as a block of their own (no stored codes: the whole block's are
 * patched in, first_put) whose index has only the programs no later rule
 * names (progs, in the order of their first rule, are those with the first
 * rules first). Its bytes into *bytes (malloc), the sorted hashes of its
 * programs into *hashes (malloc). 1 built; 0 none fits; -1 out of memory.
 */
static int build_first(const struct eg_ruleset *rs, const struct prog_entry *progs, size_t n_progs,
    size_t budget, unsigned char **bytes, size_t *size, uint32_t **hashes, uint32_t *n_hashes)
{
	*bytes = NULL;
	*hashes = NULL;
	struct eg_rule *sub = malloc((rs->n_rules ? rs->n_rules : 1) * sizeof *sub);
	char **names = NULL;
	size_t n_names = 0;
	for (size_t r = 0; r < rs->n_rules; r++)
		n_names += rs->rules[r].n_programs;
	names = malloc((n_names ? n_names : 1) * sizeof *names);
	uint32_t *hs = malloc((n_progs ? n_progs : 1) * sizeof *hs);
	if (sub == NULL || names == NULL || hs == NULL)
		goto oom;
	/* A first guess from the sizes the rules' parts take in a block, then
	 * fewer rules until the part fits. */
	size_t n = 0, guess = sizeof(struct eg_blk_header) + 2048;
	for (; n < rs->n_rules; n++) {
		const struct eg_rule *r = &rs->rules[n];
		guess += sizeof(struct eg_blk_rule) +
		    rule_regexes(r) * (sizeof(struct eg_blk_regex) + 12) + slen(r->id) + slen(r->reason) +
		    2 * sizeof(struct eg_blk_bucket) + 8;
		for (size_t i = 0; i < r->n_programs; i++)
			guess += 2 * slen(r->programs[i]) + 4;
		if (guess > budget)
			break;
	}
	for (; n > 0; n -= n / 8 ? n / 8 : 1) {
		/* the programs no rule from n on names: those whose last rule is
		 * before n (their first rules are, so they come first in progs) */
		size_t k = 0, used = 0;
		for (size_t i = 0; i < n_progs && progs[i].rules[0] < n; i++)
			if (progs[i].rules[progs[i].n - 1] < n)
				hs[k++] = progs[i].hash;
		for (size_t r = 0; r < n; r++) {
			sub[r] = rs->rules[r];
			sub[r].programs = names + used;
			sub[r].n_programs = 0;
			for (size_t i = 0; i < rs->rules[r].n_programs; i++) {
				const char *name = rs->rules[r].programs[i];
				bool closed = false;
				for (size_t j = 0; j < n_progs && progs[j].rules[0] < n && !closed; j++)
					closed = strcmp(progs[j].name, name) == 0 && progs[j].rules[progs[j].n - 1] < n;
				if (closed)
					sub[r].programs[sub[r].n_programs++] = rs->rules[r].programs[i];
			}
			used += sub[r].n_programs;
		}
		if (k == 0)
			continue;
		struct eg_ruleset sub_rs = { .rules = sub, .n_rules = n, .files = rs->files,
			.files_protected = rs->files_protected, .n_files = rs->n_files };
		struct eg_diags d = { 0 };
		struct eg_policy *p = eg_policy_build_ex(&sub_rs,
		    EG_BUILD_NO_HASH | EG_BUILD_NO_CODES | EG_BUILD_FIRST_PART, &d);
		eg_diags_free(&d);
		if (p == NULL)
			goto oom;
		if (align8(p->size) + sizeof(struct eg_blk_rxhead) + 4 * k <= budget &&
		    p->h->n_regex == count_regexes(rs, n) && p->h->n_rules == n) {
			*size = p->size;
			*bytes = malloc(p->size);
			if (*bytes != NULL)
				memcpy(*bytes, p->base, p->size);
			eg_policy_free(p);
			if (*bytes == NULL)
				goto oom;
			qsort(hs, k, sizeof *hs, u32_cmp);
			*hashes = hs;
			*n_hashes = (uint32_t)k;
			free(sub);
			free(names);
			return 1;
		}
		eg_policy_free(p);
	}
	free(sub);
	free(names);
	free(hs);
	return 0;
oom:
	free(sub);
	free(names);
	free(hs);
	return -1;
}

/* The first part and its programs' hashes into the block, laid out in *h:
 * its size and its codes the whole block's (same ids, same stored codes). */
static void first_put(unsigned char *block, const struct eg_blk_header *h, const unsigned char *part,
    size_t len, size_t end, const uint32_t *hashes, const struct eg_blk_rxhead *rxhead)
{
	memset(block + h->first_hashes_off, 0, end - h->first_hashes_off);
	memcpy(block + h->first_hashes_off, hashes, h->n_first * sizeof *hashes);
	unsigned char *fp = block + h->first_off;
	memcpy(fp, part, len);
	struct eg_blk_header fh;
	memcpy(&fh, fp, sizeof fh);
	fh.size = h->first_size;
	if (rxhead != NULL) {
		fh.rxhead_off = (uint32_t)align8(len);
		memcpy(fp + fh.rxhead_off, rxhead, sizeof *rxhead);
	}
	fh.rxcodes_off = h->rxcodes_off - h->first_off;
	fh.rxcodes_len = h->rxcodes_len;
	/* Its strings run to the end of the block's, whose regex sources it
	 * compiles from, if it must (EG_BUILD_FIRST_PART left them out). */
	size_t own = h->first_off + fh.strings_off;
	fh.strings_len = (uint32_t)(h->strings_off + h->strings_len - own);
	uint32_t shift = (uint32_t)(h->strings_off - own);
	struct eg_blk_regex *frx = (void *)(fp + fh.regex_off);
	const struct eg_blk_regex *grx = (const void *)(block + h->regex_off);
	for (uint32_t i = 0; i < fh.n_regex; i++) {
		frx[i].src = grx[i].src ? grx[i].src + shift : 0;
		frx[i].code_off = grx[i].code_off;
		frx[i].code_len = grx[i].code_len;
		frx[i].check = grx[i].check;
		frx[i].canon = grx[i].canon;
		frx[i].group_end = grx[i].group_end < fh.n_regex ? grx[i].group_end : fh.n_regex;
	}
	memcpy(fp, &fh, sizeof fh);
}

struct eg_policy *eg_policy_build(const struct eg_ruleset *rs, struct eg_diags *d)
{
	return eg_policy_build_ex(rs, 0, d);
}

/* The block's file index for a rule or setting from `file`: the last file of
 * that name, as a search of them all finds (file_order is a hint). */
static uint32_t file_index(const struct eg_ruleset *rs, const uint32_t *same_as, const char *file,
    size_t file_order)
{
	if (!file)
		return 0;
	if (file_order < rs->n_files && strcmp(rs->files[file_order], file) == 0)
		return same_as[file_order];
	uint32_t idx = 0;
	for (size_t f = 0; f < rs->n_files; f++)
		if (strcmp(rs->files[f], file) == 0)
			idx = (uint32_t)f;
	return idx;
}

struct eg_policy *eg_policy_build_ex(const struct eg_ruleset *rs, unsigned flags,
    struct eg_diags *d)
{
	struct builder b = { .lookup_only = (flags & EG_BUILD_FIRST_PART) != 0 };
	struct vec rxcodes = { 0 }, rx_rules = { 0 };
	struct needs_table needs = { 0 };
	struct eg_blk_rxhead rxhead = { 0 };
	struct prog_entry *progs = NULL;
	uint32_t *prog_rules = NULL;
	size_t n_progs = 0;
	/* same_as[f]: the last file index with the name of file f (a rule's
	 * file is the last file of its name, as a search of them all finds) */
	uint32_t *same_as = malloc((rs->n_files ? rs->n_files : 1) * sizeof *same_as);
	if (same_as == NULL)
		b.oom = true;
	for (size_t f = rs->n_files; same_as && f-- > 0;) {
		same_as[f] = (uint32_t)f;
		for (size_t g = f + 1; g < rs->n_files; g++)
			if (strcmp(rs->files[g], rs->files[f]) == 0) {
				same_as[f] = same_as[g];
				break;
			}
	}
	struct eg_policy *p = NULL;
	unsigned char *block = NULL;
	unsigned char *first_part = NULL; /* build_first */
	size_t first_len = 0, first_end = 0;
	uint32_t *first_hashes = NULL, n_first = 0;

	/* Every section at its full size up front (strings: an upper bound). */
	size_t n_str = 1, n_re = 0, n_env = 0, n_pairs = 0;
	for (size_t f = 0; f < rs->n_files; f++)
		n_str += slen(rs->files[f]);
	for (size_t i = 0; i < rs->n_settings; i++)
		n_str += slen(rs->settings[i].key) + slen(rs->settings[i].value);
	for (size_t r = 0; r < rs->n_rules; r++) {
		const struct eg_rule *src = &rs->rules[r];
		n_str += slen(src->id) + slen(src->reason) + 1;
		for (size_t i = 0; i < src->n_programs; i++)
			n_str += 2 * slen(src->programs[i]); /* joined, and a bucket name */
		const struct eg_pattern *lists[] = { src->match, src->unless, src->cwd };
		const size_t counts[] = { src->n_match, src->n_unless, src->n_cwd };
		for (size_t l = 0; l < 3; l++)
			for (size_t i = 0; i < counts[l]; i++)
				n_str += slen(lists[l][i].re);
		for (size_t i = 0; i < src->n_env; i++)
			n_str += slen(src->env[i].name) + slen(src->env[i].re.re);
		n_re += rule_regexes(src);
		n_env += src->n_env;
		n_pairs += src->n_programs;
	}
	/* u32 pool: regex ids, env pairs, bucket rule lists */
	size_t n_u32 = n_re + n_env + n_pairs;
	if (vec_reserve(&b.strings, n_str) < 0 ||
	    vec_reserve(&b.regex, n_re * sizeof(struct eg_blk_regex)) < 0 ||
	    vec_reserve(&b.u32, n_u32 * sizeof(uint32_t)) < 0 ||
	    vec_reserve(&b.rules, rs->n_rules * sizeof(struct eg_blk_rule)) < 0 ||
	    vec_reserve(&b.files, rs->n_files * sizeof(uint32_t)) < 0 ||
	    vec_reserve(&b.settings, rs->n_settings * sizeof(struct eg_blk_setting)) < 0)
		b.oom = true;
	vec_put(&b.strings, "", 1); /* offset 0 is the empty string */
	if (!b.oom && build_programs(rs, &progs, &n_progs, &prog_rules) < 0)
		b.oom = true;
	if (!b.oom && !needs_init(&needs, rs, n_re))
		b.oom = true;
	/* env_names[env_at[r] ..]: rule r's variable names (string offsets),
	 * for its lists, which are emitted after every rule exists. */
	uint32_t *env_at = calloc(rs->n_rules + 1, sizeof *env_at);
	uint32_t *home = malloc((rs->n_rules + 1) * sizeof *home);
	struct vec env_names = { 0 };
	if (env_at == NULL || home == NULL)
		b.oom = true;
	bool miscounted = false;
	for (size_t r = 0; !b.oom && r < rs->n_rules; r++) {
		const struct eg_rule *src = &rs->rules[r];
		uint32_t file_idx = file_index(rs, same_as, src->file, src->file_order);
		struct eg_blk_rule br = {
			.file = file_idx,
			.line = src->line,
			.file_order = src->file_order,
			.action = (uint8_t)src->action,
			.severity = (uint8_t)src->severity,
			.protected_src = src->protected_src,
			.n_match = (uint32_t)src->n_match,
			.n_unless = (uint32_t)src->n_unless,
			.n_cwd = (uint32_t)src->n_cwd,
			.n_env = (uint32_t)src->n_env,
		};
		if (b.regex.n / sizeof(struct eg_blk_regex) != needs.rule_first[r])
			miscounted = true; /* cannot happen: needs_init counts the same */
		add_regexes(&b, src->match, src->n_match);
		add_regexes(&b, src->unless, src->n_unless);
		add_regexes(&b, src->cwd, src->n_cwd);
		env_at[r] = (uint32_t)(env_names.n / sizeof(uint32_t));
		for (size_t i = 0; i < src->n_env; i++) {
			uint32_t name = 0; /* rule_strings adds it */
			if (vec_put(&env_names, &name, sizeof name) < 0)
				b.oom = true;
			add_regex(&b, src->env[i].re.re);
		}
		/* the rule of each regex (groups of stored codes) */
		uint32_t rule = (uint32_t)r;
		while (!b.oom && rx_rules.n / sizeof(uint32_t) < b.regex.n / sizeof(struct eg_blk_regex))
			if (vec_put(&rx_rules, &rule, sizeof rule) < 0)
				b.oom = true;
		if (vec_put(&b.rules, &br, sizeof br) < 0)
			b.oom = true;
	}
	if (!b.oom)
		sources_last(&b);

	/*
	 * What a lookup reads is laid out where two sections meet, for the
	 * programs of the first rules (the packs, before the user's own):
	 * the names, each with its rules' strings and literals, end the strings,
	 * which the regex entries follow; the rules' and the programs' lists
	 * end the u32 pool, which the rules follow. So a lookup of such a
	 * program reads two places of the block besides its index, however
	 * many rules come after (with 10,000 of them, each section is larger
	 * than the kernel's window of fault-around, 64 KiB: a page fault and
	 * a window of memory each).
	 *
	 * The names, last program first; a rule's strings before, its
	 * literals after, the name of the first program that names it (home).
	 */
	for (size_t r = 0; home && r < rs->n_rules; r++)
		home[r] = UINT32_MAX;
	for (size_t i = 0; home && i < n_progs; i++)
		for (size_t j = 0; j < progs[i].n; j++)
			if (home[progs[i].rules[j]] == UINT32_MAX)
				home[progs[i].rules[j]] = (uint32_t)i;
	for (size_t r = 0; !b.oom && r < rs->n_rules; r++)
		if (home[r] == UINT32_MAX) { /* a rule of no program, if any */
			rule_strings(&b, rs, r, (uint32_t *)(void *)env_names.v, env_at);
			needs_of_rule(&b, &needs, rs, r);
		}
	for (size_t i = n_progs; !b.oom && i-- > 0;) {
		for (size_t j = 0; j < progs[i].n; j++)
			if (home[progs[i].rules[j]] == i)
				rule_strings(&b, rs, progs[i].rules[j], (uint32_t *)(void *)env_names.v,
				    env_at);
		progs[i].name_off = add_str(&b, progs[i].name);
		for (size_t j = 0; j < progs[i].n; j++)
			if (home[progs[i].rules[j]] == i)
				needs_of_rule(&b, &needs, rs, progs[i].rules[j]);
	}
	/* The files' names and the settings last, next to the first rules'
	 * (a rule that applies shows its file's name). */
	for (size_t f = 0; f < rs->n_files; f++) {
		uint32_t off = add_str(&b, rs->files[f]);
		if (vec_put(&b.files, &off, sizeof off) < 0)
			b.oom = true;
	}
	for (size_t i = 0; !b.oom && i < rs->n_settings; i++) {
		const struct eg_setting *st = &rs->settings[i];
		struct eg_blk_setting bs = { .key = add_str(&b, st->key),
			.value = add_str(&b, st->value),
			.file = file_index(rs, same_as, st->file, UINT32_MAX),
			.line = st->line,
			.protected_src = st->protected_src };
		if (vec_put(&b.settings, &bs, sizeof bs) < 0)
			b.oom = true;
	}
	/* The lists, last rule first; after each rule's, the lists of the
	 * programs it is the first to name. */
	const uint32_t *env_name = (const uint32_t *)(const void *)env_names.v;
	for (size_t r = rs->n_rules, pi = n_progs; !b.oom && r-- > 0;) {
		struct eg_blk_rule *br = (struct eg_blk_rule *)(void *)b.rules.v + r;
		uint32_t id = needs.rule_first[r];
		br->match_first = add_id_list(&b, id, br->n_match);
		id += br->n_match;
		br->unless_first = add_id_list(&b, id, br->n_unless);
		id += br->n_unless;
		br->cwd_first = add_id_list(&b, id, br->n_cwd);
		id += br->n_cwd;
		br->env_first = (uint32_t)(b.u32.n / sizeof(uint32_t));
		for (uint32_t e = 0; e < br->n_env; e++) {
			add_u32(&b, env_name[env_at[r] + e]);
			add_u32(&b, id + e);
		}
		needs_emit(&b, &needs, needs.rule_first[r], id + br->n_env);
		for (; pi > 0 && progs[pi - 1].rules[0] == r; pi--) {
			struct prog_entry *e = &progs[pi - 1];
			e->list_first = (uint32_t)(b.u32.n / sizeof(uint32_t));
			for (size_t j = 0; j < e->n; j++)
				add_u32(&b, e->rules[j]);
		}
	}
	free(env_at);
	free(home);
	free(env_names.v);

	size_t n_buckets = 16;
	while (n_buckets < n_progs * 2)
		n_buckets *= 2;
	struct eg_blk_bucket *buckets = calloc(n_buckets, sizeof *buckets);
	if (buckets == NULL)
		b.oom = true;
	for (size_t i = 0; buckets && i < n_progs; i++) {
		uint32_t h = progs[i].hash;
		size_t slot = h & (n_buckets - 1);
		while (buckets[slot].name != 0)
			slot = (slot + 1) & (n_buckets - 1);
		buckets[slot].name = progs[i].name_off;
		buckets[slot].hash = h;
		buckets[slot].n_rules = (uint32_t)progs[i].n;
		buckets[slot].rules_first = progs[i].list_first;
	}
	uint32_t filter_log2 = EG_FILTER_LOG2_MIN;
	while (filter_log2 < EG_FILTER_LOG2_MAX && ((size_t)1 << filter_log2) <
	    (n_progs + EG_FILTER_EXTRA_NAMES) * EG_FILTER_BITS_PER_NAME)
		filter_log2++;
	uint64_t *filter = calloc((size_t)1 << (filter_log2 - 6), sizeof *filter);
	if (filter == NULL)
		b.oom = true;
	for (size_t i = 0; filter && i < n_progs; i++)
		eg_filter_add(filter, filter_log2, progs[i].hash);
	if (miscounted) {
		eg_diags_add(d, NULL, 0, 0, "internal error: regexes miscounted while building the policy");
		goto fail;
	}
	if (b.oom)
		goto oom;
	if (!(flags & EG_BUILD_NO_CODES) &&
	    build_rxcode(&b, (const uint32_t *)rx_rules.v, &rxhead, &rxcodes) < 0)
		goto oom;
	bool have_codes = rxhead.magic[0] != '\0';
	/* The first part, in a large block made to be mapped from a file (a
	 * block built in the process that uses it, the preload library's
	 * fallback, is in its heap: no fault-around). */
	size_t content = b.rules.n + b.regex.n + b.u32.n + b.strings.n + rxcodes.n +
	    n_buckets * sizeof *buckets;
	/* in the block's first two windows, after the filter */
	size_t head_len = align8(sizeof(struct eg_blk_header)) + sizeof rxhead +
	    align8(b.files.n) + align8(b.settings.n) + ((size_t)1 << (filter_log2 - 3));
	if (!(flags & EG_BUILD_NO_CODES) && content > CENTRE_FROM && head_len < WINDOW &&
	    build_first(rs, progs, n_progs, 2 * WINDOW - head_len - 64, &first_part, &first_len,
		&first_hashes, &n_first) < 0)
		goto oom;
	bool centred = false;
	size_t gap_u32 = 0, gap_strings = 0, gap_codes = 0;

layout:;
	struct eg_blk_header h = { .version = EG_BLOCK_VERSION };
	memcpy(h.magic, EG_BLOCK_MAGIC, sizeof EG_BLOCK_MAGIC);
	/* Section order: what every process reads when it maps the block
	 * (header, files, settings) on the first page, with the name filter
	 * every exec's hook reads (a program no rule names is told by it
	 * alone: with 10,000 programs the index before it was 512 KiB, a
	 * window of the kernel's fault-around more); the program index a
	 * lookup probes; the two places where a lookup of the first rules'
	 * programs reads (the u32 pool's end and the rules; the strings' end
	 * and the regex entries: see the lists and names above); then the
	 * stored codes, the first rules' first, which only a regex that runs
	 * reads. With the packs alone (150 KiB) a lookup reads the first and
	 * second 64 KiB of the block. Validation does not depend on the
	 * order. */
	size_t off = align8(sizeof h);
	/* The stored codes' head (the prefix every decode reads) on the first
	 * page too, when there are stored codes. */
	if (have_codes) {
		h.rxhead_off = (uint32_t)off;
		off = align8(off + sizeof rxhead);
	}
	h.n_files = (uint32_t)rs->n_files;
	h.files_off = (uint32_t)off;
	off = align8(off + b.files.n);
	h.n_settings = (uint32_t)rs->n_settings;
	h.settings_off = (uint32_t)off;
	off = align8(off + b.settings.n);
	h.filter_log2 = filter_log2;
	h.filter_off = (uint32_t)off;
	off = align8(off + ((size_t)1 << (filter_log2 - 3)));
	/* The first part's programs' hashes, then the part, with a copy of the
	 * codes' head after it: all in the block's first two windows. */
	if (first_part != NULL) {
		h.n_first = n_first;
		h.first_hashes_off = (uint32_t)off;
		off = align8(off + n_first * sizeof(uint32_t));
		h.first_off = (uint32_t)off;
		off = align8(off + first_len) + sizeof rxhead;
		first_end = off;
	}
	h.n_buckets = (uint32_t)n_buckets;
	h.buckets_off = (uint32_t)off;
	off = align8(off + n_buckets * sizeof *buckets);
	/* In a large block, each place where two sections meet (the rules'
	 * start, the regex entries') in the middle of a 64 KiB piece of the
	 * block: a window of the kernel's fault-around when the block is
	 * mapped at a 64 KiB boundary (a session copy places it so, and the
	 * kernel maps a file of 2 MiB or more at a 2 MiB one), so that what a
	 * lookup reads there, up to 32 KiB on either side, is one window. */
	gap_u32 = centred ? (CENTRE - (off + align8(b.u32.n)) % WINDOW + WINDOW) % WINDOW : 0;
	off += gap_u32;
	h.n_u32 = (uint32_t)(b.u32.n / sizeof(uint32_t));
	h.u32_off = (uint32_t)off;
	off = align8(off + b.u32.n);
	h.n_rules = (uint32_t)rs->n_rules;
	h.rules_off = (uint32_t)off;
	off = align8(off + b.rules.n);
	gap_strings = centred ? (CENTRE - (off + align8(b.strings.n)) % WINDOW + WINDOW) % WINDOW : 0;
	off += gap_strings;
	h.strings_len = (uint32_t)b.strings.n;
	h.strings_off = (uint32_t)off;
	off = align8(off + b.strings.n);
	h.n_regex = (uint32_t)(b.regex.n / sizeof(struct eg_blk_regex));
	h.regex_off = (uint32_t)off;
	off = align8(off + b.regex.n);
	/* A session copy places the block so that the codes start a window
	 * (library_copy.c): in a large block, at a multiple of 64 KiB, that
	 * is where the block starts one too. */
	gap_codes = centred && rxcodes.n > 0 ? (WINDOW - off % WINDOW) % WINDOW : 0;
	off += gap_codes;
	h.rxcodes_len = (uint32_t)rxcodes.n;
	h.rxcodes_off = (uint32_t)off;
	off = align8(off + rxcodes.n);
	if (!centred && off > CENTRE_FROM) {
		centred = true;
		goto layout;
	}
	if (off > EG_BLOCK_MAX_SIZE && have_codes) {
		/* Too large with the codes: without them, every process
		 * compiles what it uses. */
		drop_codes(&b, &rxhead, &rxcodes);
		have_codes = false;
		goto layout;
	}
	if (off > EG_BLOCK_MAX_SIZE) {
		eg_diags_add(d, NULL, 0, 0, "the rules in effect are too large (%zu bytes)", off);
		goto fail;
	}
	h.size = (uint32_t)off;
	if (first_part != NULL)
		h.first_size = h.size - h.first_off; /* to the end: the codes are the block's */

	/* Every byte is written once: the sections, then zeros up to the next
	 * (no calloc of the whole block). */
	block = malloc(off);
	if (block == NULL)
		goto oom;
	put_section(block, sizeof h, NULL, 0);
	put_section(block, h.rules_off, b.rules.v, b.rules.n);
	put_section(block, h.regex_off, b.regex.v, b.regex.n);
	put_section(block, h.buckets_off, buckets, n_buckets * sizeof *buckets);
	put_section(block, h.filter_off, filter, (size_t)1 << (filter_log2 - 3));
	put_section(block, h.u32_off, b.u32.v, b.u32.n);
	memset(block + h.u32_off - gap_u32, 0, gap_u32);
	memset(block + h.strings_off - gap_strings, 0, gap_strings);
	memset(block + h.rxcodes_off - gap_codes, 0, gap_codes);
	put_section(block, h.files_off, b.files.v, b.files.n);
	put_section(block, h.settings_off, b.settings.v, b.settings.n);
	put_section(block, h.strings_off, b.strings.v, b.strings.n);
	if (have_codes)
		put_section(block, h.rxhead_off, &rxhead, sizeof rxhead);
	put_section(block, h.rxcodes_off, rxcodes.v, rxcodes.n);
	if (first_part != NULL)
		first_put(block, &h, first_part, first_len, first_end, first_hashes, have_codes ? &rxhead : NULL);
	memcpy(block, &h, sizeof h);
	if (!(flags & EG_BUILD_NO_HASH)) {
		h.hash = eg_fnv64(block, off, 0);
		memcpy(block, &h, sizeof h);
	}

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
	free(first_part);
	free(first_hashes);
	free(prog_rules);
	free(progs);
	free(same_as);
	free(buckets);
	free(filter);
	free(b.strings.v);
	free(b.sources.v);
	free(b.rules.v);
	free(b.regex.v);
	free(b.u32.v);
	free(b.files.v);
	free(b.settings.v);
	free(rxcodes.v);
	free(rx_rules.v);
	needs_free(&needs);
	return p;
}
