/* The approver's JSON request. See approval_request.h. */
#include "approval_request.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "fmt.h"
#include "utf8.h"

struct out {
	char *p;
	size_t len, cap;
	bool full;
};

static void put_c(struct out *o, char c)
{
	if (o->len + 2 >= o->cap) { /* room for the newline and a NUL */
		o->full = true;
		return;
	}
	o->p[o->len++] = c;
}

static void put_raw(struct out *o, const char *s)
{
	while (*s && !o->full)
		put_c(o, *s++);
}

static void put_uint(struct out *o, unsigned long v)
{
	char d[EG_FMT_UINT_MAX];
	eg_fmt_uint(d, v);
	put_raw(o, d);
}

static void put_str(struct out *o, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	put_c(o, '"');
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	while (*p && !o->full) {
		unsigned char c = *p;
		if (c == '"' || c == '\\') {
			put_c(o, '\\');
			put_c(o, (char)c);
			p++;
		} else if (c < 0x20 || c == 0x7f) {
			put_raw(o, "\\u00");
			put_c(o, hex[c >> 4]);
			put_c(o, hex[c & 15]);
			p++;
		} else {
			int n = (int)eg_utf8_decode(p, SIZE_MAX, NULL);
			if (n == 0) {
				put_raw(o, "\\ufffd");
				p++;
			} else {
				for (int i = 0; i < n; i++)
					put_c(o, (char)p[i]);
				p += n;
			}
		}
	}
	put_c(o, '"');
}

static void field(struct out *o, const char *name, bool first)
{
	if (!first)
		put_c(o, ',');
	put_c(o, '"');
	put_raw(o, name);
	put_raw(o, "\":");
}

size_t eg_approval_json(char *buf, size_t cap, const struct eg_approval_req *r, const char *session)
{
	struct out o = { buf, 0, cap, cap < 4 };
	const struct eg_prompt_req *q = r->q;
	put_raw(&o, "{\"version\":1");
	field(&o, "command", false);
	put_str(&o, q->cmdline);
	field(&o, "argv", false);
	put_c(&o, '[');
	for (size_t i = 0; r->argv && r->argv[i]; i++) {
		if (i)
			put_c(&o, ',');
		put_str(&o, r->argv[i]);
	}
	put_c(&o, ']');
	field(&o, "cwd", false);
	put_str(&o, q->cwd);
	field(&o, "rule", false);
	put_str(&o, q->rule_id);
	field(&o, "reason", false);
	put_str(&o, q->reason);
	field(&o, "rule_file", false);
	if (q->rule_file) {
		char where[EG_FMT_UINT_MAX + 1] = ":";
		eg_fmt_uint(where + 1, q->rule_line);
		put_str(&o, q->rule_file);
		if (!o.full)
			o.len--; /* reopen the string: file, then ":line" (digits only) */
		put_raw(&o, where);
		put_c(&o, '"');
	} else {
		put_raw(&o, "null");
	}
	field(&o, "required", false);
	put_str(&o, q->required);
	field(&o, "pid", false);
	put_uint(&o, (unsigned long)q->pid);
	field(&o, "program", false);
	put_str(&o, q->progname);
	field(&o, "parents", false);
	put_str(&o, q->parents);
	field(&o, "session", false);
	if (session)
		put_str(&o, session);
	else
		put_raw(&o, "null");
	field(&o, "timeout", false);
	put_uint(&o, q->timeout_sec);
	put_raw(&o, "}\n");
	if (o.full)
		return 0;
	buf[o.len] = '\0';
	return o.len;
}
