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
int cmd_log(int argc, char **argv);

/* Absolute path of the running execguard binary (from /proc/self/exe). */
const char *cli_self_path(void);
/* Path of libexecguard.so to preload: beside a build-tree binary, else installed. */
const char *cli_library_path(void);
/* Load the rules in effect (defaults + `extra` files), report diagnostics on
 * stderr. Returns NULL on configuration error (caller exits EX_CONFIG). */
struct eg_policy *cli_load_policy(struct eg_ruleset *rs_out, char **extra, size_t n_extra,
    bool lint_examples, size_t *n_problems);
/* A new audit session id: 16 random hex digits into out. 0, or -1 (errno). */
int cli_new_session_id(char out[17]);
/* Print "execguard: <verb>: msg" to stderr. */
void cli_error(const char *verb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
