/*
 * `execguard log`: reading one audit record (a JSON line the library wrote),
 * deciding whether a filter keeps it, and printing it as a table row.
 * Only the fields the library writes are read; a line that is not one of its
 * records (a torn write) is skipped.
 */
#ifndef EG_LOG_RECORD_H
#define EG_LOG_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct log_filter {
	char since[32];          /* UTC "YYYY-MM-DDTHH:MM:SS" prefix, "" = any time */
	const char *decisions;   /* comma list matched against action, outcome, why */
	const char *rule;        /* fnmatch pattern over the rule id */
	const char *session;     /* the session id or a prefix of it */
};

struct log_style {
	bool colour;  /* ANSI colours (stdout is a terminal, NO_COLOR unset) */
	int width;    /* terminal columns; 0 = do not cut the command */
};

/* Value of the string field `name` into out; false if absent or not a string. */
bool log_field(const char *line, const char *name, char *out, size_t size);

/* Is `line` a record at all, and does the filter keep it? */
bool log_keep(const struct log_filter *f, const char *line);

/* The table's header and one row. */
void log_print_header(FILE *out, const struct log_style *st);
void log_print_row(FILE *out, const struct log_style *st, const char *line);

#endif
