/* The execguard command-line tool: one file per verb. */
#ifndef EG_CLI_H
#define EG_CLI_H

#include <sysexits.h>

#include "execguard.h"

/* Each verb gets argv starting at the verb itself (argv[0] = "check"). */
int cmd_check(int argc, char **argv);
int cmd_lint(int argc, char **argv);
int cmd_rules(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_shell_init(int argc, char **argv);
int cmd_cache(int argc, char **argv);
int cmd_log(int argc, char **argv);
int cmd_doctor(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_hook(int argc, char **argv);
int cmd_approve(int argc, char **argv); /* pending, approve, deny */

/* The decision `execguard check` prints, for argv `cmd` (every wrapper and
 * shell string unwrapped), judged in `cwd` (NULL: the current directory).
 * Runs nothing. Out of memory is a failure (deny). */
enum eg_action cli_check_command(const struct eg_policy *p, char **cmd, const char *cwd,
    struct eg_check_result *res);

/* Absolute path of the running execguard binary (from /proc/self/exe). */
const char *cli_self_path(void);
/* Path of libexecguard.so to preload: the build's for a build-tree binary, else
 * the one installed with this binary (see lib/install_dirs.h). */
const char *cli_library_path(void);
/*
 * The library a session preloads: a copy of `lib` that carries the policy
 * file `policy_path` (library_copy.h), so that no guarded process opens
 * that file itself; `lib` when no copy can be made (the file is then used,
 * as before). `nested` (a run inside a guarded session): the copy that
 * session preloads, which the hooks re-inject anyway. Unsets
 * EXECGUARD_LIBRARY unless nested; the caller sets it when the result is
 * not `lib`. Returns a static buffer or `lib`.
 */
const char *cli_session_library(const char *lib, const char *policy_path, bool nested);
/* Load the rules in effect (defaults + `extra` files), report diagnostics on
 * stderr. Returns NULL on configuration error (caller exits EX_CONFIG). */
struct eg_policy *cli_load_policy(struct eg_ruleset *rs_out, char **extra, size_t n_extra,
    bool lint_examples, size_t *n_problems);
/* The same, with the packs an execguard binary or library at self_path uses. */
struct eg_policy *cli_load_policy_from(const char *self_path, struct eg_ruleset *rs_out,
    char **extra, size_t n_extra, bool lint_examples, size_t *n_problems);
/* A setting given on the command line (`execguard run --approver CMD`):
 * applied after the rule files as if from a protected file named `source`.
 * It never comes from the environment. */
struct cli_setting {
	const char *source; /* "execguard run --approver" */
	const char *key, *value;
};
/* cli_load_policy, then `sets` applied before the block is built. */
struct eg_policy *cli_load_policy_set(struct eg_ruleset *rs_out, char **extra, size_t n_extra,
    bool lint_examples, size_t *n_problems, const struct cli_setting *sets, size_t n_sets);
/* Both: the packs of self_path, and settings from the command line. */
struct eg_policy *cli_load_policy_full(const char *self_path, struct eg_ruleset *rs_out,
    char **extra, size_t n_extra, bool lint_examples, size_t *n_problems,
    const struct cli_setting *sets, size_t n_sets);
/* A new audit session id: 16 random hex digits into out. 0, or -1 (errno). */
int cli_new_session_id(char out[17]);
/* Print "execguard: <verb>: msg" to stderr. */
void cli_error(const char *verb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
