/*
 * The policy block: every rule in effect, flattened into one relocatable,
 * read-only piece of memory (offsets, no pointers) so the preload library
 * maps it from a file in one syscall instead of parsing rule files in every
 * process. Internal to lib/.
 */
#ifndef EG_POLICY_BLOCK_H
#define EG_POLICY_BLOCK_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "arena.h"
#include "execguard.h"
#include "hot_text.h"

#define EG_BLOCK_MAGIC "EXECGRD"
#define EG_BLOCK_VERSION 6u
#define EG_BLOCK_MAX_SIZE (64u * 1024u * 1024u)

struct eg_blk_header {
	char magic[8];
	uint32_t version;
	uint32_t size; /* of the whole block */
	uint32_t n_rules, rules_off;
	uint32_t n_regex, regex_off;
	uint32_t n_buckets, buckets_off; /* power of two, open addressing */
	uint32_t n_u32, u32_off;         /* pool of u32 lists */
	uint32_t strings_len, strings_off;
	uint32_t n_files, files_off;     /* u32 string offsets */
	uint32_t n_settings, settings_off; /* struct eg_blk_setting */
	/* Stored compiled regexes (below): struct eg_blk_rxhead, 0 = none; and
	 * the area of the codes' bytes. */
	uint32_t rxhead_off;
	uint32_t rxcodes_off, rxcodes_len;
	/* The name filter (below): 2^filter_log2 bits, 0 = none. */
	uint32_t filter_off, filter_log2;
	/* The first part (below): a block of its own at first_off, 0 = none;
	 * the sorted eg_name_hash of its programs (u32s at first_hashes_off). */
	uint32_t first_off, first_size;
	uint32_t first_hashes_off, n_first;
	uint32_t pad;
	uint64_t hash; /* FNV-1a 64 of the block with this field zero */
};

/*
 * The first part: in a large block, the first rules (the packs, loaded
 * before the user's own) again, as a block of their own, which ends with
 * the block's second 64 KiB, after the filter, with an index of only the
 * programs that no later rule names; so that a check of such a program
 * reads the block's first two windows of the kernel's fault-around,
 * however many rules follow (in the whole block a lookup reads the index,
 * and the rules, lists, names and regex entries where the builder puts
 * them, each window a page fault and 64 KiB of resident memory: with
 * 10,000 more rules, four windows). Its rules and regexes are the whole
 * block's first ones, with the same indices and ids, and it has no
 * settings. Its size runs to the block's end: its stored codes are the
 * whole block's (its codes section is the block's), and so are its
 * regexes' sources (its strings run to the end of the block's). A check
 * takes a command's rules from the first part when every name it looks up
 * that the rules name is one of the first part's programs
 * (eg_policy_find_first), from the whole block otherwise: the same rules
 * either way. The first part's regexes have their own compile state
 * (eg_policy.first_cache).
 */

/*
 * The name filter: a Bloom filter of every name in the program index, so
 * that "no rule names this program" can be told without reading the index.
 * A fork child reads the index from the block's file pages, each a page
 * fault there (fork does not copy the page tables of file mappings); the
 * preload library copies the filter into memory of its own before forking
 * (exec_fast.c), whose pages a child inherits mapped. Two bits a name, from
 * eg_name_hash: its low bits and its bits rotated by 16, each taken modulo
 * the filter's size, so that a filter folded onto a power-of-two fraction
 * of its size (the halves OR'ed) stays a filter of the same names.
 */
#define EG_FILTER_LOG2_MIN 12u /* 512 bytes */
#define EG_FILTER_LOG2_MAX 18u /* 32 KiB */
/* Bits a name, counting EG_FILTER_EXTRA_NAMES more for the wrappers'
 * names, which the library adds to its copy. */
#define EG_FILTER_BITS_PER_NAME 32u
#define EG_FILTER_EXTRA_NAMES 64u

/* The two bits of `h` (eg_name_hash of a name) in a filter of 2^log2 bits */
EG_HOT_INLINE void eg_filter_bits(uint32_t h, uint32_t log2, uint32_t *a, uint32_t *b)
{
	uint32_t mask = (1u << log2) - 1;
	*a = h & mask;
	*b = ((h >> 16) | (h << 16)) & mask;
}

/* Add `h` (eg_name_hash of a name) to the filter of 2^log2 bits. */
EG_HOT_INLINE void eg_filter_add(uint64_t *words, uint32_t log2, uint32_t h)
{
	uint32_t a, b;
	eg_filter_bits(h, log2, &a, &b);
	words[a >> 6] |= 1ull << (a & 63);
	words[b >> 6] |= 1ull << (b & 63);
}

/* OR the filter `src` of 2^src_log2 bits into `dst` of 2^dst_log2 bits
 * (dst_log2 <= src_log2, both at least 6): a filter of the same names. */
