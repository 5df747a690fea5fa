/* Audit records for `execguard log`. See log_record.h. */
#include "log_record.h"

#include <fnmatch.h>
#include <string.h>

#include "cli.h"

/* Decode the JSON string starting at p (just past its opening quote) into
 * out; returns the position after the closing quote, NULL if malformed. */
static const char *json_string(const char *p, char *out, size_t size)
{
	size_t n = 0;
	while (*p && *p != '"') {
		char c = *p++;
		if (c == '\\') {
			char e = *p++;
			switch (e) {
			case 'n':
				c = '\n';
				break;
			case 't':
				c = '\t';
				break;
			case 'r':
				c = '\r';
				break;
			case 'u': {
				unsigned v;
				if (sscanf(p, "%4x", &v) != 1 || v > 0xff)
					return NULL; /* the library escapes only bytes */
				c = (char)v;
				p += 4;
				break;
			}
			case '"':
			case '\\':
			case '/':
				c = e;
				break;
			default:
				return NULL;
			}
		}
		if (n + 1 < size)
			out[n++] = c;
	}
	if (*p != '"')
		return NULL;
	out[n] = '\0';
	return p + 1;
}

bool log_field(const char *line, const char *name, char *out, size_t size)
{
	char key[32];
	snprintf(key, sizeof key, "\"%s\":\"", name);
	const char *p = strstr(line, key);
	out[0] = '\0';
	return p != NULL && json_string(p + strlen(key), out, size) != NULL;
}

/* The argv array, shell-quoted. */
static void command_of(const char *line, char *out, size_t size)
{
	const char *p = strstr(line, "\"argv\":[");
	char *words[256];
	char store[8192];
	size_t n = 0, used = 0;
	out[0] = '\0';
	if (p == NULL)
		return;
	p += strlen("\"argv\":[");
	while (*p == '"' && n < sizeof words / sizeof words[0] && used < sizeof store) {
		words[n] = store + used;
		p = json_string(p + 1, words[n], sizeof store - used);
		if (p == NULL)
			return;
		used += strlen(words[n]) + 1;
		n++;
		if (*p == ',')
			p++;
	}
	eg_quote_argv(out, size, (const char *const *)words, n);
}

/* Is `word` one of the comma-separated items of `list`? */
static bool in_list(const char *list, const char *word)
{
	size_t n = strlen(word);
	if (n == 0)
		return false;
	for (const char *p = list; *p;) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if (len == n && memcmp(p, word, n) == 0)
			return true;
		p += len + (end ? 1 : 0);
	}
	return false;
}

bool log_keep(const struct log_filter *f, const char *line)
{
	char when[40];
	if (!log_field(line, "time", when, sizeof when))
		return false; /* not a record of ours (a torn write, say) */
	if (f->since[0] != '\0' && strncmp(when, f->since, strlen(f->since)) < 0)
		return false;
	if (f->decisions) {
		char action[32], outcome[32], why[32];
		log_field(line, "action", action, sizeof action);
		log_field(line, "outcome", outcome, sizeof outcome);
		log_field(line, "why", why, sizeof why);
		if (!in_list(f->decisions, action) && !in_list(f->decisions, outcome) &&
		    !in_list(f->decisions, why))
			return false;
	}
	if (f->rule) {
		char rule[256];
		if (!log_field(line, "rule", rule, sizeof rule) || fnmatch(f->rule, rule, 0) != 0)
			return false;
	}
	if (f->session) {
		char session[80];
		if (!log_field(line, "session", session, sizeof session) ||
		    strncmp(session, f->session, strlen(f->session)) != 0)
			return false;
	}
	return true;
}

/* Column widths of the table (the command takes the rest). */
#define W_TIME 20
#define W_DECISION 20
#define W_RULE 28
#define W_SESSION 16

void log_print_header(FILE *out, const struct log_style *st)
{
	fprintf(out, "%s%-*s %-*s %-*s %-*s %s%s\n", st->colour ? "\033[1m" : "", W_TIME,
	    "TIME (UTC)", W_DECISION, "DECISION", W_RULE, "RULE", W_SESSION, "SESSION", "COMMAND",
	    st->colour ? "\033[0m" : "");
}

/* Cut s to at most `max` bytes on a UTF-8 boundary, marking the cut. */
static void cut(char *s, size_t max)
{
	size_t n = strlen(s);
	if (n <= max)
		return;
	if (max < 3) {
		s[max] = '\0';
		return;
	}
	size_t at = max - 3;
	while (at > 0 && ((unsigned char)s[at] & 0xc0) == 0x80)
		at--;
	memcpy(s + at, "...", 4);
}

void log_print_row(FILE *out, const struct log_style *st, const char *line)
{
	char when[40], action[32], outcome[32], why[32], rule[256], session[80];
	char decision[80], cmd[EG_CMDLINE_MAX];
	log_field(line, "time", when, sizeof when);
	log_field(line, "action", action, sizeof action);
	log_field(line, "outcome", outcome, sizeof outcome);
	log_field(line, "why", why, sizeof why);
	if (!log_field(line, "rule", rule, sizeof rule) || rule[0] == '\0')
		strcpy(rule, "-");
	if (!log_field(line, "session", session, sizeof session) || session[0] == '\0')
		strcpy(session, "-");
	command_of(line, cmd, sizeof cmd);

	/* "2026-11-26T14:31:44.864715Z" -> "2026-11-26 14:31:44Z" */
	if (strlen(when) >= 19) {
		when[10] = ' ';
		when[19] = 'Z';
		when[20] = '\0';
	}
	/* the outcome, or for a refusal that a human could have answered, why
	 * (said-no, timeout, no-terminal, ...) */
	bool refused = strcmp(outcome, "refused") == 0;
	const char *how = refused && why[0] && strcmp(why, "denied") != 0 ? why : outcome;
	snprintf(decision, sizeof decision, "%s/%s", action[0] ? action : "?", how[0] ? how : "?");

	const char *on = "", *off = "";
	if (st->colour) {
		off = "\033[0m";
		if (refused)
			on = "\033[1;31m";
		else if (strcmp(outcome, "approved") == 0)
			on = "\033[1;32m";
		else
			on = "\033[2m";
	}
	if (st->width > 0) {
		int used = W_TIME + W_DECISION + W_RULE + W_SESSION + 4;
		int wide_rule = (int)strlen(rule) > W_RULE ? (int)strlen(rule) - W_RULE : 0;
		int room = st->width - used - wide_rule;
		cut(cmd, room > 12 ? (size_t)room : 12);
	}
	fprintf(out, "%-*s %s%-*s%s %-*s %-*s %s\n", W_TIME, when, on, W_DECISION, decision, off,
	    W_RULE, rule, W_SESSION, session, cmd);
}
