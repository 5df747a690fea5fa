/*
 * execguard policy engine: the public C API.
 *
 * Two halves with different rules:
 *   - loading (eg_sources_*, eg_ruleset_*, eg_policy_build/map) may allocate,
 *     print nothing, and reports problems as diagnostics;
 *   - checking (eg_check) runs on the exec hook path: no malloc, no stdio, no
 *     locks; it uses only the read-only policy and the caller's scratch space.
 */
#ifndef EXECGUARD_H
#define EXECGUARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Ordered by strictness: a larger value wins when several rules decide. */
enum eg_action {
	EG_ACT_NONE = 0,  /* no rule matched: run untouched */
	EG_ACT_ALLOW = 1, /* an allow rule exempted the command */
	EG_ACT_LOG = 2,
	EG_ACT_CONFIRM = 3,
	EG_ACT_DENY = 4,
};

enum eg_severity {
	EG_SEV_NORMAL = 0,
	EG_SEV_CRITICAL = 1, /* confirm asks for a word taken from the command */
};

const char *eg_action_name(enum eg_action a);

/* ---------------------------------------------------------------- diagnostics */

struct eg_diag {
	char *file;    /* may be NULL for errors not tied to a file */
	unsigned line; /* 1-based; 0 = whole file */
	unsigned col;  /* 1-based; 0 = whole line */
	char *msg;
};

struct eg_diags {
	struct eg_diag *v;
	size_t n, cap;
};

void eg_diags_add(struct eg_diags *d, const char *file, unsigned line, unsigned col,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));
void eg_diags_free(struct eg_diags *d);
/* "file:line:col: msg" (parts omitted when 0/NULL), one per line. */
void eg_diags_print(const struct eg_diags *d, int fd);

/* ---------------------------------------------------------------- rule sources */

/*
 * Where rule files come from, in load (= precedence) order: the packs
 * directory, the system directory, the user directory. Within a directory,
 * files named *.rules in strcmp order. Extra files (lint arguments, tests)
 * come last.
 */
struct eg_sources {
	char *packs_dir;  /* NULL = skip */
	char *system_dir; /* NULL = skip */
	char *user_dir;   /* NULL = skip */
	char **files;     /* extra files, loaded after the directories */
	size_t n_files;
};

/*
 * Fill in the default directories. `self_path` is the path of the running
 * binary or library (used to tell a build-tree run, which takes the source
 * tree's packs, from an installed one); may be NULL. Honours
 * EXECGUARD_PACKS_DIR and EXECGUARD_SYSTEM_DIR, XDG_CONFIG_HOME and HOME from
 * `envp` (NULL = environ).
 */
int eg_sources_default(struct eg_sources *s, const char *self_path, char *const *envp);
void eg_sources_free(struct eg_sources *s);

/* ---------------------------------------------------------------- parsed rules */

struct eg_pattern {
	char *re;           /* PCRE2 source */
	unsigned line, col; /* where the pattern text starts */
};

struct eg_env_cond {
	char *name;     /* environment variable */
	struct eg_pattern re; /* unset variable is tested as "" */
};

struct eg_example {
	char *text; /* a command line in shell syntax */
	unsigned line, col;
};

struct eg_rule {
	char *id;
	char *file; /* as given to the loader */
	unsigned line; /* of the `rule`/`override` header */
	unsigned file_order; /* index of the file in load order */
	bool is_override;
	bool protected_src; /* file (and its directory) not writable by the user */

	char **programs;
	size_t n_programs;
	struct eg_pattern *match;
	size_t n_match;
	struct eg_pattern *unless;
	size_t n_unless;
	struct eg_env_cond *env;
	size_t n_env;
	struct eg_pattern *cwd;
	size_t n_cwd;
	enum eg_action action;
	enum eg_severity severity;
	char *reason;
	struct eg_example *examples;
	size_t n_examples;
	struct eg_example *safes;
	size_t n_safes;
};

/* A `set KEY VALUE` line (see docs/rules.md, "Settings"). */
struct eg_setting {
	char *key;
	char *value;
	char *file;
	unsigned line, col; /* of the value */
	bool protected_src;
};

struct eg_ruleset {
	struct eg_rule *rules; /* in effect, load order; overrides replaced in place */
	size_t n_rules;
	struct eg_setting *settings; /* in effect: one per key, the last one loaded */
	size_t n_settings;
	char **files; /* every file loaded, in load order */
	bool *files_protected;
	size_t n_files;
};