EG_HOT_INLINE void eg_filter_fold(uint64_t *dst, uint32_t dst_log2, const uint64_t *src,
    uint32_t src_log2)
{
	size_t n_dst = (size_t)1 << (dst_log2 - 6), n_src = (size_t)1 << (src_log2 - 6);
	for (size_t i = 0; i < n_src; i++)
		dst[i & (n_dst - 1)] |= src[i];
}

/* May `h` (eg_name_hash of a name) be in the filter of 2^log2 bits? */
EG_HOT_INLINE bool eg_filter_maybe(const uint64_t *words, uint32_t log2, uint32_t h)
{
	uint32_t a, b;
	eg_filter_bits(h, log2, &a, &b);
	return ((words[a >> 6] >> (a & 63)) & 1) && ((words[b >> 6] >> (b & 63)) & 1);
}

/*
 * Stored compiled regexes (optional): every regex compiled when the block
 * is built, so that a guarded process decodes (copies) its code instead of
 * running PCRE2's compiler, and its many pages of text, on its first match.
 * The codes are in PCRE2's serialized form (pcre2_serialize_encode), split
 * so that what every code shares, PCRE2's serialization header and
 * character tables (the prefix), is stored once, in the head, beside the
 * block header (its page is read by every process anyway); each regex's
 * entry says where its code's bytes are. A process decodes a group of
 * codes at once, put together behind the prefix (staged in the check's
 * scratch, eg_regex_get), so that they share one copy of the tables: the
 * rules of one program list are next to each other and their regexes are
 * usually needed together.
 *
 * A serialized code is only valid for the PCRE2 version and build that made
 * it, and pcre2_serialize_decode cannot check its bytes: the prefix records
 * PCRE2's version and code unit width (checked with
 * pcre2_serialize_get_number_of_codes), the head the build options (struct
 * eg_pcre2_id, compared whole with the decoding library's own), and check
 * values cover the prefix and each code with its
 * regex id (a code moved to another regex does not check out). Anything that
 * does not fit falls back to compiling the pattern source, which is always
 * there (eg_regex_get). The builder (the CLI) links PCRE2 as a shared
 * library, the preload library links it statically (lib/preload/meson.build):
 * built from one libpcre2-dev they agree; after an upgrade of one of them
 * to another PCRE2 version processes compile, as without codes (a patch of
 * the same version that changed compiled code would not be told apart:
 * linking the CLI's PCRE2 statically too would rule that out).
 */
/* The options every regex is compiled with (a compile context with its
 * defaults, only the memory functions set). */
#define EG_COMPILE_FLAGS (PCRE2_UTF | PCRE2_MATCH_INVALID_UTF)
#define EG_RXHEAD_MAGIC "EGRXCD1"
/* The prefix of the serialized form: header and tables (PCRE2 10.x). */
#define EG_RXCODE_PREFIX_LEN (16u + 1088u)
/* The most codes, and code bytes, decoded in one group (a single larger
 * code is staged alone). */
#define EG_RXCODE_GROUP_MAX 64u
#define EG_RXCODE_GROUP_BYTES 3072u
/* The largest code stored (a larger one is compiled on first use). */
#define EG_RXCODE_MAX_CODE (256u * 1024u)

/* What a serialized code depends on beyond what PCRE2's own serialization
 * header records and pcre2_serialize_decode checks (major and minor version,
 * code unit width, pointer and PCRE2_SIZE sizes): the build options that
 * shape compiled code, and the compile options. */
struct eg_pcre2_id {
	uint32_t unit_ptr_size; /* code unit width | sizeof(void *) << 8 | sizeof(PCRE2_SIZE) << 16 */
	uint32_t linksize, newline, bsr, unicode, never_backslash_c, parens_limit;
	uint32_t compile_options; /* EG_COMPILE_FLAGS */
};

struct eg_blk_rxhead {
	char magic[8];
	struct eg_pcre2_id id; /* the PCRE2 that encoded the codes */
	uint64_t prefix_check; /* eg_rx_check of the prefix */
	/* The prefix, from a serialization of EG_RXCODE_GROUP_MAX codes: a
	 * group of up to that many decodes from it and the codes behind it. */
	unsigned char prefix[EG_RXCODE_PREFIX_LEN];
};

struct eg_blk_regex {
	uint32_t src; /* string offset; strings are NUL-terminated */
	uint32_t len;
	/* The stored code, if any: its bytes in the codes area (code_len 0:
	 * none, compile). Regexes with the same source share one code: canon is
	 * the first of them (its decoded code serves them all). Decoding this
	 * regex decodes, with it, the following ones up to group_end that are
	 * not decoded yet. check: eg_rx_check of the id, then the bytes. */
	uint32_t code_off, code_len;
	uint32_t canon, group_end;
	/* What a subject needs for this regex to match (regex_needs.h): one of
	 * n_needs strings (u32 pool: string offsets), or nothing known (0). */
	uint32_t needs_first, n_needs;
	uint64_t check;
};

