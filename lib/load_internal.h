/*
 * Internal variants of the loading functions, for callers that only need the
 * rules in effect (the preload library's fallback path). Internal to lib/.
 */
#ifndef EG_LOAD_INTERNAL_H
#define EG_LOAD_INTERNAL_H

#include <sys/types.h>

#include "execguard.h"

enum {
	/* Do not keep `example`/`safe` lines (they are still checked for a
	 * value and counted as present): only lint runs them. Diagnostics are
	 * the same as without the flag. */
	EG_LOAD_NO_EXAMPLES = 1u << 0,
	/* Decide which files are protected as for a user other than root, also
	 * when root loads them (the system rule cache, built by root for the
	 * other users: rule_cache.c). */
	EG_LOAD_TRUST_AS_USER = 1u << 1,
};

int eg_ruleset_parse_text_ex(struct eg_ruleset *rs, const char *name, const char *text, size_t len,
    bool protected_src, unsigned flags, struct eg_diags *d);
int eg_ruleset_load_file_ex(struct eg_ruleset *rs, const char *path, unsigned flags,
    struct eg_diags *d);
int eg_ruleset_load_ex(struct eg_ruleset *rs, const struct eg_sources *src, unsigned flags,
    struct eg_diags *d);

enum {
	/* Leave the block's hash field zero: eg_policy_hash then computes the
	 * same value on demand (the hash is of the block with that field zero),
	 * and eg_policy_save still writes it into the file. For the preload
	 * library, which never asks for it. */
	EG_BUILD_NO_HASH = 1u << 0,
	/* No stored compiled regexes (policy_block.h): each process that
	 * matches compiles. For a block built in the process that uses it (the
	 * preload library's fallback), where compiling them all up front would
	 * cost more than it saves. */
	EG_BUILD_NO_CODES = 1u << 1,
	/* A first part (policy_block.h, policy_build.c): no regex sources
	 * (read only to compile; the whole block's are patched in). */
	EG_BUILD_FIRST_PART = 1u << 2,
};

/* The three default directories (as eg_sources_default finds them), into
 * the caller's buffer, without allocating: for the preload library's
 * constructor (rule_cache.c). Returns 0; 1 when neither XDG_CONFIG_HOME nor
 * HOME tells the user directory (user is NULL: eg_sources_default then asks
 * the password database); -1 with errno ENAMETOOLONG if buf is too small. */
struct eg_source_dirs {
	const char *packs, *system, *user; /* into buf */
	char *buf;
	size_t size;
};
int eg_source_dirs(const char *self_path, char *const *envp, struct eg_source_dirs *out);

struct eg_policy *eg_policy_build_ex(const struct eg_ruleset *rs, unsigned flags,
    struct eg_diags *d);

/* file_write.c: mkdir -p (path is modified and restored); write all of
 * data, retrying after EINTR. 0 or -1 with errno. */
int eg_mkdir_p(char *path, mode_t mode);
int eg_write_all(int fd, const void *data, size_t left);
/* One piece of a file eg_write_file_whole writes; without data, len
 * zeros (a hole in the file). */
struct eg_file_part {
	const void *data;
	size_t len;
};
/* How eg_write_file_whole writes. */
enum eg_write_flags {
	EG_WRITE_EXACT_MODE = 1,  /* `mode` set exactly, whatever the umask */
	EG_WRITE_KEEP_CACHED = 2, /* left in the page cache as written */
};
/* The parts, in order, as the file `final`, whole or not at all: written
 * into "<final>.<pid>.tmp" (created with `mode`), flushed, dropped from
 * the page cache unless EG_WRITE_KEEP_CACHED, then renamed over `final`.
 * -1 with errno, and no temporary file left. */
int eg_write_file_whole(const char *final, mode_t mode, unsigned flags, const struct eg_file_part *parts,
    size_t n_parts);

#endif
