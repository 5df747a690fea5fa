/*
 * A shell lexer that finds every command in a shell string without running
 * anything: quotes, escapes, $'...', comments, operators, redirections and
 * here-documents, keywords, assignments, and command/process substitutions
 * (whose contents are commands too). Words keep $VAR and ~ as written,
 * except positional parameters ($0 $1 ${10} $@ $* $#) when the caller knows
 * them (sh -c STRING NAME ARGS...): those are substituted, with word
 * splitting on blanks when unquoted, as the shell would.
 *
 * Hook-path code: no malloc, no stdio; recursion is bounded by
 * EG_SUBJ_MAX_DEPTH. Words go into the subject's text buffer.
 */
#include <string.h>

#include "fmt.h"
#include "subject.h"
#include "subject_int.h"

#define MAX_SPANS 32
#define MAX_HD 8
#define HD_TEXT 256

enum { SP_PAREN, SP_BACKTICK, SP_SCRIPT };

struct span {
	const char *b, *e;
	int kind;
	int32_t owner; /* SP_SCRIPT: the command whose stdin is the script */
	bool remote;   /* SP_SCRIPT: the script runs remotely */
	bool direct;   /* SP_SCRIPT: owner itself reads it (not through wrappers) */
};

struct cmdstate;

struct heredoc {
	uint16_t off, len;
	bool strip, quoted;
	int32_t owner; /* command the here-document feeds, -1 if none */
};

struct lex {
	struct eg_subject *s;
	const struct eg_split_ctx *ctx;
	const char *p, *end;
	bool emit;   /* false: only find the end of a construct */
	bool closed; /* skip mode: the terminator was found */
	int nest;
	int rdepth; /* ${ / $(( recursion within one lexer */
	/* pending here-documents, read at the next newline */
	struct heredoc hd[MAX_HD];
	int n_hd;
	int hd_cmd_from; /* here-documents of the current command start here */
	/* here-strings of the current command (<<< WORD): their text in s->text */
	uint32_t hs_off[MAX_HD], hs_len[MAX_HD];
	int n_hs;
	/* the word being read: substitutions may split it into fields */
	struct cmdstate *cs; /* fields are handed to handle_word for this command */
	bool fsplit;         /* unquoted substitutions are split into fields */
	bool nosubst;        /* here-document delimiter: no substitution */
	bool fhard;          /* the current field is kept even if empty (quotes) */
	uint32_t fstart;     /* s->text offset of the current field */
	char hd_text[HD_TEXT];
	size_t hd_used;
	/* substitutions met while reading the current command (emit mode) */
	struct span sp[MAX_SPANS];
	int n_sp;
	/* case ... esac */
	int case_depth;
	bool case_pat;
};

static int split_list(struct lex *lx, int term);

static bool ovf(const struct lex *lx)
{
	return lx->s->overflow;
}