/* Parse one file's text (for tests): `name` is used in diagnostics. */
int eg_ruleset_parse_text(struct eg_ruleset *rs, const char *name, const char *text, size_t len,
    bool protected_src, struct eg_diags *d);
/* Load one file from disk. Returns 0, or -1 with diagnostics added. */
int eg_ruleset_load_file(struct eg_ruleset *rs, const char *path, struct eg_diags *d);
/* Load everything `src` names. A missing directory is not an error; an
 * unreadable one, or an unreadable file, is. */
int eg_ruleset_load(struct eg_ruleset *rs, const struct eg_sources *src, struct eg_diags *d);
/* Compile every regex (PCRE2's message and offset on error). */
int eg_ruleset_validate_regex(const struct eg_ruleset *rs, struct eg_diags *d);
void eg_ruleset_free(struct eg_ruleset *rs);

/* ---------------------------------------------------------------- policy */

/*
 * The policy is one flat, relocatable, read-only block built from a ruleset:
 * it can be written to a file and mapped by the preload library without
 * parsing. Regexes inside it are kept as source and compiled lazily, per
 * process, the first time a command of their program is checked.
 */
struct eg_policy;

struct eg_policy *eg_policy_build(const struct eg_ruleset *rs, struct eg_diags *d);
/* Validate and adopt a block (e.g. mmap'd). Returns NULL if malformed. */
struct eg_policy *eg_policy_from_block(const void *block, size_t size, bool owned_mmap);
const void *eg_policy_block(const struct eg_policy *p, size_t *size);
/* Stable content hash of the block, for cache file names. */
uint64_t eg_policy_hash(const struct eg_policy *p);
void eg_policy_free(struct eg_policy *p);

size_t eg_policy_rule_count(const struct eg_policy *p);

/* Rules in effect from the default sources (eg_sources_default with
 * `self_path`, `envp`), built. Regexes are not compiled here (the preload
 * library's constructor uses it and must do no regex work): a pattern that
 * does not compile fails closed when first used. NULL with diagnostics. */
struct eg_policy *eg_policy_load_default(const char *self_path, char *const *envp,
    struct eg_diags *d);
/* Map a block written by eg_policy_save; NULL if missing or malformed. */
struct eg_policy *eg_policy_map_file(const char *path);
/* Write the block as <dir>/policy-<hash>.bin (mode 0444, atomic rename) in
 * $XDG_CACHE_HOME/execguard (default ~/.cache/execguard), else
 * $XDG_RUNTIME_DIR/execguard.
 * The path goes to path_out. Returns 0 or -1 with errno. */
int eg_policy_save(const struct eg_policy *p, char *const *envp, char *path_out, size_t size);

/* Run every example/safe line of every rule against its own rule; add a
 * diagnostic at the line for each one that is caught wrongly. Policy rule i
 * must be ruleset rule i (as eg_policy_build makes it). */
int eg_lint_examples(const struct eg_ruleset *rs, const struct eg_policy *p, struct eg_diags *d);

struct eg_rule_info {
	const char *id;
	const char *file;
	unsigned line;
	enum eg_action action;
	enum eg_severity severity;
	const char *reason;
	const char *programs; /* space-separated */
};
int eg_policy_rule_info(const struct eg_policy *p, uint32_t rule, struct eg_rule_info *out);

/* ---------------------------------------------------------------- settings */

/* Names of the known setting keys; returns how many there are. */
size_t eg_setting_keys(const char **names, size_t max);
/* The value of setting `key` in effect, NULL if no file sets it.
 * Hook-path safe (no allocation, no system call). */
const char *eg_policy_setting(const struct eg_policy *p, const char *key);
/* `on` is true, `off` false; unset gives `dflt`. Hook-path safe. */
bool eg_policy_setting_bool(const struct eg_policy *p, const char *key, bool dflt);
/* A seconds setting; unset gives `dflt`. Hook-path safe. */
unsigned eg_policy_setting_seconds(const struct eg_policy *p, const char *key, unsigned dflt);
struct eg_setting_info {
	const char *key, *value, *file;
	unsigned line;
	bool protected_src;
};
size_t eg_policy_setting_count(const struct eg_policy *p);
/* Setting i (0 .. count-1) of the block, in load order. */
int eg_policy_setting_info(const struct eg_policy *p, size_t i, struct eg_setting_info *out);

