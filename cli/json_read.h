/*
 * A small, strict JSON reader for the few values the CLI reads from other
 * programs (an agent's hook request). No JSON library is a dependency, and
 * the CLI needs one thing: the string at a path of object keys.
 *
 * The whole document is validated (RFC 8259: one value, nothing after it but
 * blanks, no trailing commas, no comments, no NaN, escapes and UTF-8 checked,
 * nesting at most 64 deep), so a request that is not valid JSON is never
 * half-read.
 */
#ifndef EG_JSON_READ_H
#define EG_JSON_READ_H

#include <stddef.h>

enum json_get {
	JSON_FOUND = 0,   /* *out: the unescaped string (malloc'd, NUL-terminated) */
	JSON_ABSENT = 1,  /* valid document; no such key, or the value is not a string */
	JSON_INVALID = -1, /* not valid JSON (or a string holding U+0000) */
	JSON_NOMEM = -2,
};

/* The string at doc[path[0]][path[1]]...; a key that appears twice in one
 * object is JSON_INVALID (which one would the sender mean?). */
enum json_get json_get_string(const char *doc, size_t len, const char *const *path,
    size_t depth, char **out);

#endif