struct eg_blk_rule {
	uint32_t id, reason, programs; /* string offsets */
	uint32_t file;                 /* index into files */
	uint32_t line;
	uint32_t file_order;
	uint8_t action, severity, protected_src, pad;
	uint32_t match_first, n_match;   /* u32 pool: regex ids */
	uint32_t unless_first, n_unless; /* u32 pool: regex ids */
	uint32_t env_first, n_env;       /* u32 pool: pairs (name string, regex id) */
	uint32_t cwd_first, n_cwd;       /* u32 pool: regex ids */
};

struct eg_blk_setting {
	uint32_t key, value; /* string offsets */
	uint32_t file;       /* index into files */
	uint32_t line;
	uint32_t protected_src;
};

struct eg_blk_bucket {
	uint32_t name; /* string offset, 0 = empty bucket (string 0 is "") */
	uint32_t hash;
	uint32_t rules_first, n_rules; /* u32 pool: rule indices, ascending */
};

/* Per-process state of one regex, for a process that has used more regexes
 * than the table of struct eg_regex_cache holds. */
struct eg_regex_slot {
	_Atomic(pcre2_code *) code; /* NULL: not yet; EG_REGEX_FAILED: fails closed */
};
#define EG_REGEX_FAILED ((pcre2_code *)(uintptr_t)1)
/* Regexes a process can use before the overflow slots (one per regex of the
 * block) are made. */
#define EG_REGEX_TABLE 64u

/* The per-process regex state, created by the second check that runs a
 * regex (a process that never runs a rule's regex never maps it; its first
 * such check keeps a state of the same shape, with its codes, in the memory
 * it lends: eg_regex_get's `check`). It lives at the start of its own
 * arena, which also backs the decoded and compiled codes; with a small
 * table instead of a slot per regex of the block, a first match there
 * usually touches one page of it: the state, the character tables and the
 * decoded codes of one group. */
struct eg_regex_cache {
	struct eg_arena arena;
	pcre2_general_context *gctx;
	const struct eg_blk_header *owner; /* a check's own: the block it was made for */
	_Atomic(pcre2_compile_context *) ctx; /* made on the first compile */
	/* The stored codes, checked on first use: EG_RXCODE_UNKNOWN, _USABLE
	 * or _UNUSABLE (none, another PCRE2, damaged head or prefix). */
	_Atomic int rxcode_state;
	_Atomic(struct eg_regex_slot *) overflow; /* n_regex slots, once the table is full */
	/* Open addressing, never removed from: (id + 1) << 32 | the code's
	 * offset in the arena (1: fails closed); 0 = empty. */
	_Atomic uint64_t table[EG_REGEX_TABLE];
};
enum { EG_RXCODE_UNKNOWN, EG_RXCODE_USABLE, EG_RXCODE_UNUSABLE };

struct eg_policy {
	const unsigned char *base;
	size_t size;
	const struct eg_blk_header *h;
	const struct eg_blk_rule *rules;
	const struct eg_blk_regex *regex;
	const struct eg_blk_bucket *buckets;
	const uint32_t *u32;
	const char *strings;
	const uint32_t *files;
	const struct eg_blk_setting *settings;
	const uint64_t *filter; /* NULL: the block has none */
	uint32_t filter_log2;
	bool owned_mmap; /* munmap the block on free */
	bool owned_heap; /* free the block on free */
	bool owned_self; /* this struct is its own mmap'd page (munmap on free) */

	bool first_part; /* a first part, adopted for one check (eg_policy_find_first) */

	_Atomic(struct eg_regex_cache *) cache; /* NULL until the first compile */
	/* A first part's policy is made on the stack for each check; its
	 * compile state is kept in the whole block's policy. (One field: the
	 * preload library keeps four policies in the page it shares with its
	 * other data, which has 88 bytes left.) */
	union {
		_Atomic(struct eg_regex_cache *) first_cache; /* the whole block's: its first part's */
		_Atomic(struct eg_regex_cache *) *cache_at;   /* a first part's: where its is */
	};
};

EG_HOT_INLINE const char *eg_blk_str(const struct eg_policy *p, uint32_t off)
{
	return p->strings + off;
}

/* eg_name_hash, FNV-1a 32, in steps */
#define EG_NAME_HASH_INIT 2166136261u
EG_HOT_INLINE uint32_t eg_name_hash_step(uint32_t h, unsigned char c)
{
	return (h ^ c) * 16777619u;
}
uint32_t eg_name_hash(const char *s);
uint64_t eg_fnv64(const void *data, size_t len, uint64_t h);