static char at(const struct lex *lx, size_t k)
{
	return (size_t)(lx->end - lx->p) > k ? lx->p[k] : '\0';
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Ends a word outside quotes. */
static bool is_meta(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == ';' || c == '&' || c == '|' || c == '('
	    || c == ')' || c == '<' || c == '>';
}

static bool is_name_start(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static bool is_name_char(char c)
{
	return is_name_start(c) || (c >= '0' && c <= '9');
}

/* ------------------------------------------------------------ word output */

/* Words are written to s->text; the final byte is always kept for a NUL.
 * In skip mode a word that does not fit is silently cut (it is thrown away
 * anyway); in emit mode it is an overflow. */
static void put(struct lex *lx, char c)
{
	struct eg_subject *s = lx->s;
	if (s->text_used < EG_SUBJ_TEXT - 1)
		s->text[s->text_used++] = c;
	else if (lx->emit)
		eg_subj_fail(s);
}

static void put_raw(struct lex *lx, const char *b, const char *e)
{
	while (b < e && !ovf(lx))
		put(lx, *b++);
}

static void end_word(struct lex *lx)
{
	struct eg_subject *s = lx->s;
	if (s->text_used < EG_SUBJ_TEXT)
		s->text[s->text_used++] = '\0';
	else
		eg_subj_fail(s);
}

/* ------------------------------------------------------------ substitutions */

static void add_span(struct lex *lx, const char *b, const char *e, int kind)
{
	if (!lx->emit)
		return;
	if (lx->n_sp >= MAX_SPANS) {
		eg_subj_fail(lx->s);
		return;
	}
	lx->sp[lx->n_sp++] = (struct span){ b, e, kind, -1, false, false };
}

static void sub_init(struct lex *sub, const struct lex *lx, const char *b, const char *e, bool emit)
{
	memset(sub, 0, offsetof(struct lex, hd_text));
	sub->hd_used = 0;
	sub->n_sp = 0;
	sub->case_depth = 0;
	sub->case_pat = false;
	sub->s = lx->s;
	sub->ctx = lx->ctx;
	sub->p = b;
	sub->end = e;
	sub->emit = emit;
	sub->nest = lx->nest + 1;
}

/* p at the opening '(' of $( or <( or >( content start - 1: find the matching
 * ')' with a skip-mode lexer; record the content as a span. */
static void scan_paren(struct lex *lx, const char *content)
{
	if (lx->nest + 1 > EG_SUBJ_MAX_DEPTH) {
		eg_subj_fail(lx->s);
		lx->p = lx->end;
		return;
	}
	struct lex sub;
	uint32_t mark = lx->s->text_used;
	sub_init(&sub, lx, content, lx->end, false);
	split_list(&sub, ')');
	lx->s->text_used = mark;
	const char *ce = sub.closed ? sub.p - 1 : sub.p;
	add_span(lx, content, ce, SP_PAREN);
	lx->p = sub.p;
}

static void scan_backtick(struct lex *lx)
{
	const char *q = lx->p + 1;
	while (q < lx->end && *q != '`')
		q += (*q == '\\' && q + 1 < lx->end) ? 2 : 1;
	add_span(lx, lx->p + 1, q, SP_BACKTICK);
	lx->p = q < lx->end ? q + 1 : lx->end;
}

static void scan_dollar(struct lex *lx);
static void scan_dollar1(struct lex *lx);

/* Arithmetic after "((" (lx->p just past it). Returns true and moves past
 * "))" if it is arithmetic; false (nothing moved, no spans kept) if the
 * parentheses close as ") )", i.e. it was a subshell after all. */
static bool scan_arith(struct lex *lx)
{
	const char *start = lx->p;
	int nsp = lx->n_sp;
	int depth = 2;
	while (lx->p < lx->end && !ovf(lx)) {
		char c = *lx->p;
		if (c == '\\') {
			lx->p += at(lx, 1) ? 2 : 1;
		} else if (c == '$' && (at(lx, 1) == '(' || at(lx, 1) == '{')) {
			if (at(lx, 1) == '(' && at(lx, 2) == '(') {
				lx->p += 3;
				depth += 2;
			} else {
				scan_dollar(lx);
			}
		} else if (c == '`') {
			scan_backtick(lx);
		} else if (c == '(') {
			depth++;
			lx->p++;
		} else if (c == ')') {
			depth--;
			lx->p++;
			if (depth == 1) {
				if (lx->p < lx->end && *lx->p == ')') {
					lx->p++;
					return true;
				}
				break;
			}
		} else {
			lx->p++;
		}
	}
	if (lx->p >= lx->end && !ovf(lx))
		return true; /* unterminated: arithmetic to the end */
	lx->p = start;
	lx->n_sp = nsp;
	return false;
}

/* ${...}: to the matching brace, noting substitutions inside. */
static void scan_brace(struct lex *lx)
{
	int depth = 1;
	lx->p += 2;
	while (lx->p < lx->end && depth > 0 && !ovf(lx)) {
		char c = *lx->p;
		if (c == '\\') {
			lx->p += at(lx, 1) ? 2 : 1;
		} else if (c == '\'') {
			const char *q = memchr(lx->p + 1, '\'', (size_t)(lx->end - lx->p - 1));
			lx->p = q ? q + 1 : lx->end;
		} else if (c == '$' && at(lx, 1) == '{') {
			lx->p += 2;
			depth++;
		} else if (c == '$' && at(lx, 1) == '(') {
			scan_dollar(lx);
		} else if (c == '`') {
			scan_backtick(lx);
		} else {
			if (c == '{')
				depth++;
			else if (c == '}')
				depth--;
			lx->p++;
		}
	}
}

/* lx->p at '$' followed by '(' or '{'. */
static void scan_dollar(struct lex *lx)
{
	if (lx->rdepth >= 2 * EG_SUBJ_MAX_DEPTH) {
		eg_subj_fail(lx->s);
		lx->p = lx->end;
		return;
	}
	lx->rdepth++;
	scan_dollar1(lx);
	lx->rdepth--;
}

static void scan_dollar1(struct lex *lx)
{
	if (at(lx, 1) == '{') {
		scan_brace(lx);
		return;
	}
	if (at(lx, 2) == '(') {
		const char *st = lx->p;
		lx->p += 3;
		if (scan_arith(lx))
			return;
		lx->p = st;
	}
	const char *content = lx->p + 2;
	lx->p = content;
	scan_paren(lx, content);
}

/* ------------------------------------------------------------ words */

struct winfo {
	bool plain;  /* no quoting, escapes or expansions: may be a keyword */
	bool assign; /* NAME=value (or NAME+=, NAME[i]=) */
	bool any;    /* something was read */
	bool subst;  /* a positional parameter was substituted */
	bool drop;   /* nothing is left of the word (unquoted empty expansion) */
	uint32_t start; /* s->text offset of the (last) field */
};

static void handle_word(struct lex *lx, struct cmdstate *cs, uint32_t wstart, const struct winfo *wi);

/* ------------------------------------------------------------ positional parameters */

/*
 * sh -c 'terraform "$1"' _ destroy runs `terraform destroy`: the rules must
 * see the operands, so $0, $1..$9, ${N}, $@, $* and $# are replaced by them
 * when the context knows them (ctx->pos_set). Unknown ones (past the known
 * operands of an xargs or find -exec {} + command, or $0 of a shell we do
 * not know) stay as written; other variables ($HOME) are never expanded.
 * Unquoted results are split on blanks (IFS approximated as space, tab,
 * newline); an unquoted expansion that yields nothing leaves no word.
 */

enum { PP_AT = -1, PP_STAR = -2, PP_COUNT = -3 };

struct pref {
	long which;     /* N for $N / ${N}, or PP_* */
	size_t len;     /* bytes from the '$' */
	char op;        /* ${N-w} ${N=w} ${N?w} ${N+w} (with colon: ${N:-w}...), 0 */
	bool colon;
	const char *wb, *we; /* the word w */
};

/* The '}' closing a ${ whose word starts at lx->p + k, or 0. */
static size_t brace_end(const struct lex *lx, size_t k)
{
	int depth = 1;
	char q = 0;
	for (; lx->p + k < lx->end; k++) {
		char c = lx->p[k];
		if (q) {
			if (c == q)
				q = 0;
			else if (c == '\\' && q == '"')
				k++;
		} else if (c == '\\') {
			k++;
		} else if (c == '\'' || c == '"') {
			q = c;
		} else if (c == '{') {
			depth++;
		} else if (c == '}' && --depth == 0) {
			return k;
		}
	}
	return 0;
}

/* A positional reference at lx->p ('$') that we substitute? */
static bool pos_ref(const struct lex *lx, struct pref *r)
{
	if (!lx->emit || lx->nosubst || !lx->ctx->pos_set)
		return false;
	memset(r, 0, sizeof *r);
	char c = at(lx, 1);
	if (c >= '0' && c <= '9') {
		r->which = c - '0';
		r->len = 2;
		return true;
	}
	if (c == '@' || c == '*' || c == '#') {
		r->which = c == '@' ? PP_AT : c == '*' ? PP_STAR : PP_COUNT;
		r->len = 2;
		return true;
	}
	if (c != '{')
		return false;
	char d = at(lx, 2);
	if ((d == '@' || d == '*' || d == '#') && at(lx, 3) == '}') {
		r->which = d == '@' ? PP_AT : d == '*' ? PP_STAR : PP_COUNT;
		r->len = 4;
		return true;
	}
	size_t k = 2;
	long v = 0;
	while (k < 11 && at(lx, k) >= '0' && at(lx, k) <= '9')
		v = v * 10 + (at(lx, k++) - '0');
	if (k == 2)
		return false; /* ${#1}, ${HOME}: as written */
	r->which = v;
	if (at(lx, k) == '}') {
		r->len = k + 1;
		return true;
	}
	/* ${1:-default} and friends: the word or the value */
	if (at(lx, k) == ':') {
		r->colon = true;
		k++;
	}
	char op = at(lx, k);
	if (op != '-' && op != '=' && op != '?' && op != '+')
		return false; /* ${1#x}, ${1/a/b}, ...: as written */
	size_t e = brace_end(lx, k + 1);
	if (e == 0)
		return false;
	r->op = op;
	r->wb = lx->p + k + 1;
	r->we = lx->p + e;
	r->len = e + 1;
	return true;
}

/* Is the value of reference `which` known? */
static bool pos_known(const struct eg_split_ctx *c, long which)
{
	if (which == 0)
		return c->pos0 != NULL;
	if (which < 0)
		return !c->pos_open;
	return (unsigned long)which <= c->npos || !c->pos_open;
}

static const char *pos_val(const struct eg_split_ctx *c, long which)
{
	if (which == 0)
		return c->pos0;
	return (unsigned long)which <= c->npos ? c->pos[which - 1] : "";
}

static bool pos_isset(const struct eg_split_ctx *c, long which)
{
	return which == 0 || (unsigned long)which <= c->npos;
}

static void put_num(struct lex *lx, uint32_t v)
{
	char digits[EG_FMT_UINT_MAX];
	for (size_t i = 0, n = eg_fmt_uint(digits, v); i < n; i++)
		put(lx, digits[i]);
}

/* End the current field: hand it to handle_word if it is not empty (or is
 * quoted), and start the next. */
static void field_break(struct lex *lx, struct winfo *wi)
{
	struct eg_subject *s = lx->s;
	if (s->text_used > lx->fstart || lx->fhard) {
		struct winfo f = *wi;
		f.plain = false;
		handle_word(lx, lx->cs, lx->fstart, &f);
	} else {
		s->text_used = lx->fstart;
	}
	lx->fstart = s->text_used;
	lx->fhard = false;
	wi->assign = false;
}

/* Fields are split only in a command's words, not in assignments (A=$1)
 * nor redirection targets (here-strings are not split either). */
static bool can_split(const struct lex *lx, const struct winfo *wi)
{
	return lx->fsplit && lx->cs && !wi->assign;
}

static void put_split(struct lex *lx, struct winfo *wi, const char *v)
{
	bool split = can_split(lx, wi);
	for (; *v && !ovf(lx); v++) {
		if (split && (*v == ' ' || *v == '\t' || *v == '\n'))
			field_break(lx, wi);
		else
			put(lx, *v);
	}
}

/* The word of ${N:-word}: quotes and backslashes removed, blanks outside
 * quotes split when unquoted. Expansions inside it stay as written. */
static void put_opword(struct lex *lx, struct winfo *wi, const char *b, const char *e, bool quoted)
{
	bool split = !quoted && can_split(lx, wi);
	char q = 0;
	for (; b < e && !ovf(lx); b++) {
		char c = *b;
		if (q) {
			if (c == q)
				q = 0;
			else if (c == '\\' && q == '"' && b + 1 < e && strchr("$`\"\\", b[1]))
				put(lx, *++b);
			else
				put(lx, c);
		} else if (c == '\'' || c == '"') {
			q = c;
			lx->fhard = true;
		} else if (c == '\\' && b + 1 < e) {
			put(lx, *++b);
		} else if (split && (c == ' ' || c == '\t' || c == '\n')) {
			field_break(lx, wi);
		} else {
			put(lx, c);
		}
	}
}

/* lx->p at '$' of a known reference. */
static void subst(struct lex *lx, struct winfo *wi, const struct pref *r, bool quoted)
{
	const struct eg_split_ctx *c = lx->ctx;
	long which = r->which;
	lx->p += r->len;
	wi->subst = true;
	wi->plain = false;
	if (r->op) {
		bool set = pos_isset(c, which) && !(r->colon && !*pos_val(c, which));
		bool word = (r->op == '+') ? set : (r->op == '-' || r->op == '=') && !set;
		if (word)
			put_opword(lx, wi, r->wb, r->we, quoted);
		else if (r->op != '+' && quoted)
			put_raw(lx, pos_val(c, which), pos_val(c, which) + strlen(pos_val(c, which)));
		else if (r->op != '+')
			put_split(lx, wi, pos_val(c, which));
		return;
	}
	if (which == PP_COUNT) {
		put_num(lx, c->npos);
	} else if (which >= 0) {
		if (quoted)
			put_raw(lx, pos_val(c, which), pos_val(c, which) + strlen(pos_val(c, which)));
		else
			put_split(lx, wi, pos_val(c, which));
	} else if (quoted && which == PP_AT && can_split(lx, wi)) {
		/* "$@": every operand a word of its own, even an empty one */
		for (uint32_t k = 0; k < c->npos && !ovf(lx); k++) {
			if (k) {
				lx->fhard = true;
				field_break(lx, wi);
			}
			put_raw(lx, c->pos[k], c->pos[k] + strlen(c->pos[k]));
			lx->fhard = true;
		}
	} else {
		/* "$*" (one word), unquoted $@ / $* (each operand split), or no
		 * splitting here: operands joined by a space */
		bool split = !quoted && can_split(lx, wi);
		for (uint32_t k = 0; k < c->npos && !ovf(lx); k++) {
			if (k) {
				if (split)
					field_break(lx, wi);
				else
					put(lx, ' ');
			}
			if (quoted)
				put_raw(lx, c->pos[k], c->pos[k] + strlen(c->pos[k]));
			else
				put_split(lx, wi, c->pos[k]);
		}
	}
}

/* '$' followed by a special parameter we keep as written: both characters
 * (so that $$1 is not read as $ and $1). */
static bool special_param(char c)
{
	return c == '$' || c == '?' || c == '!' || c == '-' || c == '#' || c == '@' || c == '*'
	    || (c >= '0' && c <= '9');
}

static void put_utf8(struct lex *lx, uint32_t cp)
{
	if (cp < 0x80) {
		put(lx, (char)cp);
	} else if (cp < 0x800) {
		put(lx, (char)(0xc0 | (cp >> 6)));
		put(lx, (char)(0x80 | (cp & 0x3f)));
	} else if (cp < 0x10000) {
		put(lx, (char)(0xe0 | (cp >> 12)));
		put(lx, (char)(0x80 | ((cp >> 6) & 0x3f)));
		put(lx, (char)(0x80 | (cp & 0x3f)));
	} else {
		if (cp > 0x10ffff)
			cp = 0xfffd;
		put(lx, (char)(0xf0 | (cp >> 18)));
		put(lx, (char)(0x80 | ((cp >> 12) & 0x3f)));
		put(lx, (char)(0x80 | ((cp >> 6) & 0x3f)));
		put(lx, (char)(0x80 | (cp & 0x3f)));
	}
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* $'...' with lx->p at the opening quote. */
static void lex_ansi(struct lex *lx)
{
	lx->fhard = true;
	lx->p++;
	while (lx->p < lx->end && *lx->p != '\'' && !ovf(lx)) {
		char c = *lx->p++;
		if (c != '\\' || lx->p >= lx->end) {
			put(lx, c);
			continue;
		}
		c = *lx->p++;
		switch (c) {
		case 'a': put(lx, '\a'); break;
		case 'b': put(lx, '\b'); break;
		case 'e':
		case 'E': put(lx, '\033'); break;
		case 'f': put(lx, '\f'); break;
		case 'n': put(lx, '\n'); break;
		case 'r': put(lx, '\r'); break;
		case 't': put(lx, '\t'); break;
		case 'v': put(lx, '\v'); break;
		case 'c':
			if (lx->p < lx->end)
				put(lx, (char)(*lx->p++ & 0x1f));
			break;
		case 'x':
		case 'u':
		case 'U': {
			int maxd = c == 'x' ? 2 : c == 'u' ? 4 : 8;
			uint32_t v = 0;
			int d = 0;
			while (d < maxd && lx->p < lx->end && hexval(*lx->p) >= 0) {
				v = v * 16 + (uint32_t)hexval(*lx->p++);
				d++;
			}
			if (d == 0) {
				put(lx, '\\');
				put(lx, c);
			} else if (c == 'x') {
				put(lx, (char)v);
			} else {
				put_utf8(lx, v);
			}
			break;
		}
		default:
			if (c >= '0' && c <= '7') {
				unsigned v = (unsigned)(c - '0');
				for (int d = 1; d < 3 && lx->p < lx->end && *lx->p >= '0' && *lx->p <= '7'; d++)
					v = v * 8 + (unsigned)(*lx->p++ - '0');
				put(lx, (char)v);
			} else if (c == '\\' || c == '\'' || c == '"' || c == '?') {
				put(lx, c);
			} else {
				put(lx, '\\');
				put(lx, c);
			}
		}
	}
	if (lx->p < lx->end)
		lx->p++;
}

/* "..." with lx->p at the opening quote. */
static void lex_dquote(struct lex *lx, struct winfo *wi)
{
	bool other = false, at_only = false; /* "$@" alone may leave no word */
	lx->p++;
	while (lx->p < lx->end && *lx->p != '"' && !ovf(lx)) {
		char c = *lx->p;
		struct pref r;
		if (c == '$' && pos_ref(lx, &r) && pos_known(lx->ctx, r.which)) {
			if (r.which == PP_AT && !r.op)
				at_only = true;
			else
				other = true;
			subst(lx, wi, &r, true);
			continue;
		}
		other = true;
		if (c == '$' && special_param(at(lx, 1))) {
			put(lx, c);
			put(lx, at(lx, 1));
			lx->p += 2;
		} else if (c == '\\' && lx->p + 1 < lx->end) {
			char n = lx->p[1];
			if (n == '\n') {
				lx->p += 2;
			} else if (n == '$' || n == '`' || n == '"' || n == '\\') {
				put(lx, n);
				lx->p += 2;
			} else {
				put(lx, '\\');
				lx->p++;
			}
		} else if (c == '$' && (at(lx, 1) == '(' || at(lx, 1) == '{')) {
			const char *st = lx->p;
			scan_dollar(lx);
			put_raw(lx, st, lx->p);
		} else if (c == '`') {
			const char *st = lx->p;
			scan_backtick(lx);
			put_raw(lx, st, lx->p);
		} else {
			put(lx, c);
			lx->p++;
		}
	}
	if (lx->p < lx->end)
		lx->p++;
	if (other || !at_only)
		lx->fhard = true;
}

/* Copy "( ... )" as written, quotes respected, lx->p at '('. */
static void copy_balanced(struct lex *lx)
{
	int depth = 0;
	do {
		char c = *lx->p;
		if (c == '\\' && lx->p + 1 < lx->end) {
			put(lx, *lx->p++);
		} else if (c == '\'' || c == '"') {
			put(lx, *lx->p++);
			while (lx->p < lx->end && *lx->p != c) {
				if (c == '"' && *lx->p == '\\' && lx->p + 1 < lx->end)
					put(lx, *lx->p++);
				put(lx, *lx->p++);
			}
			if (lx->p >= lx->end)
				return;
		} else if (c == '(') {
			depth++;
		} else if (c == ')') {
			depth--;
		}
		put(lx, *lx->p++);
	} while (lx->p < lx->end && depth > 0 && !ovf(lx));
}

/* One word from lx->p (which is not at a metacharacter, except "<(" ">("). */
static void lex_word(struct lex *lx, struct winfo *wi)
{
	wi->plain = true;
	wi->assign = false;
	wi->any = false;
	wi->subst = false;
	wi->drop = false;
	lx->fstart = lx->s->text_used;
	lx->fhard = false;
	int name = 1; /* 1: reading NAME, 2: in [subscript], 0: no longer a name */
	size_t nlen = 0;
	while (lx->p < lx->end && !ovf(lx)) {
		char c = *lx->p;
		if (c == '<' || c == '>') {
			if (at(lx, 1) != '(')
				break;
			const char *st = lx->p;
			lx->p += 2;
			scan_paren(lx, lx->p);
			put_raw(lx, st, lx->p);
			wi->plain = false;
			name = 0;
			wi->any = true;
			continue;
		}
		if (c == '(' && nlen > 0
		    && ((wi->assign && lx->p[-1] == '=') || strchr("@!*+?", lx->p[-1]))) {
			/* arr=(a b c) or extglob @(a|b): to the matching parenthesis */
			copy_balanced(lx);
			wi->plain = false;
			name = 0;
			continue;
		}
		if (is_meta(c))
			break;
		wi->any = true;
		/* assignment detection on the unquoted prefix */
		if (name == 1) {
			if (c == '=' && nlen > 0) {
				wi->assign = true;
				name = 0;
			} else if (c == '+' && at(lx, 1) == '=' && nlen > 0) {
				wi->assign = true;
				name = 0;
			} else if (c == '[' && nlen > 0) {
				name = 2;
			} else if (!(nlen == 0 ? is_name_start(c) : is_name_char(c))) {
				name = 0;
			}
		} else if (name == 2) {
			if (c == ']') {
				name = (at(lx, 1) == '=' || (at(lx, 1) == '+' && at(lx, 2) == '=')) ? 1 : 0;
				nlen++;
				put(lx, c);
				lx->p++;
				continue;
			}
		}
		nlen++;
		switch (c) {
		case '\\':
			wi->plain = false;
			if (name == 1)
				name = 0;
			if (lx->p + 1 < lx->end) {
				if (lx->p[1] != '\n')
					put(lx, lx->p[1]);
				lx->p += 2;
			} else {
				put(lx, '\\');
				lx->p++;
			}
			break;
		case '\'': {
			wi->plain = false;
			if (name == 1)
				name = 0;
			const char *q = memchr(lx->p + 1, '\'', (size_t)(lx->end - lx->p - 1));
			const char *e = q ? q : lx->end;
			lx->fhard = true;
			put_raw(lx, lx->p + 1, e);
			lx->p = q ? q + 1 : lx->end;
			break;
		}
		case '"':
			wi->plain = false;
			if (name == 1)
				name = 0;
			lex_dquote(lx, wi);
			break;
		case '$': {
			wi->plain = false;
			if (name == 1)
				name = 0;
			struct pref r;
			if (pos_ref(lx, &r) && pos_known(lx->ctx, r.which)) {
				subst(lx, wi, &r, false);
			} else if (special_param(at(lx, 1))) {
				put(lx, '$');
				put(lx, at(lx, 1));
				lx->p += 2;
			} else if (at(lx, 1) == '\'') {
				lx->p++;
				lex_ansi(lx);
			} else if (at(lx, 1) == '"') {
				lx->p++;
				lex_dquote(lx, wi);
			} else if (at(lx, 1) == '(' || at(lx, 1) == '{') {
				const char *st = lx->p;
				scan_dollar(lx);
				put_raw(lx, st, lx->p);
			} else {
				put(lx, '$');
				lx->p++;
			}
			break;
		}
		case '`': {
			wi->plain = false;
			if (name == 1)
				name = 0;
			const char *st = lx->p;
			scan_backtick(lx);
			put_raw(lx, st, lx->p);
			break;
		}
		default:
			put(lx, c);
			lx->p++;
		}
	}
	wi->start = lx->fstart;
	wi->drop = wi->subst && lx->s->text_used == lx->fstart && !lx->fhard;
}

/* ------------------------------------------------------------ here-documents */

static void read_heredocs(struct lex *lx)
{
	for (int i = 0; i < lx->n_hd && !ovf(lx); i++) {
		const struct heredoc *h = &lx->hd[i];
		const char *d = lx->hd_text + h->off;
		const char *body = lx->p, *body_end = lx->end;
		bool remote = false, direct = false;
		bool script = lx->emit && h->owner >= 0
		    && eg_subj_reads_script(lx->s, (uint32_t)h->owner, &remote, &direct);
		while (lx->p < lx->end && !ovf(lx)) {
			const char *line = lx->p;
			const char *eol = memchr(line, '\n', (size_t)(lx->end - line));
			if (!eol)
				eol = lx->end;
			if (h->strip)
				while (line < eol && *line == '\t')
					line++;
			if ((size_t)(eol - line) == h->len && memcmp(line, d, h->len) == 0) {
				body_end = lx->p;
				lx->p = eol < lx->end ? eol + 1 : lx->end;
				break;
			}
			if (!h->quoted && lx->emit && !script) {
				/* the body is expanded: $(...) and `...` run */
				while (lx->p < eol && !ovf(lx)) {
					char c = *lx->p;
					if (c == '\\') {
						lx->p += lx->p + 1 < lx->end ? 2 : 1;
					} else if (c == '$' && (at(lx, 1) == '(' || at(lx, 1) == '{')) {
						scan_dollar(lx);
						if (lx->p > eol) {
							eol = memchr(lx->p, '\n', (size_t)(lx->end - lx->p));
							if (!eol)
								eol = lx->end;
						}
					} else if (c == '`') {
						scan_backtick(lx);
						if (lx->p > eol) {
							eol = memchr(lx->p, '\n', (size_t)(lx->end - lx->p));
							if (!eol)
								eol = lx->end;
						}
					} else {
						lx->p++;
					}
				}
			}
			lx->p = eol < lx->end ? eol + 1 : lx->end;
		}
		if (script && !ovf(lx)) {
			/* `bash <<EOF`, `ssh host <<EOF`: the body is a script */
			add_span(lx, body, body_end, SP_SCRIPT);
			if (lx->n_sp > 0) {
				lx->sp[lx->n_sp - 1].owner = h->owner;
				lx->sp[lx->n_sp - 1].remote = remote;
				lx->sp[lx->n_sp - 1].direct = direct;
			}
		}
	}
	lx->n_hd = 0;
	lx->hd_cmd_from = 0;
	lx->hd_used = 0;
}

/* ------------------------------------------------------------ commands */

struct cmdstate {
	uint32_t start;     /* s->n_words at the start */
	uint32_t text_mark; /* s->text_used at the start */
	uint32_t n_own;     /* own assignments */
	uint32_t n_args;
	bool discard;          /* not a command: for/case header, [[ ]], function name */
	const char *until;     /* discard ends at this plain word */
	bool dbracket;         /* inside [[ ... ]] */
	bool time_kw;          /* after `time`: skip -p */
	bool func_name;        /* after `function`: the next word is a name */
	int paren;             /* open subshell parentheses */
};

static void begin_cmd(struct lex *lx, struct cmdstate *cs)
{
	struct eg_subject *s = lx->s;
	int paren = cs->paren;
	memset(cs, 0, sizeof *cs);
	cs->paren = paren;
	cs->start = s->n_words;
	cs->text_mark = s->text_used;
	if (lx->emit)
		for (uint32_t i = 0; i < lx->ctx->inh_n && !ovf(lx); i++)
			eg_subj_push_word(s, s->words[lx->ctx->inh_first + i]);
}

static void flush_spans(struct lex *lx)
{
	int n = lx->n_sp;
	lx->n_sp = 0;
	for (int i = 0; i < n && !ovf(lx); i++) {
		const struct span *sp = &lx->sp[i];
		const char *b = sp->b, *e = sp->e;
		if (lx->nest + 1 > EG_SUBJ_MAX_DEPTH) {
			eg_subj_fail(lx->s);
			return;
		}
		if (sp->kind == SP_BACKTICK) {
			/* inside `...`, \` \\ \$ stand for the character */
			char *t = eg_subj_text_alloc(lx->s, (size_t)(e - b) + 1);
			if (!t)
				return;
			size_t o = 0;
			for (const char *q = b; q < e; q++) {
				if (*q == '\\' && q + 1 < e && (q[1] == '`' || q[1] == '\\' || q[1] == '$'))
					q++;
				t[o++] = *q;
			}
			t[o] = '\0';
			lx->s->text_used -= (uint32_t)((size_t)(e - b) - o);
			b = t;
			e = t + o;
		}
		struct lex sub;
		sub_init(&sub, lx, b, e, true);
		struct eg_split_ctx sctx;
		if (sp->kind == SP_SCRIPT) {
			const struct eg_cmd *o = &lx->s->cmds[sp->owner];
			bool remote = sp->remote;
			sctx = (struct eg_split_ctx){
				.parent = sp->owner,
				.via = remote ? EG_VIA_REMOTE : EG_VIA_SHELL,
				.depth = (uint8_t)(o->depth + 1),
				.inh_first = remote ? 0 : o->first_assign,
				.inh_n = remote ? 0 : o->n_assign,
				.cleared = !remote && o->env_cleared,
				.remote = remote || o->remote,
			};
			if (sctx.depth > EG_SUBJ_MAX_DEPTH) {
				eg_subj_fail(lx->s);
				return;
			}
			/* `bash -s ARGS <<EOF`: the shell's operands; through
			 * wrappers (`sudo bash -s x <<EOF`) they stay as written */
			if (sp->direct)
				eg_subj_positional(lx->s, sp->owner, &sctx);
			sub.ctx = &sctx;
		}
		split_list(&sub, 0);
	}
}

static void end_cmd(struct lex *lx, struct cmdstate *cs)
{
	struct eg_subject *s = lx->s;
	if (lx->emit && !ovf(lx)) {
		if (!cs->discard && cs->n_args > 0) {
			uint32_t inh = lx->ctx->inh_n;
			struct eg_cmd c = {
				.first_word = cs->start + inh + cs->n_own,
				.n_words = cs->n_args,
				.first_assign = cs->start,
				.n_assign = inh + cs->n_own,
				.parent = lx->ctx->parent,
				.depth = lx->ctx->depth,
				.via = lx->ctx->via,
				.env_cleared = lx->ctx->cleared,
				.remote = lx->ctx->remote,
			};
			if (c.n_assign == 0)
				c.first_assign = 0;
			int ci = eg_subj_add_cmd(s, &c);
			for (int i = lx->hd_cmd_from; i < lx->n_hd; i++)
				lx->hd[i].owner = ci;
			/* `bash <<< WORD`, `ssh host <<< WORD`: the word is the script */
			for (int i = 0; i < lx->n_hs && ci >= 0 && !ovf(lx); i++) {
				bool remote = false, direct = false;
				if (!eg_subj_reads_script(s, (uint32_t)ci, &remote, &direct))
					continue;
				const char *b = s->text + lx->hs_off[i];
				add_span(lx, b, b + lx->hs_len[i], SP_SCRIPT);
				if (lx->n_sp > 0) {
					lx->sp[lx->n_sp - 1].owner = ci;
					lx->sp[lx->n_sp - 1].remote = remote;
					lx->sp[lx->n_sp - 1].direct = direct;
				}
			}
		} else {
			s->n_words = cs->start;
			s->text_used = cs->text_mark;
		}
		flush_spans(lx);
	}
	lx->hd_cmd_from = lx->n_hd;
	lx->n_hs = 0;
	begin_cmd(lx, cs);
}

static bool word_is(const char *w, const char *k)
{
	return strcmp(w, k) == 0;
}

/* A word was read into s->text from `wstart`. Decide what it is. */
static void handle_word(struct lex *lx, struct cmdstate *cs, uint32_t wstart, const struct winfo *wi)
{
	struct eg_subject *s = lx->s;
	end_word(lx);
	if (ovf(lx))
		return;
	const char *w = s->text + wstart;
	bool cmdpos = cs->n_args == 0 && cs->n_own == 0 && !cs->discard;
	bool keep = false;

	if (cs->dbracket) {
		if (wi->plain && word_is(w, "]]"))
			cs->dbracket = false;
	} else if (cs->until) {
		if (wi->plain && word_is(w, cs->until)) {
			bool is_case = word_is(cs->until, "in");
			s->text_used = wstart;
			end_cmd(lx, cs);
			if (is_case) {
				lx->case_depth++;
				lx->case_pat = true;
			}
			return;
		}
	} else if (cs->discard) {
		/* nothing */
	} else if (cs->func_name) {
		cs->func_name = false;
	} else if (cmdpos && wi->plain && cs->time_kw && (word_is(w, "-p") || word_is(w, "--"))) {
		/* time -p */
	} else if (cmdpos && wi->plain && cs->time_kw && w[0] == '-' && w[1] != '\0') {
		/* time -v, time -o FILE ...: not the keyword's syntax; sh (dash)
		 * runs the time program, whose command the wrapper unwraps */
		cs->time_kw = false;
		if (lx->emit) {
			if (eg_subj_push_word(s, "time") < 0)
				return;
			cs->n_args++;
		}
		keep = true;
	} else if (cmdpos && wi->plain) {
		static const char *const skip_kw[] = { "if", "then", "else", "elif", "while", "until",
			"do", "!", "{", "}", "fi", "done", "coproc", "begin", "and", "or", "not", "always",
			"end", NULL };
		cs->time_kw = false;
		bool kw = false;
		for (const char *const *k = skip_kw; *k; k++)
			if (word_is(w, *k))
				kw = true;
		if (word_is(w, "time")) {
			kw = true;
			cs->time_kw = true;
		} else if (word_is(w, "esac")) {
			kw = true;
			if (lx->case_depth > 0)
				lx->case_depth--;
		} else if (word_is(w, "for") || word_is(w, "select") || word_is(w, "foreach")) {
			kw = true;
			cs->discard = true;
			cs->until = "do";
		} else if (word_is(w, "case")) {
			kw = true;
			cs->discard = true;
			cs->until = "in";
		} else if (word_is(w, "function")) {
			kw = true;
			cs->func_name = true;
		} else if (word_is(w, "[[")) {
			kw = true;
			cs->discard = true;
			cs->dbracket = true;
		}
		keep = !kw;
	} else {
		cs->time_kw = false;
		keep = true;
	}
	if (!keep || !lx->emit) {
		s->text_used = wstart;
		return;
	}
	if (eg_subj_push_word(s, w) < 0)
		return;
	if (cs->n_args == 0 && wi->assign)
		cs->n_own++;
	else
		cs->n_args++;
}

/* Redirection with lx->p at '<' or '>'. */
static void redirection(struct lex *lx)
{
	struct eg_subject *s = lx->s;
	bool heredoc = false, strip = false, herestr = false;
	if (*lx->p == '<') {
		if (at(lx, 1) == '<') {
			if (at(lx, 2) == '<') {
				herestr = true;
				lx->p += 3;
			} else {
				heredoc = true;
				lx->p += 2;
				if (at(lx, 0) == '-') {
					strip = true;
					lx->p++;
				}
			}
		} else if (at(lx, 1) == '&' || at(lx, 1) == '>') {
			lx->p += 2;
		} else {
			lx->p++;
		}
	} else {
		lx->p++;
		if (at(lx, 0) == '>' || at(lx, 0) == '|' || at(lx, 0) == '&')
			lx->p++;
	}
	while (lx->p < lx->end && is_blank(*lx->p))
		lx->p++;
	if (lx->p >= lx->end || (is_meta(*lx->p) && !((*lx->p == '<' || *lx->p == '>') && at(lx, 1) == '(')))
		return;
	uint32_t mark = s->text_used;
	struct winfo wi;
	lx->nosubst = heredoc; /* the delimiter is not expanded */
	lex_word(lx, &wi);
	lx->nosubst = false;
	if (herestr && lx->emit && !ovf(lx)) {
		/* keep the text: it is the script if the command reads one */
		if (lx->n_hs >= MAX_HD) {
			eg_subj_fail(s);
			return;
		}
		lx->hs_off[lx->n_hs] = mark;
		lx->hs_len[lx->n_hs++] = s->text_used - mark;
		end_word(lx);
		return;
	}
	if (heredoc && !ovf(lx)) {
		size_t len = s->text_used - mark;
		if (lx->n_hd >= MAX_HD || lx->hd_used + len + 1 > HD_TEXT) {
			eg_subj_fail(s);
		} else {
			struct heredoc *h = &lx->hd[lx->n_hd++];
			h->off = (uint16_t)lx->hd_used;
			h->len = (uint16_t)len;
			h->strip = strip;
			h->quoted = !wi.plain;
			h->owner = -1;
			memcpy(lx->hd_text + lx->hd_used, s->text + mark, len);
			lx->hd_used += len;
			lx->hd_text[lx->hd_used++] = '\0';
		}
	}
	s->text_used = mark;
}

/* Case pattern: "pat)" or "(pat|pat)". */
static void skip_pattern(struct lex *lx)
{
	int depth = 0;
	if (at(lx, 0) == '(')
		lx->p++;
	while (lx->p < lx->end) {
		char c = *lx->p;
		if (c == '\\') {
			lx->p += at(lx, 1) ? 2 : 1;
		} else if (c == '\'') {
			const char *q = memchr(lx->p + 1, '\'', (size_t)(lx->end - lx->p - 1));
			lx->p = q ? q + 1 : lx->end;
		} else if (c == '"') {
			lx->p++;
			while (lx->p < lx->end && *lx->p != '"')
				lx->p += (*lx->p == '\\' && lx->p + 1 < lx->end) ? 2 : 1;
			if (lx->p < lx->end)
				lx->p++;
		} else if (c == '(') {
			depth++;
			lx->p++;
		} else if (c == ')') {
			lx->p++;
			if (depth-- == 0)
				return;
		} else {
			lx->p++;
		}
	}
}

static bool word_ahead(const struct lex *lx, const char *w)
{
	size_t n = strlen(w);
	if ((size_t)(lx->end - lx->p) < n || memcmp(lx->p, w, n) != 0)
		return false;
	return lx->p + n == lx->end || is_meta(lx->p[n]);
}

/* Drop the empty command begun by the last end_cmd. */
static int finish(struct lex *lx, struct cmdstate *cs)
{
	if (lx->emit && !ovf(lx)) {
		lx->s->n_words = cs->start;
		lx->s->text_used = cs->text_mark;
	}
	return ovf(lx) ? -1 : 0;
}

/*
 * Read a list of commands up to the end (term 0) or the ')' that closes the
 * enclosing $( / <( / >( (term ')'; skip mode).
 */
static int split_list(struct lex *lx, int term)
{
	struct eg_subject *s = lx->s;
	struct cmdstate cs;
	memset(&cs, 0, sizeof cs);
	begin_cmd(lx, &cs);
	for (;;) {
		if (ovf(lx))
			return -1;
		while (lx->p < lx->end) {
			if (is_blank(*lx->p))
				lx->p++;
			else if (*lx->p == '\\' && at(lx, 1) == '\n')
				lx->p += 2;
			else
				break;
		}
		if (lx->p >= lx->end) {
			end_cmd(lx, &cs);
			return finish(lx, &cs);
		}
		char c = *lx->p;
		if (c == '#') {
			const char *q = memchr(lx->p, '\n', (size_t)(lx->end - lx->p));
			lx->p = q ? q : lx->end;
			continue;
		}
		if (lx->case_pat && cs.n_args == 0 && cs.n_own == 0 && !cs.discard) {
			if (c == '\n' || c == ';') {
				lx->p++;
				continue;
			}
			if (word_ahead(lx, "esac")) {
				lx->p += 4;
				lx->case_pat = false;
				if (lx->case_depth > 0)
					lx->case_depth--;
				continue;
			}
			if (c != ')' || term != ')') {
				skip_pattern(lx);
				lx->case_pat = false;
				continue;
			}
		}
		switch (c) {
		case '\n':
			lx->p++;
			end_cmd(lx, &cs);
			if (lx->n_hd) {
				read_heredocs(lx);
				if (lx->emit && lx->n_sp && !ovf(lx)) {
					/* run the bodies' substitutions before the next command */
					s->n_words = cs.start;
					s->text_used = cs.text_mark;
					flush_spans(lx);
					begin_cmd(lx, &cs);
				}
			}
			continue;
		case ';':
			lx->p++;
			if (at(lx, 0) == ';' || at(lx, 0) == '&') {
				if (*lx->p == ';' && at(lx, 1) == '&')
					lx->p++;
				lx->p++;
				end_cmd(lx, &cs);
				if (lx->case_depth > 0)
					lx->case_pat = true;
				continue;
			}
			end_cmd(lx, &cs);
			continue;
		case '&':
			if (at(lx, 1) == '>') {
				lx->p++;
				redirection(lx);
				continue;
			}
			lx->p += at(lx, 1) == '&' ? 2 : 1;
			if (cs.dbracket)
				continue;
			end_cmd(lx, &cs);
			continue;
		case '|':
			lx->p += (at(lx, 1) == '|' || at(lx, 1) == '&') ? 2 : 1;
			if (cs.dbracket)
				continue;
			end_cmd(lx, &cs);
			continue;
		case '(':
			if (cs.dbracket) {
				lx->p++;
				continue;
			}
			if (at(lx, 1) == '(' && cs.n_args == 0 && cs.n_own == 0) {
				/* ((arithmetic)) or for ((;;)) */
				const char *st = lx->p;
				lx->p += 2;
				if (scan_arith(lx))
					continue;
				lx->p = st;
			}
			if (cs.n_args == 1 && cs.n_own == 0 && !cs.discard) {
				const char *q = lx->p + 1;
				while (q < lx->end && is_blank(*q))
					q++;
				if (q < lx->end && *q == ')') {
					/* name() — a function definition, not a command */
					lx->p = q + 1;
					cs.discard = true;
					end_cmd(lx, &cs);
					continue;
				}
			}
			lx->p++;
			if (cs.n_args == 0 && cs.n_own == 0) {
				cs.paren++;
				continue;
			}
			end_cmd(lx, &cs);
			continue;
		case ')':
			lx->p++;
			if (cs.dbracket)
				continue;
			if (cs.paren > 0) {
				cs.paren--;
				end_cmd(lx, &cs);
				continue;
			}
			if (term == ')') {
				lx->closed = true;
				end_cmd(lx, &cs);
				return finish(lx, &cs);
			}
			end_cmd(lx, &cs);
			continue;
		case '<':
		case '>':
			if (at(lx, 1) == '(')
				break; /* process substitution: a word */
			redirection(lx);
			continue;
		default:
			break;
		}
		/* IO number (2>) or {fd}> before a redirection */
		{
			const char *q = lx->p;
			if (*q >= '0' && *q <= '9') {
				while (q < lx->end && *q >= '0' && *q <= '9')
					q++;
			} else if (*q == '{') {
				q++;
				while (q < lx->end && is_name_char(*q))
					q++;
				q = (q < lx->end && *q == '}' && q > lx->p + 1) ? q + 1 : lx->p;
			}
			if (q > lx->p && q < lx->end && (*q == '<' || *q == '>') && !(q + 1 < lx->end && q[1] == '(')) {
				lx->p = q;
				redirection(lx);
				continue;
			}
		}
		uint32_t wstart = s->text_used;
		struct winfo wi;
		const char *before = lx->p;
		lx->cs = &cs;
		lx->fsplit = true;
		lex_word(lx, &wi);
		lx->fsplit = false;
		if (lx->p == before) {
			lx->p++; /* cannot happen; never loop forever */
			s->text_used = wstart;
			continue;
		}
		if (wi.drop) { /* `terraform $1` with no $1 */
			s->text_used = wi.start;
			continue;
		}
		handle_word(lx, &cs, wi.start, &wi);
	}
}

int eg_subj_split(struct eg_subject *s, const char *str, size_t len, const struct eg_split_ctx *ctx)
{
	if (s->overflow)
		return -1;
	if (ctx->depth > EG_SUBJ_MAX_DEPTH)
		return eg_subj_fail(s);
	struct lex lx;
	memset(&lx, 0, offsetof(struct lex, hd_text));
	lx.hd_used = 0;
	lx.n_sp = 0;
	lx.case_depth = 0;
	lx.case_pat = false;
	lx.s = s;
	lx.ctx = ctx;
	lx.p = str;
	lx.end = str + len;
	lx.emit = true;
	lx.nest = 0;
	return split_list(&lx, 0);
}

/* ------------------------------------------------------------ env -S */

int eg_subj_split_words(struct eg_subject *s, const char *str, size_t len)
{
	const char *p = str, *end = str + len;
	int n = 0;
	bool stop = false;
	while (!stop) {
		while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\v' || *p == '\f' || *p == '\r'))
			p++;
		if (p >= end || *p == '#')
			break;
		uint32_t ws = s->text_used;
		bool sep = false;
		while (p < end && !sep && !stop) {
			char c = *p;
			char out = 0;
			bool emit = true;
			if (c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r')
				break;
			if (c == '\'') {
				p++;
				while (p < end && *p != '\'') {
					if (*p == '\\' && p + 1 < end && (p[1] == '\\' || p[1] == '\''))
						p++;
					if (s->text_used >= EG_SUBJ_TEXT - 1)
						return eg_subj_fail(s);
					s->text[s->text_used++] = *p++;
				}
				if (p < end)
					p++;
				continue;
			}
			if (c == '"') {
				p++;
				while (p < end && *p != '"') {
					char d = *p++;
					if (d == '\\' && p < end) {
						char e = *p++;
						switch (e) {
						case '_': d = ' '; break;
						case 'n': d = '\n'; break;
						case 't': d = '\t'; break;
						case 'r': d = '\r'; break;
						case 'f': d = '\f'; break;
						case 'v': d = '\v'; break;
						case 'c': stop = true; d = 0; break;
						default: d = e;
						}
						if (stop)
							break;
					}
					if (s->text_used >= EG_SUBJ_TEXT - 1)
						return eg_subj_fail(s);
					s->text[s->text_used++] = d;
				}
				if (p < end)
					p++;
				continue;
			}
			if (c == '\\' && p + 1 < end) {
				char e = p[1];
				p += 2;
				switch (e) {
				case '_': sep = true; emit = false; break;
				case 'c': stop = true; emit = false; break;
				case 'n': out = '\n'; break;
				case 't': out = '\t'; break;
				case 'r': out = '\r'; break;
				case 'f': out = '\f'; break;
				case 'v': out = '\v'; break;
				default: out = e;
				}
			} else {
				out = c;
				p++;
			}
			if (emit) {
				if (s->text_used >= EG_SUBJ_TEXT - 1)
					return eg_subj_fail(s);
				s->text[s->text_used++] = out;
			}
		}
		if (s->text_used >= EG_SUBJ_TEXT)
			return eg_subj_fail(s);
		s->text[s->text_used++] = '\0';
		if (s->text_used - 1 == ws && !sep && (p >= end || stop)) {
			/* nothing was read at all (e.g. a trailing \c) */
			s->text_used = ws;
			break;
		}
		if (eg_subj_push_word(s, s->text + ws) < 0)
			return -1;
		n++;
	}
	return n;
}
