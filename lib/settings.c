/* The known settings and their values. Add a key here, document it in
 * docs/rules.md, and read it with eg_policy_setting*(). */
#include <string.h>

#include "execguard.h"
#include "settings.h"

static const struct eg_setting_key keys[] = {
	{ "prompt-timeout", EG_SET_SECONDS,
	    "seconds a confirm question waits for an answer (EXECGUARD_PROMPT_TIMEOUT may only shorten it)" },
	{ "syslog", EG_SET_BOOL, "also send audit records to syslog (facility authpriv)" },
	{ "audit-execs", EG_SET_BOOL, "record every exec in the audit log, not only decisions" },
	{ "alert", EG_SET_COMMAND,
	    "command run with the JSON record on stdin when a rule refuses or a human approves" },
	{ "approver", EG_SET_COMMAND,
	    "command asked instead of the terminal: JSON request on stdin, exit 0 = yes" },
	{ "approve-elsewhere", EG_SET_BOOL,
	    "queue confirms for `execguard approve CODE` from another terminal" },
	{ "allow-once", EG_SET_SECONDS,
	    "after a yes, the same argv in the same cwd runs without asking for this long (0 = off)" },
	{ "refuse-cooldown", EG_SET_SECONDS,
	    "after a no, the same request is refused without asking for this long" },
};

const struct eg_setting_key *eg_setting_key_find(const char *s, size_t n)
{
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
		if (strlen(keys[i].name) == n && memcmp(keys[i].name, s, n) == 0)
			return &keys[i];
	return NULL;
}

const char *eg_setting_value_problem(const struct eg_setting_key *k, const char *v)
{
	switch (k->kind) {
	case EG_SET_BOOL:
		return strcmp(v, "on") == 0 || strcmp(v, "off") == 0 ? NULL
								     : "expected 'on' or 'off'";
	case EG_SET_SECONDS: {
		unsigned long n = 0;
		if (!*v)
			return "expected a number of seconds";
		for (const char *c = v; *c; c++) {
			if (*c < '0' || *c > '9')
				return "expected a number of seconds (digits only)";
			n = n * 10 + (unsigned long)(*c - '0');
			if (n > 86400)
				return "at most 86400 seconds (one day)";
		}
		return NULL;
	}
	case EG_SET_COMMAND:
		return *v ? NULL : "expected a command";
	}
	return "unknown kind";
}

size_t eg_setting_keys(const char **names, size_t max)
{
	size_t n = sizeof keys / sizeof keys[0];
	for (size_t i = 0; i < n && i < max; i++)
		names[i] = keys[i].name;
	return n;
}