/* ---------------------------------------------------------------- checking */

#define EG_NO_RULE UINT32_MAX

/* Flags for eg_check_input.flags */
enum {
	/* Unwrap every wrapper and shell (execguard check, lint). Without it the
	 * hook mode applies: unwrap only what the library will not see again
	 * (setuid/setgid/capability or static executables, remote runners). */
	EG_CHECK_UNWRAP_ALL = 1u << 0,
	/* Ignore `cwd` conditions (used when running examples). */
	EG_CHECK_IGNORE_CWD = 1u << 1,
	/* Hook mode for a checker that sees every exec of the guarded tree
	 * (strict mode's seccomp supervisor): a local wrapper or shell is never
	 * unwrapped for being static or set-id, since its own exec of the inner
	 * command reaches the checker too (unwrapping it here would ask twice).
	 * Remote runners are still unwrapped: their remote side is not ours. */
	EG_CHECK_SEES_EVERY_EXEC = 1u << 2,
	/* exe_path has no symlink left to follow (the caller resolved it):
	 * no readlink of it again. */
	EG_CHECK_EXE_RESOLVED = 1u << 3,
	/* cwd is NULL: read the working directory (into the scratch) when a
	 * rule's cwd condition needs it. The usual check tries no such rule
	 * and makes no getcwd system call. */
	EG_CHECK_CWD_LAZY = 1u << 4,
};

/* Why a call was refused without a rule deciding. */
enum eg_fail {
	EG_FAIL_NONE = 0,
	EG_FAIL_TOO_BIG,   /* argv did not fit the scratch buffers */
	EG_FAIL_REGEX,     /* PCRE2 error or limit during matching */
	EG_FAIL_NO_POLICY, /* rules could not be loaded */
};

struct eg_check_input {
	char *const *argv;    /* may be NULL or empty (argc 0) */
	char *const *envp;    /* environment the program will get; NULL = none */
	const char *exe_path; /* resolved executable, NULL if unknown */
	const char *cwd;      /* NULL = not known (cwd conditions then hold) */
	unsigned flags;
};

#define EG_CONFIRM_WORD_MAX 128
#define EG_CMDLINE_MAX 1024

struct eg_check_result {
	enum eg_action action;
	enum eg_severity severity;
	uint32_t rule;     /* deciding rule, EG_NO_RULE if none */
	uint32_t allow_rule; /* the allow rule that exempted, if action == ALLOW */
	enum eg_fail fail;
	int cmd_index;     /* index of the deciding command in the subject, -1 */
	bool unwrapped;    /* the deciding command was found inside a wrapper */
	/* The deciding command, words shell-quoted and joined (truncated with
	 * "…" if longer). Empty when no command decided. */
	char cmdline[EG_CMDLINE_MAX];
	/* For critical rules: the word the human must type. */
	char confirm_word[EG_CONFIRM_WORD_MAX];
};

/* Opaque-sized scratch space, provided by the caller (the hooks mmap it: it
 * is too large for a small thread stack). The size is part of the ABI
 * between lib/ and its callers only. */
#define EG_CHECK_SCRATCH_SIZE (192u * 1024u)
struct eg_check_scratch {
	_Alignas(16) unsigned char bytes[EG_CHECK_SCRATCH_SIZE];
};

/*
 * Decide. Never allocates, never prints, takes no locks, keeps errno.
 * Returns the action (also in out->action).
 */
enum eg_action eg_check(const struct eg_policy *p, const struct eg_check_input *in,
    struct eg_check_scratch *scratch, struct eg_check_result *out);

/* Cheap pre-filter used by the hooks: could any rule or any unwrapping apply
 * to a program with these names? false means eg_check would return NONE,
 * provided exe_path has its symlinks resolved (the hooks do that; this
 * function makes no system call). */
bool eg_check_may_apply(const struct eg_policy *p, const char *argv0, const char *exe_path);

/* Shell-quote `argv` (n words) into buf; truncates with "…". Returns length. */
size_t eg_quote_argv(char *buf, size_t size, const char *const *argv, size_t n);

#ifdef __cplusplus
}
#endif
#endif