/*
 * Validation is split so that mapping a block costs O(1) page touches, not
 * O(block size): eg_policy_from_block checks the header, the section bounds
 * and the small sections (files, settings); each bucket, rule and regex is
 * checked when a lookup reaches it, every time (no writes), so the hook path
 * can still trust what it reads. A damaged entry fails closed.
 */

/* Rules indexed under `name`: 1 and *out set; 0 none; -1 the bucket for
 * `name` is damaged (the caller fails closed). */
int eg_policy_find(const struct eg_policy *p, const char *name, const struct eg_blk_bucket **out);
/* eg_policy_find through the first part: when `name` is one of its
 * programs, its bucket there (*in_first true), the first part adopted into
 * *first if first->base is NULL; else as eg_policy_find in p. -1 also when
 * the first part is damaged. */
int eg_policy_find_first(const struct eg_policy *p, const char *name, struct eg_policy *first,
    const struct eg_blk_bucket **out, bool *in_first);
/* Is rule `ri` (an index from a bucket) sound: strings, lists, regex ids? */
bool eg_policy_rule_ok(const struct eg_policy *p, uint32_t ri);
/* Is what trying rule `ri` reads sound: its action and severity, its lists
 * and regex ids, its variable names? Not its id, reason, programs and file
 * name, which only a rule that applies shows (eg_policy_rule_shown_ok,
 * checked then): they lie among the block's strings, apart from each other, and
 * reading them for every rule tried took pages of the block that no match
 * needs. */
bool eg_policy_rule_match_ok(const struct eg_policy *p, uint32_t ri);
/* The rest of eg_policy_rule_ok: its id, reason, programs and file name,
 * for a rule that eg_policy_rule_match_ok has passed. */
bool eg_policy_rule_shown_ok(const struct eg_policy *p, uint32_t ri);
/* Is regex r's list of needed literals (regex_needs.h) sound: at most
 * EG_NEEDS_MAX entries, inside the u32 pool? */
bool eg_policy_regex_needs_ok(const struct eg_policy *p, const struct eg_blk_regex *r);
/* Literal k of a list eg_policy_regex_needs_ok passed: false when its
 * string is empty or does not end inside the strings. */
bool eg_policy_regex_need(const struct eg_policy *p, const struct eg_blk_regex *r, uint32_t k,
    const char **lit, size_t *len);

/* Adopt a block into caller-provided storage (the preload library keeps its
 * one policy in a static: no allocation, no page of its own). 0 or -1. */
int eg_policy_init_block(struct eg_policy *p, const void *block, size_t size, bool owned_mmap);
/* eg_policy_map_file into caller-provided storage; -1 if missing or damaged.
 * Preserves errno. */
int eg_policy_map_file_into(struct eg_policy *p, const char *path);
/* Only open, fstat, mmap, close: no page of the block is read, nothing is
 * checked (eg_policy_init_block does that later). NULL if it cannot be
 * mapped. Leaves errno alone. */
const void *eg_policy_map_raw(const char *path, size_t *size);
/* Advise the kernel that a mapped block is read at random (no fault-around:
 * fewer pages resident). eg_policy_map_raw leaves it to its caller, who
 * does it when the block is first read. */
void eg_policy_map_advise(const void *base, size_t size);

/* Compiled code for regex `id`: on first use decoded from its stored code,
 * or compiled from its source when there is no usable stored code
 * (hook-path safe: memory from the lazily mapped compile arena). NULL if it
 * cannot compile (the caller fails closed). A decode puts the stored codes
 * together (stages them) in memory taken from `lent`, free again when the
 * call returns; NULL, or too little room: on the stack. `check` (NULL:
 * none) is one check's own regex state, *check NULL at its start: the
 * process's first check that decodes keeps its codes in `lent`, below
 * lent->used as the call leaves it, and the check finds them there. */
pcre2_code *eg_regex_get(const struct eg_policy *p, uint32_t id, struct eg_arena *lent,
    struct eg_regex_cache **check);
/* Room a decode takes from `lent`: the prefix and a group's codes. */
#define EG_REGEX_STAGE_SIZE (EG_RXCODE_PREFIX_LEN + EG_RXCODE_GROUP_BYTES)
/* The PCRE2 this process runs, as struct eg_blk_rxhead records it. */
void eg_pcre2_id_get(struct eg_pcre2_id *id);
/* The check values of the stored codes: a 64-bit hash, 8 bytes a step. */
uint64_t eg_rx_check(const void *data, size_t len, uint64_t h);
/* Address space reserved per policy, on its first regex use, for the regex
 * state and the codes; pages are touched only as they are used. */
#define EG_COMPILE_ARENA_SIZE (32u * 1024u * 1024u)
/* Has this policy compiled any regex yet (the arena mapped)? For tests. */
bool eg_regex_cache_used(const struct eg_policy *p);
/* Unmap the compile state (eg_policy_free). */
void eg_regex_cache_free(struct eg_policy *p);

#endif
