/*
 * eg_quote_argv: shell-quote an argv so a human sees exactly what runs.
 * Plain words stay bare, others go in single quotes ('\'' for a quote);
 * words with control characters, invalid UTF-8 or invisible/bidi code
 * points use $'...' with \xHH / \uXXXX escapes. Output that does not fit
 * ends in "…". Hook-path code: no malloc, no stdio.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "execguard.h"
#include "utf8.h"

#define ELLIPSIS "\xe2\x80\xa6"

struct qout {
	char *buf;
	size_t size;  /* 0 in the measuring pass */
	size_t pos;
	size_t limit; /* bytes usable for text */
	bool full;
};

static void emit(struct qout *o, const char *p, size_t n)
{
	if (o->full)
		return;
	if (o->size == 0) {
		o->pos += n;
		return;
	}
	if (o->pos + n > o->limit) {
		o->full = true;
		return;
	}
	memcpy(o->buf + o->pos, p, n);
	o->pos += n;
}

/* Code points a terminal would not show faithfully. */
static bool cp_hidden(uint32_t cp)
{
	return cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f) || cp == 0xad
	    || (cp >= 0x200b && cp <= 0x200f) || (cp >= 0x2028 && cp <= 0x202e)
	    || (cp >= 0x2060 && cp <= 0x2064) || (cp >= 0x2066 && cp <= 0x2069) || cp == 0xfeff
	    || (cp >= 0xfff9 && cp <= 0xfffb);
}

static bool safe_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
	    || strchr("_-./,:@%+=", c) != NULL;
}

enum qstyle { Q_BARE, Q_SINGLE, Q_ANSI };

static enum qstyle classify(const char *w)
{
	const unsigned char *p = (const unsigned char *)w;
	if (!*p)
		return Q_SINGLE;
	enum qstyle st = Q_BARE;
	while (*p) {
		uint32_t cp;
		size_t n = eg_utf8_decode(p, SIZE_MAX, &cp);
		if (n == 0 || cp_hidden(cp))
			return Q_ANSI;
		if (n > 1 || !safe_char(*p))
			st = Q_SINGLE;
		p += n;
	}
	return st;
}

static void emit_hex(struct qout *o, const char *pre, uint32_t v, int digits)
{
	static const char hx[] = "0123456789abcdef";
	char t[12];
	size_t n = strlen(pre);
	memcpy(t, pre, n);
	for (int i = digits - 1; i >= 0; i--)
		t[n++] = hx[(v >> (4 * i)) & 0xf];
	emit(o, t, n);
}

static void quote_word(struct qout *o, const char *w)
{
	const unsigned char *p = (const unsigned char *)w;
	switch (classify(w)) {
	case Q_BARE:
		while (*p && !o->full) {
			emit(o, (const char *)p, 1);
			p++;
		}
		return;
	case Q_SINGLE:
		emit(o, "'", 1);
		while (*p && !o->full) {
			uint32_t cp;
			size_t n = eg_utf8_decode(p, SIZE_MAX, &cp);
			if (*p == '\'')
				emit(o, "'\\''", 4);
			else
				emit(o, (const char *)p, n);
			p += n;
		}
		emit(o, "'", 1);
		return;
	case Q_ANSI:
		emit(o, "$'", 2);
		while (*p && !o->full) {
			uint32_t cp;
			size_t n = eg_utf8_decode(p, SIZE_MAX, &cp);
			if (n == 0) {
				emit_hex(o, "\\x", *p, 2);
				p++;
				continue;
			}
			if (cp == '\n')
				emit(o, "\\n", 2);
			else if (cp == '\t')
				emit(o, "\\t", 2);
			else if (cp == '\r')
				emit(o, "\\r", 2);
			else if (cp == '\\')
				emit(o, "\\\\", 2);
			else if (cp == '\'')
				emit(o, "\\'", 2);
			else if (cp < 0x80 && cp_hidden(cp))
				emit_hex(o, "\\x", cp, 2);
			else if (cp_hidden(cp))
				emit_hex(o, "\\u", cp, 4);
			else
				emit(o, (const char *)p, n);
			p += n;
		}
		emit(o, "'", 1);
		return;
	}
}

static void quote_all(struct qout *o, const char *const *argv, size_t n)
{
	for (size_t i = 0; i < n && !o->full; i++) {
		if (i)
			emit(o, " ", 1);
		quote_word(o, argv[i] ? argv[i] : "");
	}
}

size_t eg_quote_argv(char *buf, size_t size, const char *const *argv, size_t n)
{
	if (!buf || size == 0)
		return 0;
	if (!argv)
		n = 0;
	struct qout m = { 0 };
	quote_all(&m, argv, n);
	struct qout o = { .buf = buf, .size = size, .limit = size - 1 };
	if (m.pos > size - 1) {
		/* does not fit: keep room for the ellipsis */
		o.limit = size - 1 >= 3 ? size - 1 - 3 : size - 1;
		quote_all(&o, argv, n);
		if (size - 1 - o.pos >= 3) {
			memcpy(buf + o.pos, ELLIPSIS, 3);
			o.pos += 3;
		}
	} else {
		quote_all(&o, argv, n);
	}
	buf[o.pos] = '\0';
	return o.pos;
}
