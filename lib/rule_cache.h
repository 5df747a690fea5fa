/*
 * The compiled rule cache (issue 7): the policy block of the default rule
 * files, stored with the identity of every source it was built from, so
 * that a library loaded without `execguard run` (bare LD_PRELOAD,
 * /etc/ld.so.preload) maps it instead of parsing every rule file in every
 * process. Internal to lib/; see docs/rules.md, "The rule cache".
 *
 * A cache file is
 *   struct eg_cache_header | struct eg_cache_entry[n] | strings | block
 * The block is the one eg_policy_load_default would build (the same loader
 * and builder flags), byte for byte, so its format and its checks are the
 * policy block's own (policy_block.h).
 *
 * The key (the entries) records, for the library, each source directory and
 * each *.rules file in it, the device, inode, size, mode, owner, and
 * modification and change times in nanoseconds (a missing directory as
 * missing). A cache is used only when every entry still matches, the paths
 * of the three directories are the ones this process would read, the format,
 * block version and execguard version are this library's, and the file is
 * trusted:
 *   - the system cache (EG_SYSTEM_CACHE_DIR, written by root): owned by root,
 *     not group- or world-writable, in such a directory. It holds the packs
 *     and the system directory only, and is used only when the user
 *     directory has no *.rules file. Two variants: for root (nothing
 *     protected) and for other users (protection as a user sees it).
 *   - the user's cache ($XDG_CACHE_HOME/execguard, ~/.cache/execguard):
 *     owned by the user, not group- or world-writable, in such a directory,
 *     written by the same uid; for a user other than root it is used only
 *     when none of the three rule directories is root-owned (as stat says
 *     now, not as the cache says), so that no source can be protected (see
 *     docs/rules.md "Trust"): a file the user can write must not stand in
 *     for rules the user cannot change.
 */
#ifndef EG_RULE_CACHE_H
#define EG_RULE_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "execguard.h"

#define EG_CACHE_MAGIC "EGRULEC"
#define EG_CACHE_VERSION 1u

enum { EG_CACHE_FOR_ROOT = 0, EG_CACHE_FOR_USER = 1 }; /* who reads it */
enum { EG_CACHE_ALL = 0, EG_CACHE_NO_USER_RULES = 1 };  /* what it covers */
enum { EG_CE_LIBRARY = 1, EG_CE_DIR, EG_CE_FILE, EG_CE_ABSENT };

struct eg_cache_header {
	char magic[8];
	uint32_t version, block_version;
	uint32_t reader; /* EG_CACHE_FOR_* */
	uint32_t scope;  /* EG_CACHE_* */
	uint32_t uid;    /* of the writer */
	uint32_t n_entries, entries_off;
	uint32_t strings_off, strings_len;
	uint32_t block_off, block_size;
	uint32_t dir_path[3]; /* string offsets: packs, system, user ("" = not covered) */
	char eg_version[32];
	uint64_t key_sum; /* FNV-1a 64 of bytes [0, block_off) with this field zero */
};

struct eg_cache_entry {
	uint32_t path; /* string offset */
	uint16_t kind; /* EG_CE_* */
	uint16_t dir;  /* EG_CE_FILE: index of its directory's entry */
	uint64_t dev, ino, size;
	int64_t mtime_sec, ctime_sec;
	uint32_t mtime_nsec, ctime_nsec;
	uint32_t mode, uid, gid, pad;
};

/* Why no cache was used (eg_rule_cache_load with a probe): for
 * `execguard cache --check`. */
struct eg_cache_probe {
	char path[4096]; /* the cache file used, or the last one looked at */
	const char *why; /* NULL when one was used */
};

/* Map and check the cache that fits this process (self_path: the library;
 * envp: where the rule directories are), and adopt its block into p (not
 * owning it: the mapping stays for the process's life). 0 on success; -1 if
 * there is no usable cache (parse the rule files instead). No malloc, no
 * stdio: the preload library's constructor calls it. Preserves errno. */
int eg_rule_cache_load(struct eg_policy *p, const char *self_path, char *const *envp,
    struct eg_cache_probe *probe);

enum eg_cache_write_result {
	EG_CACHE_WRITTEN = 0,
	EG_CACHE_BAD_RULES = -1,  /* the rule files do not load: diagnostics added */
	EG_CACHE_UNTRUSTED = -2,  /* a user cache would hold protected rules: not written */
	EG_CACHE_IO = -3,         /* cannot write: errno */
	EG_CACHE_UNSTABLE = -4,   /* the rule files kept changing while it was built */
};

enum eg_cache_kind {
	EG_CACHE_OWN = 0,             /* the caller's own, in its cache directory */
	EG_CACHE_SYSTEM_FOR_ROOT = 1, /* root only: in the system cache directory */
	EG_CACHE_SYSTEM_FOR_USER = 2, /* root only: the same, for other users */
};

/* Build and write (temp file, rename) a cache for the library at lib_path
 * and the directories envp names. The file goes to path_out. Waits up to
 * about 2 s when a source changed in the last second or two: an edit in the
 * same clock tick could otherwise leave its times unchanged. */
enum eg_cache_write_result eg_rule_cache_write(const char *lib_path, char *const *envp,
    enum eg_cache_kind kind, char *path_out, size_t size, struct eg_diags *d);

/* The system cache directory: EXECGUARD_SYSTEM_CACHE_DIR from envp, else
 * EG_SYSTEM_CACHE_DIR. (Only a root-owned file in a root-owned directory is
 * used from it, whatever the variable says.) */
const char *eg_rule_cache_system_dir(char *const *envp);

#endif
