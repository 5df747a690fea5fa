/*
 * Settings: `set KEY VALUE` lines in rule files. The table of known keys,
 * the check of a value, and the lookup in a policy block. Internal to lib/.
 */
#ifndef EG_SETTINGS_H
#define EG_SETTINGS_H

#include <stdbool.h>
#include <stddef.h>

enum eg_setting_kind {
	EG_SET_BOOL,    /* on | off */
	EG_SET_SECONDS, /* a decimal count of seconds, 0 .. 86400 */
	EG_SET_COMMAND, /* a command line, run with /bin/sh -c */
};

struct eg_setting_key {
	const char *name;
	enum eg_setting_kind kind;
	const char *help; /* one line, for `execguard rules` and the docs */
};

/* The key named s[0..n), or NULL. */
const struct eg_setting_key *eg_setting_key_find(const char *s, size_t n);
/* NULL if `value` suits `k`, else what is wrong (a static string). */
const char *eg_setting_value_problem(const struct eg_setting_key *k, const char *value);

#endif
