/* The strict JSON reader. See json_read.h. */
#include "json_read.h"
#include "utf8.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 64

struct rd {
	const unsigned char *s;
	size_t len, pos;
	const char *const *path;
	size_t depth;     /* path length */
	char *found;      /* the wanted string, once seen */
	bool bad, nomem, dup;
};

static void blanks(struct rd *r)
{
	while (r->pos < r->len && (r->s[r->pos] == ' ' || r->s[r->pos] == '\t' ||
	    r->s[r->pos] == '\n' || r->s[r->pos] == '\r'))
		r->pos++;
}

static bool eat(struct rd *r, char c)
{
	blanks(r);
	if (r->pos < r->len && r->s[r->pos] == (unsigned char)c) {
		r->pos++;
		return true;
	}
	return false;
}

static int hex4(struct rd *r, uint32_t *v)
{
	if (r->len - r->pos < 4)
		return -1;
	*v = 0;
	for (int i = 0; i < 4; i++) {
		unsigned char c = r->s[r->pos++];
		*v <<= 4;
		if (c >= '0' && c <= '9')
			*v |= c - '0';
		else if (c >= 'a' && c <= 'f')
			*v |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			*v |= c - 'A' + 10;
		else
			return -1;
	}
	return 0;
}

static size_t put_utf8(char *o, uint32_t cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xc0 | (cp >> 6));
		o[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xe0 | (cp >> 12));
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | (cp >> 18));
	o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	o[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* A string at r->pos (the opening quote). With `out`, its unescaped text
 * (malloc'd) goes there. */
static bool string(struct rd *r, char **out)
{
	blanks(r);
	if (r->pos >= r->len || r->s[r->pos] != '"')
		return false;
	r->pos++;
	/* the unescaped text is never longer than the escaped one */
	size_t start = r->pos, cap = 0;
	char *o = NULL;
	if (out) {
		size_t end = start;
		while (end < r->len && r->s[end] != '"')
			end += r->s[end] == '\\' ? 2 : 1;
		cap = (end < r->len ? end : r->len) - start + 1;
		o = malloc(cap);
		if (!o) {
			r->nomem = true;
			return false;
		}
	}
	size_t n = 0;
	for (;;) {
		if (r->pos >= r->len)
			goto bad;
		unsigned char c = r->s[r->pos];
		if (c == '"') {
			r->pos++;
			break;
		}
		if (c < 0x20)
			goto bad;
		if (c != '\\') {
			size_t k = eg_utf8_decode(r->s + r->pos, r->len - r->pos, NULL);
			if (k == 0)
				goto bad;
			if (o)
				memcpy(o + n, r->s + r->pos, k);
			n += k;
			r->pos += k;
			continue;
		}
		r->pos++;
		if (r->pos >= r->len)
			goto bad;
		char e = (char)r->s[r->pos++], lit = 0;
		switch (e) {
		case '"': lit = '"'; break;
		case '\\': lit = '\\'; break;
		case '/': lit = '/'; break;
		case 'b': lit = '\b'; break;
		case 'f': lit = '\f'; break;
		case 'n': lit = '\n'; break;
		case 'r': lit = '\r'; break;
		case 't': lit = '\t'; break;
		case 'u': {
			uint32_t cp, lo;
			if (hex4(r, &cp) < 0)
				goto bad;
			if (cp >= 0xdc00 && cp <= 0xdfff)
				goto bad; /* a lone low surrogate */
			if (cp >= 0xd800 && cp <= 0xdbff) {
				if (r->len - r->pos < 2 || r->s[r->pos] != '\\' || r->s[r->pos + 1] != 'u')
					goto bad;
				r->pos += 2;
				if (hex4(r, &lo) < 0 || lo < 0xdc00 || lo > 0xdfff)
					goto bad;
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			}
			if (cp == 0)
				goto bad; /* no C string can hold it; never a command */
			char tmp[4];
			size_t k = put_utf8(tmp, cp);
			if (o)
				memcpy(o + n, tmp, k);
			n += k;
			continue;
		}
		default:
			goto bad;
		}
		if (o)
			o[n] = lit;
		n++;
	}
	if (o) {
		o[n] = '\0';
		*out = o;
	}
	return true;
bad:
	free(o);
	r->bad = true;
	return false;
}

static bool number(struct rd *r)
{
	blanks(r);
	size_t p = r->pos;
	const unsigned char *s = r->s;
	if (p < r->len && s[p] == '-')
		p++;
	if (p >= r->len)
		return false;
	if (s[p] == '0') {
		p++;
	} else if (s[p] >= '1' && s[p] <= '9') {
		while (p < r->len && s[p] >= '0' && s[p] <= '9')
			p++;
	} else {
		return false;
	}
	if (p < r->len && s[p] == '.') {
		p++;
		if (p >= r->len || s[p] < '0' || s[p] > '9')
			return false;
		while (p < r->len && s[p] >= '0' && s[p] <= '9')
			p++;
	}
	if (p < r->len && (s[p] == 'e' || s[p] == 'E')) {
		p++;
		if (p < r->len && (s[p] == '+' || s[p] == '-'))
			p++;
		if (p >= r->len || s[p] < '0' || s[p] > '9')
			return false;
		while (p < r->len && s[p] >= '0' && s[p] <= '9')
			p++;
	}
	r->pos = p;
	return true;
}

static bool word(struct rd *r, const char *w)
{
	size_t n = strlen(w);
	if (r->len - r->pos >= n && memcmp(r->s + r->pos, w, n) == 0) {
		r->pos += n;
		return true;
	}
	return false;
}

/* `match`: how many path keys led here (depth == match: this is the value). */
static bool value(struct rd *r, unsigned nest, size_t match);

static bool object(struct rd *r, unsigned nest, size_t match)
{
	/* keys seen in this object (to reject duplicates), as offsets */
	size_t seen_cap = 8, n_seen = 0;
	char **seen = malloc(seen_cap * sizeof *seen);
	bool ok = false;
	if (!seen) {
		r->nomem = true;
		return false;
	}
	r->pos++; /* '{' */
	if (eat(r, '}')) {
		ok = true;
		goto out;
	}
	for (;;) {
		char *key = NULL;
		if (!string(r, &key))
			goto out;
		for (size_t i = 0; i < n_seen; i++)
			if (strcmp(seen[i], key) == 0) {
				r->dup = true;
				free(key);
				goto out;
			}
		if (n_seen == seen_cap) {
			char **g = realloc(seen, 2 * seen_cap * sizeof *seen);
			if (!g) {
				r->nomem = true;
				free(key);
				goto out;
			}
			seen = g;
			seen_cap *= 2;
		}
		seen[n_seen++] = key;
		if (!eat(r, ':'))
			goto out;
		bool on_path = match < r->depth && strcmp(key, r->path[match]) == 0;
		if (!value(r, nest + 1, on_path ? match + 1 : (size_t)-1))
			goto out;
		if (eat(r, ','))
			continue;
		if (eat(r, '}'))
			break;
		goto out;
	}
	ok = true;
out:
	for (size_t i = 0; i < n_seen; i++)
		free(seen[i]);
	free(seen);
	return ok;
}

static bool array(struct rd *r, unsigned nest)
{
	r->pos++; /* '[' */
	if (eat(r, ']'))
		return true;
	for (;;) {
		if (!value(r, nest + 1, (size_t)-1))
			return false;
		if (eat(r, ','))
			continue;
		return eat(r, ']');
	}
}

static bool value(struct rd *r, unsigned nest, size_t match)
{
	if (nest > MAX_DEPTH)
		return false;
	blanks(r);
	if (r->pos >= r->len)
		return false;
	switch (r->s[r->pos]) {
	case '{':
		return object(r, nest, match);
	case '[':
		return array(r, nest);
	case '"':
		if (match == r->depth && !r->found)
			return string(r, &r->found);
		return string(r, NULL);
	case 't':
		return word(r, "true");
	case 'f':
		return word(r, "false");
	case 'n':
		return word(r, "null");
	default:
		return number(r);
	}
}

enum json_get json_get_string(const char *doc, size_t len, const char *const *path,
    size_t depth, char **out)
{
	struct rd r = { .s = (const unsigned char *)doc, .len = len, .path = path, .depth = depth };
	*out = NULL;
	bool ok = value(&r, 0, 0);
	blanks(&r);
	if (ok && r.pos != r.len)
		ok = false;
	if (r.nomem) {
		free(r.found);
		return JSON_NOMEM;
	}
	if (!ok || r.bad || r.dup) {
		free(r.found);
		return JSON_INVALID;
	}
	if (!r.found)
		return JSON_ABSENT;
	*out = r.found;
	return JSON_FOUND;
}
