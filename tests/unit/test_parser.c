/* The rule language: syntax, every error with its line and column, loading. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "eg_config.h"
#include "execguard.h"
#include "install_dirs.h"

/* ------------------------------------------------------------------ helpers */

static char dump_buf[16384];

static const char *dump(const struct eg_diags *d)
{
	size_t o = 0;
	dump_buf[0] = '\0';
	for (size_t i = 0; i < d->n && o < sizeof dump_buf; i++)
		o += (size_t)snprintf(dump_buf + o, sizeof dump_buf - o, "  %s:%u:%u: %s\n",
		    d->v[i].file ? d->v[i].file : "(null)", d->v[i].line, d->v[i].col, d->v[i].msg);
	return d->n ? dump_buf : "  (no diagnostics)\n";
}

static bool has_diag(const struct eg_diags *d, const char *file, unsigned line, unsigned col,
    const char *sub)
{
	for (size_t i = 0; i < d->n; i++) {
		const struct eg_diag *g = &d->v[i];
		if (g->line == line && g->col == col && strstr(g->msg, sub) &&
		    (!file || (g->file && strcmp(g->file, file) == 0)))
			return true;
	}
	return false;
}

#define expect_diag(d, line, col, sub)                                                   \
	cr_assert(has_diag((d), NULL, (line), (col), (sub)),                             \
	    "expected a diagnostic at %u:%u containing \"%s\", got:\n%s", (unsigned)(line), \
	    (unsigned)(col), (sub), dump(d))

static int parse_as(struct eg_ruleset *rs, struct eg_diags *d, const char *name, const char *text,
    bool prot)
{
	return eg_ruleset_parse_text(rs, name, text, strlen(text), prot, d);
}

static int parse(struct eg_ruleset *rs, struct eg_diags *d, const char *text)
{
	return parse_as(rs, d, "t.rules", text, false);
}

/* A minimal valid stanza for ID. */
#define STANZA(id)                                                                       \
	"rule " id "\n"                                                                  \
	"  program  prog\n"                                                              \
	"  match    x\n"                                                                 \
	"  action   confirm\n"                                                           \
	"  reason   because " id "\n"                                                    \
	"  example  prog x\n"

static const struct eg_rule *find(const struct eg_ruleset *rs, const char *id)
{
	for (size_t i = 0; i < rs->n_rules; i++)
		if (strcmp(rs->rules[i].id, id) == 0)
			return &rs->rules[i];
	return NULL;
}

/* ------------------------------------------------------------------ valid input */

static const char full_stanza[] =
    "# a comment\n"
    "\n"
    "rule terraform.destroy\n"
    "  program   terraform tofu\tterragrunt\n"
    "  match     (^|\\s)destroy(\\s|$)\n"
    "\tmatch\t-auto-approve   \n"
    "  unless    (^|\\s)(-help|--help|-h)(\\s|$)\n"
    "  action    confirm\n"
    "  reason    Destroys every resource in the state,\n"
    "    # comments inside a stanza are fine\n"
    "  reason    databases and snapshots included.\n"
    "  severity  critical\n"
    "  env       TF_WORKSPACE (?i)prod # not a comment\n"
    "  cwd       ^/srv/\n"
    "  example   terraform -chdir=infra destroy -auto-approve\n"
    "  example   tofu destroy -auto-approve\n"
    "  safe      terraform plan -destroy\n";

Test(parse, every_field)
{
	struct eg_ruleset rs = { 0 };
	struct eg_diags d = { 0 };
	cr_assert_eq(parse_as(&rs, &d, "packs/tf.rules", full_stanza, true), 0, "%s", dump(&d));
	cr_assert_eq(d.n, 0);
	cr_assert_eq(rs.n_rules, 1);
	cr_assert_eq(rs.n_files, 1);
	cr_assert_str_eq(rs.files[0], "packs/tf.rules");
	cr_assert(rs.files_protected[0]);

	const struct eg_rule *r = &rs.rules[0];
	cr_assert_str_eq(r->id, "terraform.destroy");
	cr_assert_str_eq(r->file, "packs/tf.rules");
	cr_assert_eq(r->line, 3);
	cr_assert_eq(r->file_order, 0);
	cr_assert_not(r->is_override);
	cr_assert(r->protected_src);

	cr_assert_eq(r->n_programs, 3);
	cr_assert_str_eq(r->programs[0], "terraform");
	cr_assert_str_eq(r->programs[1], "tofu");
	cr_assert_str_eq(r->programs[2], "terragrunt");

	cr_assert_eq(r->n_match, 2);
	cr_assert_str_eq(r->match[0].re, "(^|\\s)destroy(\\s|$)");
	cr_assert_eq(r->match[0].line, 5);
	cr_assert_eq(r->match[0].col, 13);
	cr_assert_str_eq(r->match[1].re, "-auto-approve", "trailing blanks are trimmed");
	cr_assert_eq(r->match[1].line, 6);
	cr_assert_eq(r->match[1].col, 8);

	cr_assert_eq(r->n_unless, 1);
	cr_assert_str_eq(r->unless[0].re, "(^|\\s)(-help|--help|-h)(\\s|$)");
	cr_assert_eq(r->unless[0].line, 7);
	cr_assert_eq(r->unless[0].col, 13);

	cr_assert_eq(r->action, EG_ACT_CONFIRM);
	cr_assert_eq(r->severity, EG_SEV_CRITICAL);
	cr_assert_str_eq(r->reason,
	    "Destroys every resource in the state, databases and snapshots included.");

	cr_assert_eq(r->n_env, 1);
	cr_assert_str_eq(r->env[0].name, "TF_WORKSPACE");
	cr_assert_str_eq(r->env[0].re.re, "(?i)prod # not a comment");
	cr_assert_eq(r->env[0].re.line, 13);
	cr_assert_eq(r->env[0].re.col, 26);

	cr_assert_eq(r->n_cwd, 1);
	cr_assert_str_eq(r->cwd[0].re, "^/srv/");
	cr_assert_eq(r->cwd[0].line, 14);
	cr_assert_eq(r->cwd[0].col, 13);

	cr_assert_eq(r->n_examples, 2);
	cr_assert_str_eq(r->examples[0].text, "terraform -chdir=infra destroy -auto-approve");
	cr_assert_eq(r->examples[0].line, 15);
	cr_assert_eq(r->examples[0].col, 13);
	cr_assert_str_eq(r->examples[1].text, "tofu destroy -auto-approve");
	cr_assert_eq(r->examples[1].line, 16);

	cr_assert_eq(r->n_safes, 1);
	cr_assert_str_eq(r->safes[0].text, "terraform plan -destroy");
	cr_assert_eq(r->safes[0].line, 17);
	cr_assert_eq(r->safes[0].col, 13);

	cr_assert_eq(eg_ruleset_validate_regex(&rs, &d), 0, "%s", dump(&d));
	eg_ruleset_free(&rs);
	eg_diags_free(&d);
	cr_assert_eq(rs.n_rules, 0);
}

Test(parse, defaults_and_actions)
{
	struct eg_ruleset rs = { 0 };
	struct eg_diags d = { 0 };
	const char *text = "rule a\n  program p\n  match x\n  action deny\n  reason r\n  example p x\n"
			   "rule b\n  program p\n  match x\n  action allow\n  reason r\n  example p x\n"
			   "  severity normal\n"
			   "rule c\n  program p\n  match x\n  action log\n  reason r\n  example p x\n";
	cr_assert_eq(parse(&rs, &d, text), 0, "%s", dump(&d));
	cr_assert_eq(rs.n_rules, 3);
	cr_assert_eq(rs.rules[0].action, EG_ACT_DENY);
	cr_assert_eq(rs.rules[0].severity, EG_SEV_NORMAL);
	cr_assert_eq(rs.rules[1].action, EG_ACT_ALLOW);
	cr_assert_eq(rs.rules[2].action, EG_ACT_LOG);
	cr_assert_eq(rs.rules[0].n_safes, 0);
	cr_assert_eq(rs.rules[0].n_unless, 0);
	cr_assert_eq(rs.rules[0].n_env, 0);
	cr_assert_eq(rs.rules[0].n_cwd, 0);
	eg_ruleset_free(&rs);
	eg_diags_free(&d);
}

Test(parse, crlf_tolerated)
{
	struct eg_ruleset rs = { 0 };
	struct eg_diags d = { 0 };
	const char *text = "# c\r\nrule a\r\n  program p q\r\n  match x\\s$\r\n  action confirm\r\n"
			   "  reason r\r\n  example p x  \r\n\r\n";
	cr_assert_eq(parse(&rs, &d, text), 0, "%s", dump(&d));
	cr_assert_eq(rs.n_rules, 1);
	cr_assert_str_eq(rs.rules[0].programs[1], "q");
	cr_assert_str_eq(rs.rules[0].match[0].re, "x\\s$");
	cr_assert_str_eq(rs.rules[0].examples[0].text, "p x");
	cr_assert_str_eq(rs.rules[0].reason, "r");
	eg_ruleset_free(&rs);
	eg_diags_free(&d);
}

Test(parse, no_final_newline_and_bom)
{
	struct eg_ruleset rs = { 0 };
	struct eg_diags d = { 0 };
	const char *text = "\xEF\xBB\xBFrule a\n  program p\n  match x\n  action confirm\n"
			   "  reason r\n  example p x";
	cr_assert_eq(parse(&rs, &d, text), 0, "%s", dump(&d));
	cr_assert_eq(rs.n_rules, 1);
	cr_assert_str_eq(rs.rules[0].examples[0].text, "p x");
	eg_ruleset_free(&rs);
	eg_diags_free(&d);
}

Test(parse, empty_file)
{
	struct eg_ruleset rs = { 0 };
	struct eg_diags d = { 0 };
	cr_assert_eq(eg_ruleset_parse_text(&rs, "empty.rules", "", 0, false, &d), 0);
	cr_assert_eq(eg_ruleset_parse_text(&rs, "null.rules", NULL, 0, false, &d), 0);
	cr_assert_eq(d.n, 0);
	cr_assert_eq(rs.n_rules, 0);
	cr_assert_eq(rs.n_files, 2, "an empty file is still a file loaded");
	eg_ruleset_free(&rs);
}

Test(parse, only_comments)
{
	struct eg_ruleset rs = { 0 };
	struct eg_diags d = { 0 };
	cr_assert_eq(parse(&rs, &d, "# one\n\n   # two\n\t\n#rule x\n   \n"), 0, "%s", dump(&d));
	cr_assert_eq(rs.n_rules, 0);
	eg_ruleset_free(&rs);
}

Test(parse, utf8_values)
{
	struct eg_ruleset rs = { 0 };
	struct eg_diags d = { 0 };
	const char *text = "rule a\n  program p\n  match caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x92\xa5\n"
			   "  action confirm\n  reason D\xc3\xa9truit tout\n  example p caf\xc3\xa9\n";
	cr_assert_eq(parse(&rs, &d, text), 0, "%s", dump(&d));
	cr_assert_str_eq(rs.rules[0].reason, "D\xc3\xa9truit tout");
	eg_ruleset_free(&rs);
	eg_diags_free(&d);
}

/* ------------------------------------------------------------------ errors */

/* Parse TEXT, expect failure and one diagnostic at LINE:COL containing SUB. */
static void expect_error(const char *text, unsigned line, unsigned col, const char *sub)
{
	struct eg_ruleset rs = { 0 };
	struct eg_diags d = { 0 };
	cr_assert_eq(parse(&rs, &d, text), -1, "parse should fail for:\n%s", text);
	expect_diag(&d, line, col, sub);
	cr_assert_str_eq(d.v[0].file, "t.rules");
	eg_ruleset_free(&rs);
	eg_diags_free(&d);
}

Test(errors, unknown_key)
{
	expect_error(STANZA("a") "  mtach foo\n", 7, 3, "unknown key 'mtach'");
	expect_error(STANZA("a") "\tProgram foo\n", 7, 2, "unknown key 'Program'");
}

Test(errors, field_before_header)
{
	expect_error("# x\n  program foo\n" STANZA("a"), 2, 3, "outside a rule");
}

Test(errors, unindented_field)
{
	expect_error("rule a\nprogram p\n", 2, 1, "field 'program' must be indented");
	struct eg_ruleset rs = { 0 };
	struct eg_diags d = { 0 };
	cr_assert_eq(parse(&rs, &d, "rule a\nprogram p\n  match x\n  bogus y\n"), -1);
	expect_diag(&d, 2, 1, "field 'program' must be indented");
	expect_diag(&d, 4, 3, "unknown key 'bogus'");
	cr_assert_eq(d.n, 2, "the stanza goes on, no 'missing' noise:\n%s", dump(&d));
	eg_ruleset_free(&rs);
	eg_diags_free(&d);
}

Test(errors, unknown_header)
{
	expect_error("rules a\n  program p\n", 1, 1, "expected 'rule ID', 'override ID' or 'set KEY VALUE', found 'rules'");
}

Test(errors, missing_required_fields)
{
	struct eg_ruleset rs = { 0 };
	struct eg_diags d = { 0 };
	const char *text = "# header at line 2\nrule a\n  program p\n  action confirm\n";
	cr_assert_eq(parse(&rs, &d, text), -1);
	expect_diag(&d, 2, 1, "rule 'a' is missing required field 'match'");
	expect_diag(&d, 2, 1, "rule 'a' is missing required field 'reason'");
	expect_diag(&d, 2, 1, "rule 'a' is missing required field 'example'");
	cr_assert_eq(d.n, 3, "%s", dump(&d));
	cr_assert_eq(rs.n_rules, 0, "a broken rule is not added");
	eg_ruleset_free(&rs);
	eg_diags_free(&d);

	expect_error("rule a\n  match x\n  action log\n  reason r\n  example p\n", 1, 1,
	    "missing required field 'program'");
	expect_error("rule a\n  program p\n  match x\n  reason r\n  example p\n", 1, 1,
	    "missing required field 'action'");
}

Test(errors, bad_id)
{
	expect_error("rule foo/bar\n", 1, 6, "invalid rule id 'foo/bar'");
	expect_error("rule .foo\n", 1, 6, "invalid rule id '.foo'");
	expect_error("override   -x\n", 1, 12, "invalid rule id '-x'");
	expect_error("rule\n", 1, 1, "missing rule id after 'rule'");
	expect_error("rule a b\n", 1, 8, "unexpected text after the rule id");
	char text[300];
	memset(text, 0, sizeof text);
	strcpy(text, "rule ");
	memset(text + 5, 'a', 129);
	strcat(text, "\n");
	expect_error(text, 1, 6, "at most 128");
	/* exactly 128 is fine */
	struct eg_ruleset rs = { 0 };
	struct eg_diags d = { 0 };
	char ok[600];
	snprintf(ok, sizeof ok, "rule %.128s\n  program p\n  match x\n  action log\n  reason r\n"
				"  example p x\n", text + 5);
	cr_assert_eq(parse(&rs, &d, ok), 0, "%s", dump(&d));
	cr_assert_eq(strlen(rs.rules[0].id), 128);
	eg_ruleset_free(&rs);
	eg_diags_free(&d);
}

Test(errors, bad_values)
{
	expect_error("rule a\n  program p\n  match x\n  action   confrim\n  reason r\n  example p\n",
	    4, 12, "invalid action 'confrim' (expected confirm, deny, allow or log)");
	expect_error(STANZA("a") "  severity  high\n", 7, 13,
	    "invalid severity 'high' (expected normal or critical)");
	expect_error(STANZA("a") "  action deny\n", 7, 3, "'action' given twice (first at line 4)");
	expect_error(STANZA("a") "  severity critical\n  severity normal\n", 8, 3,
	    "'severity' given twice (first at line 7)");
	expect_error(STANZA("a") "  match   \n", 7, 3, "'match' needs a value");
	expect_error(STANZA("a") "  program a /usr/bin/terraform\n", 7, 13,
	    "program name '/usr/bin/terraform' contains '/'");
	expect_error(STANZA("a") "  env  AWS_PROFILE\n", 7, 19, "'env' needs a pattern");
	expect_error(STANZA("a") "  env  1AWS x\n", 7, 8, "invalid environment variable name '1AWS'");
}

Test(errors, line_too_long)
{
	static char text[6000];
	size_t n = 5000;
	strcpy(text, STANZA("a") "  example ");
	size_t o = strlen(text);
	memset(text + o, 'x', n);
	strcpy(text + o + n, "\n" STANZA("b"));
	struct eg_ruleset rs = { 0 };
	struct eg_diags d = { 0 };
	cr_assert_eq(parse(&rs, &d, text), -1);
	expect_diag(&d, 7, 4097, "at most 4096");
	cr_assert_eq(d.n, 1, "%s", dump(&d));
	cr_assert_eq(rs.n_rules, 1, "the damaged rule a is dropped, b is kept");
	cr_assert_str_eq(rs.rules[0].id, "b");
	eg_ruleset_free(&rs);
	eg_diags_free(&d);

	/* exactly 4096 bytes (CR not counted) is fine */
	strcpy(text, STANZA("a") "  example ");
	o = strlen(text);
	memset(text + o, 'x', 4096 - 10);
	memcpy(text + o + 4096 - 10, "\r\n", 3);
	cr_assert_eq(parse(&rs, &d, text), 0, "%s", dump(&d));
	eg_ruleset_free(&rs);
	eg_diags_free(&d);
}

Test(errors, nul_byte)
{
	static const char text[] = "rule a\n  program p\n  match ab\0cd\n  action log\n  reason r\n"
				   "  example p\n" STANZA("b");
	struct eg_ruleset rs = { 0 };
	struct eg_diags d = { 0 };
	cr_assert_eq(eg_ruleset_parse_text(&rs, "t.rules", text, sizeof text - 1, false, &d), -1);
	expect_diag(&d, 3, 11, "NUL byte");
	cr_assert_eq(d.n, 1, "no cascade of 'missing match': %s", dump(&d));
	cr_assert_eq(rs.n_rules, 1);
	cr_assert_str_eq(rs.rules[0].id, "b");
	eg_ruleset_free(&rs);
	eg_diags_free(&d);
}

Test(errors, invalid_utf8)
{
	expect_error(STANZA("a") "  safe   caf\xe9\n", 7, 13, "invalid UTF-8 (byte 0xe9)");
	expect_error(STANZA("a") "  safe \xc0\x80\n", 7, 8, "invalid UTF-8");     /* overlong */
	expect_error(STANZA("a") "  safe \xed\xa0\x80\n", 7, 8, "invalid UTF-8"); /* surrogate */
	expect_error(STANZA("a") "  safe \xf4\x90\x80\x80\n", 7, 8, "invalid UTF-8"); /* > U+10FFFF */
	expect_error(STANZA("a") "  safe ab\xe2\x82", 7, 10, "invalid UTF-8");    /* truncated */
	expect_error("# \xff\n" STANZA("a"), 1, 3, "invalid UTF-8 (byte 0xff)");
}

Test(errors, broken_header_skips_its_fields)
{
	struct eg_ruleset rs = { 0 };
	struct eg_diags d = { 0 };
	const char *text = "rule caf\xe9\n  program p\n  bogus x\n" STANZA("b");
	cr_assert_eq(parse(&rs, &d, text), -1);
	expect_diag(&d, 1, 9, "invalid UTF-8");
	cr_assert_eq(d.n, 1, "%s", dump(&d));
	cr_assert_eq(rs.n_rules, 1);
	eg_ruleset_free(&rs);
	eg_diags_free(&d);
}

Test(errors, many_in_one_pass)
{
	struct eg_ruleset rs = { 0 };
	struct eg_diags d = { 0 };
	const char *text = STANZA("one")        /* lines 1-6 */
	    "  colour red\n"                    /* 7: unknown key */
	    "rule two\n"                        /* 8 */
	    "  program p\n"                     /* 9 */
	    "  match x\n"                       /* 10 */
	    "  action maybe\n"                  /* 11: bad action */
	    "  reason r\n"                      /* 12 */
	    "  example p\n"                     /* 13 */
	    STANZA("ok")                        /* 14-19: fine */
	    "rule bad id\n"                     /* 20: extra text */
	    "rule three\n"                      /* 21: missing fields */
	    "  program p\n";                    /* 22 */
	cr_assert_eq(parse(&rs, &d, text), -1);
	expect_diag(&d, 7, 3, "unknown key 'colour'");
	expect_diag(&d, 11, 10, "invalid action 'maybe'");
	expect_diag(&d, 20, 10, "unexpected text after the rule id");
	expect_diag(&d, 21, 1, "rule 'three' is missing required field 'match'");
	cr_assert_eq(d.n, 7, "%s", dump(&d));
	for (size_t i = 1; i < d.n; i++)
		cr_assert_leq(d.v[i - 1].line, d.v[i].line, "diagnostics in line order:\n%s", dump(&d));
	cr_assert_eq(rs.n_rules, 1);
	cr_assert_str_eq(rs.rules[0].id, "ok");
	eg_ruleset_free(&rs);
	eg_diags_free(&d);
}

/* ------------------------------------------------------------------ ids and overrides */

Test(ids, duplicate_in_same_file)
{
	struct eg_ruleset rs = { 0 };
	struct eg_diags d = { 0 };
	cr_assert_eq(parse(&rs, &d, STANZA("a") "\n" STANZA("a")), -1);
	expect_diag(&d, 8, 6, "duplicate rule id 'a', already defined at t.rules:1");
	cr_assert_eq(rs.n_rules, 1);
	eg_ruleset_free(&rs);
	eg_diags_free(&d);
}

Test(ids, duplicate_across_files)
{
	struct eg_ruleset rs = { 0 };
	struct eg_diags d = { 0 };
	cr_assert_eq(parse_as(&rs, &d, "one.rules", "# x\n" STANZA("a"), false), 0);
	cr_assert_eq(parse_as(&rs, &d, "two.rules", STANZA("a"), false), -1);
	cr_assert(has_diag(&d, "two.rules", 1, 6, "already defined at one.rules:2"), "%s", dump(&d));
	cr_assert_str_eq(rs.rules[0].file, "one.rules");
	eg_ruleset_free(&rs);
	eg_diags_free(&d);
}

Test(ids, override_replaces_in_place)
{
	struct eg_ruleset rs = { 0 };
	struct eg_diags d = { 0 };
	cr_assert_eq(parse_as(&rs, &d, "one.rules", STANZA("a") STANZA("b") STANZA("c"), false), 0);
	const char *over = "override b\n  program other\n  match y\n  action deny\n"
			   "  reason replaced\n  example other y\n";
	cr_assert_eq(parse_as(&rs, &d, "two.rules", over, false), 0, "%s", dump(&d));
	cr_assert_eq(rs.n_rules, 3);
	cr_assert_str_eq(rs.rules[0].id, "a");
	cr_assert_str_eq(rs.rules[1].id, "b");
	cr_assert_str_eq(rs.rules[2].id, "c");
	const struct eg_rule *b = &rs.rules[1];
	cr_assert(b->is_override);
	cr_assert_str_eq(b->file, "two.rules");
	cr_assert_eq(b->file_order, 1);
	cr_assert_eq(b->line, 1);
	cr_assert_eq(b->action, EG_ACT_DENY);
	cr_assert_str_eq(b->reason, "replaced");
	cr_assert_str_eq(b->programs[0], "other");
	cr_assert_eq(b->n_programs, 1, "all fields anew");
	cr_assert_eq(rs.rules[2].file_order, 0);

	/* overriding again in a third file replaces the override */
	cr_assert_eq(parse_as(&rs, &d, "three.rules", "override b\n  program p\n  match z\n"
		"  action log\n  reason third\n  example p z\n", false), 0, "%s", dump(&d));
	cr_assert_eq(rs.n_rules, 3);
	cr_assert_str_eq(rs.rules[1].reason, "third");
	cr_assert_eq(rs.rules[1].file_order, 2);
	cr_assert_eq(rs.n_files, 3);
	cr_assert_str_eq(rs.files[2], "three.rules");

	/* a later `rule b` is still a duplicate, naming where b now lives */
	cr_assert_eq(parse_as(&rs, &d, "four.rules", STANZA("b"), false), -1);
	cr_assert(has_diag(&d, "four.rules", 1, 6, "already defined at three.rules:1"), "%s",
	    dump(&d));
	eg_ruleset_free(&rs);
	eg_diags_free(&d);
}

Test(ids, override_unknown)
{
	struct eg_ruleset rs = { 0 };
	struct eg_diags d = { 0 };
	cr_assert_eq(parse_as(&rs, &d, "one.rules", STANZA("a"), false), 0);
	cr_assert_eq(parse_as(&rs, &d, "two.rules", "\noverride   nosuch\n  program p\n  match x\n"
		"  action log\n  reason r\n  example p x\n", false), -1);
	cr_assert(has_diag(&d, "two.rules", 2, 12, "override of unknown rule 'nosuch'"), "%s",
	    dump(&d));
	cr_assert_eq(rs.n_rules, 1);
	eg_ruleset_free(&rs);
	eg_diags_free(&d);
}

Test(ids, override_in_same_file)
{
	struct eg_ruleset rs = { 0 };
	struct eg_diags d = { 0 };
	cr_assert_eq(parse(&rs, &d, STANZA("a") "override a\n  program p\n  match x\n"
		"  action log\n  reason r\n  example p x\n"), -1);
	expect_diag(&d, 7, 10, "defined in the same file at line 1");
	eg_ruleset_free(&rs);
	eg_diags_free(&d);
}

static const char override_a[] = "override a\n  program p\n  match x\n  action allow\n"
				 "  reason weaker\n  example p x\n";

Test(ids, protected_override)
{
	struct eg_ruleset rs = { 0 };
	struct eg_diags d = { 0 };
	cr_assert_eq(parse_as(&rs, &d, "/usr/share/p.rules", STANZA("a"), true), 0);
	/* a writable file cannot replace a protected rule */
	cr_assert_eq(parse_as(&rs, &d, "user.rules", override_a, false), -1);
	cr_assert(has_diag(&d, "user.rules", 1, 10,
		      "cannot override protected rule 'a' (/usr/share/p.rules:1)"),
	    "%s", dump(&d));
	cr_assert_eq(rs.rules[0].action, EG_ACT_CONFIRM);
	cr_assert_str_eq(rs.rules[0].file, "/usr/share/p.rules");
	/* another protected file can */
	cr_assert_eq(parse_as(&rs, &d, "/etc/execguard/x.rules", override_a, true), 0);
	cr_assert_eq(rs.rules[0].action, EG_ACT_ALLOW);
	cr_assert(rs.rules[0].protected_src);
	cr_assert_eq(rs.n_files, 3);
	cr_assert_not(rs.files_protected[1]);
	cr_assert(rs.files_protected[2]);
	eg_ruleset_free(&rs);
	eg_diags_free(&d);
}

Test(ids, unprotected_override_of_unprotected)
{
	struct eg_ruleset rs = { 0 };
	struct eg_diags d = { 0 };
	cr_assert_eq(parse_as(&rs, &d, "a.rules", STANZA("a"), false), 0);
	cr_assert_eq(parse_as(&rs, &d, "b.rules", override_a, false), 0, "%s", dump(&d));
	cr_assert_eq(rs.rules[0].action, EG_ACT_ALLOW);
	cr_assert_not(rs.rules[0].protected_src);
	eg_ruleset_free(&rs);
	eg_diags_free(&d);
}

/* ------------------------------------------------------------------ regex */

Test(regex, bad_pattern_reports_pcre2_message_and_column)
{
	struct eg_ruleset rs = { 0 };
	struct eg_diags d = { 0 };
	const char *text = "rule a\n"
			   "  program p\n"
			   "  match     foo(bar\n"      /* line 3, pattern at col 13 */
			   "  unless    ok\n"
			   "  env       X a[b\n"        /* line 5, pattern at col 15 */
			   "  cwd       x{2,1}\n"       /* line 6 */
			   "  action    confirm\n"
			   "  reason    r\n"
			   "  example   p foo(bar\n";
	cr_assert_eq(parse(&rs, &d, text), 0, "%s", dump(&d));
	cr_assert_eq(eg_ruleset_validate_regex(&rs, &d), -1);
	/* PCRE2 reports a missing ')' at the end of the pattern: offset 7 */
	expect_diag(&d, 3, 20, "regex: missing closing parenthesis (at offset 7)");
	expect_diag(&d, 5, 18, "regex: missing terminating ] for character class (at offset 3)");
	expect_diag(&d, 6, 18, "regex: numbers out of order in {} quantifier (at offset 5)");
	cr_assert_eq(d.n, 3, "%s", dump(&d));
	cr_assert_str_eq(d.v[0].file, "t.rules");
	eg_ruleset_free(&rs);
	eg_diags_free(&d);
}

Test(regex, valid_patterns)
{
	struct eg_ruleset rs = { 0 };
	struct eg_diags d = { 0 };
	const char *text = "rule a\n  program p\n"
			   "  match (?i)delete-db-instance\\s.*--db-instance-identifier[=\\s](?<target>\\S+)\n"
			   "  match caf\xc3\xa9\\b\n  action confirm\n  reason r\n  example p x\n";
	cr_assert_eq(parse(&rs, &d, text), 0, "%s", dump(&d));
	cr_assert_eq(eg_ruleset_validate_regex(&rs, &d), 0, "%s", dump(&d));
	eg_ruleset_free(&rs);
}

/* ------------------------------------------------------------------ loading from disk */

static char tmpdir[64];

static void mk_tmpdir(void)
{
	strcpy(tmpdir, "/tmp/eg-test-parser-XXXXXX");
	cr_assert_not_null(mkdtemp(tmpdir));
}

static void rm_tree(const char *dir)
{
	DIR *dh = opendir(dir);
	if (!dh)
		return;
	struct dirent *de;
	while ((de = readdir(dh))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		char p[512];
		snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
		chmod(p, 0700);
		if (unlink(p) != 0)
			rm_tree(p);
	}
	closedir(dh);
	rmdir(dir);
}

static void write_file(const char *dir, const char *name, const char *text)
{
	char p[512];
	snprintf(p, sizeof p, "%s/%s", dir, name);
	FILE *f = fopen(p, "w");
	cr_assert_not_null(f, "%s: %s", p, strerror(errno));
	fputs(text, f);
	fclose(f);
}

static void rm_tmpdir(void)
{
	rm_tree(tmpdir);
}

TestSuite(load, .init = mk_tmpdir, .fini = rm_tmpdir);

Test(load, directories_in_order_files_sorted)
{
	char packs[128], sys[128], user[128], extra[160];
	snprintf(packs, sizeof packs, "%s/packs", tmpdir);
	snprintf(sys, sizeof sys, "%s/no-such-dir", tmpdir);
	snprintf(user, sizeof user, "%s/user/", tmpdir);
	mkdir(packs, 0755);
	mkdir(user, 0755);
	write_file(packs, "b.rules", STANZA("b"));
	write_file(packs, "a.rules", STANZA("a1") STANZA("a2"));
	write_file(packs, "B.rules", STANZA("B"));
	write_file(packs, "10-x.rules", STANZA("x"));
	write_file(packs, "c.rules.bak", "garbage\n");
	write_file(packs, ".hidden.rules", "garbage\n");
	write_file(packs, "notes.txt", "garbage\n");
	write_file(user, "u.rules", "override a2\n  program p\n  match x\n  action log\n"
				    "  reason mine\n  example p x\n");
	snprintf(extra, sizeof extra, "%s/extra.rules", tmpdir);
	write_file(tmpdir, "extra.rules", STANZA("e"));

	char *files[] = { extra };
	struct eg_sources src = {
		.packs_dir = packs, .system_dir = sys, .user_dir = user, .files = files, .n_files = 1
	};
	struct eg_ruleset rs = { 0 };
	struct eg_diags d = { 0 };
	cr_assert_eq(eg_ruleset_load(&rs, &src, &d), 0, "%s", dump(&d));
	cr_assert_eq(rs.n_files, 6);
	const char *want_files[] = { "10-x.rules", "B.rules", "a.rules", "b.rules", "u.rules",
		"extra.rules" };
	for (size_t i = 0; i < 6; i++) {
		const char *base = strrchr(rs.files[i], '/') + 1;
		cr_assert_str_eq(base, want_files[i], "file %zu is %s", i, rs.files[i]);
	}
	char want_u[200];
	snprintf(want_u, sizeof want_u, "%s/user/u.rules", tmpdir);
	cr_assert_str_eq(rs.files[4], want_u, "no double slash");

	const char *want_ids[] = { "x", "B", "a1", "a2", "b", "e" };
	cr_assert_eq(rs.n_rules, 6);
	for (size_t i = 0; i < 6; i++) {
		cr_assert_str_eq(rs.rules[i].id, want_ids[i]);
	}
	cr_assert_eq(rs.rules[3].file_order, 4);
	cr_assert_str_eq(rs.rules[3].reason, "mine");
	cr_assert_eq(rs.rules[5].file_order, 5);
	cr_assert_eq(rs.rules[0].line, 1);
	cr_assert_str_eq(find(&rs, "e")->file, extra);
	/* as root every file is writable, so nothing is protected */
	if (geteuid() == 0)
		for (size_t i = 0; i < rs.n_files; i++)
			cr_assert_not(rs.files_protected[i]);
	eg_ruleset_free(&rs);
	eg_diags_free(&d);
}

Test(load, errors_carry_the_path)
{
	char path[160];
	snprintf(path, sizeof path, "%s/bad.rules", tmpdir);
	write_file(tmpdir, "bad.rules", "rule a\n  program p\n  nope x\n");
	struct eg_ruleset rs = { 0 };
	struct eg_diags d = { 0 };
	cr_assert_eq(eg_ruleset_load_file(&rs, path, &d), -1);
	cr_assert(has_diag(&d, path, 3, 3, "unknown key 'nope'"), "%s", dump(&d));
	eg_ruleset_free(&rs);
	eg_diags_free(&d);
}

Test(load, missing_file_is_an_error)
{
	char path[160];
	snprintf(path, sizeof path, "%s/absent.rules", tmpdir);
	char *files[] = { path };
	struct eg_sources src = { .files = files, .n_files = 1 };
	struct eg_ruleset rs = { 0 };
	struct eg_diags d = { 0 };
	cr_assert_eq(eg_ruleset_load(&rs, &src, &d), -1);
	cr_assert(has_diag(&d, path, 0, 0, "cannot open rule file: No such file or directory"),
	    "%s", dump(&d));
	cr_assert_eq(rs.n_files, 0);
	eg_ruleset_free(&rs);
	eg_diags_free(&d);
}

Test(load, unreadable_file)
{
	char path[160];
	snprintf(path, sizeof path, "%s/secret.rules", tmpdir);
	write_file(tmpdir, "secret.rules", STANZA("a"));
	chmod(path, 0);
	struct eg_ruleset rs = { 0 };
	struct eg_diags d = { 0 };
	int rc = eg_ruleset_load_file(&rs, path, &d);
	if (geteuid() == 0) {
		/* root reads it anyway */
		cr_assert_eq(rc, 0, "%s", dump(&d));
	} else {
		cr_assert_eq(rc, -1);
		cr_assert(has_diag(&d, path, 0, 0, "cannot open rule file: Permission denied"),
		    "%s", dump(&d));
	}
	eg_ruleset_free(&rs);
	eg_diags_free(&d);
}

Test(load, unreadable_directory)
{
	char dir[160];
	snprintf(dir, sizeof dir, "%s/locked", tmpdir);
	mkdir(dir, 0);
	struct eg_sources src = { .user_dir = dir };
	struct eg_ruleset rs = { 0 };
	struct eg_diags d = { 0 };
	int rc = eg_ruleset_load(&rs, &src, &d);
	if (geteuid() == 0) {
		cr_assert_eq(rc, 0, "%s", dump(&d));
	} else {
		cr_assert_eq(rc, -1);
		cr_assert(has_diag(&d, dir, 0, 0, "cannot open rule directory: Permission denied"),
		    "%s", dump(&d));
	}
	eg_ruleset_free(&rs);
	eg_diags_free(&d);
}

Test(load, directory_named_rules_and_oversized_file)
{
	char dir[160], big[160];
	snprintf(dir, sizeof dir, "%s/d.rules", tmpdir);
	snprintf(big, sizeof big, "%s/e.rules", tmpdir);
	mkdir(dir, 0755);
	int fd = open(big, O_CREAT | O_WRONLY, 0644);
	cr_assert_geq(fd, 0);
	cr_assert_eq(ftruncate(fd, 5 * 1024 * 1024), 0);
	close(fd);
	write_file(tmpdir, "f.rules", STANZA("f"));
	struct eg_sources src = { .system_dir = tmpdir };
	struct eg_ruleset rs = { 0 };
	struct eg_diags d = { 0 };
	cr_assert_eq(eg_ruleset_load(&rs, &src, &d), -1);
	cr_assert(has_diag(&d, dir, 0, 0, "not a regular file"), "%s", dump(&d));
	cr_assert(has_diag(&d, big, 0, 0, "too large"), "%s", dump(&d));
	cr_assert_eq(rs.n_rules, 1, "later files still load");
	cr_assert_str_eq(rs.rules[0].id, "f");
	eg_ruleset_free(&rs);
	eg_diags_free(&d);
}

Test(load, nul_bytes_on_disk)
{
	char path[160];
	snprintf(path, sizeof path, "%s/nul.rules", tmpdir);
	FILE *f = fopen(path, "w");
	fwrite("rule a\n  prog\0ram p\n", 1, 20, f);
	fclose(f);
	struct eg_ruleset rs = { 0 };
	struct eg_diags d = { 0 };
	cr_assert_eq(eg_ruleset_load_file(&rs, path, &d), -1);
	cr_assert(has_diag(&d, path, 2, 7, "NUL byte"), "%s", dump(&d));
	eg_ruleset_free(&rs);
	eg_diags_free(&d);
}

/* ------------------------------------------------------------------ sources */

Test(sources, from_environment)
{
	char *envp[] = { "HOME=/home/u", "EXECGUARD_PACKS_DIR=/p", "EXECGUARD_SYSTEM_DIR=/s",
		"XDG_CONFIG_HOME=/cfg", NULL };
	struct eg_sources s;
	cr_assert_eq(eg_sources_default(&s, NULL, envp), 0);
	cr_assert_str_eq(s.packs_dir, "/p");
	cr_assert_str_eq(s.system_dir, "/s");
	cr_assert_str_eq(s.user_dir, "/cfg/execguard");
	cr_assert_eq(s.n_files, 0);
	eg_sources_free(&s);
	cr_assert_null(s.packs_dir);
}

Test(sources, defaults)
{
	char *envp[] = { "HOME=/home/u", "XDG_CONFIG_HOME=relative", "EXECGUARD_PACKS_DIR=", NULL };
	struct eg_sources s;
	/* an install prefix without packs falls back to the configured ones */
	cr_assert_eq(eg_sources_default(&s, "/nonexistent-eg-prefix/" EG_BINDIR_REL "/execguard",
	    envp), 0);
	cr_assert_str_eq(s.packs_dir, EG_PACKS_DIR);
	eg_sources_free(&s);
	cr_assert_eq(eg_sources_default(&s, "/nonexistent-eg-prefix/elsewhere/execguard", envp), 0);
	cr_assert_str_eq(s.packs_dir, EG_PACKS_DIR);
	cr_assert_str_eq(s.system_dir, EG_SYSTEM_RULES_DIR);
	cr_assert_str_eq(s.user_dir, "/home/u/.config/execguard");
	eg_sources_free(&s);

	cr_assert_eq(eg_sources_default(&s, EG_BUILD_ROOT "/cli/execguard", envp), 0);
	cr_assert_str_eq(s.packs_dir, EG_SOURCE_PACKS_DIR);
	eg_sources_free(&s);

	/* a sibling directory sharing a prefix is not the build tree */
	cr_assert_eq(eg_sources_default(&s, EG_BUILD_ROOT "x/cli/execguard", envp), 0);
	cr_assert_str_eq(s.packs_dir, EG_PACKS_DIR);
	eg_sources_free(&s);
}

/* mkdir -p */
static void make_dirs(const char *path)
{
	char buf[4096];
	snprintf(buf, sizeof buf, "%s", path);
	for (char *p = buf + 1; *p; p++) {
		if (*p == '/') {
			*p = '\0';
			mkdir(buf, 0755);
			*p = '/';
		}
	}
	cr_assert(mkdir(buf, 0755) == 0 || errno == EEXIST, "mkdir %s: %s", buf, strerror(errno));
}

/* An install moved to another prefix (meson install --destdir, an unpacked
 * .deb) finds its own packs and library, from the tool and from the library. */
Test(sources, relocated_install)
{
	char root[] = "/tmp/eg-reloc.XXXXXX";
	cr_assert_not_null(mkdtemp(root));
	char bin[4096], lib[4096], packs[4096], libfile[4096], buf[4096];
	snprintf(bin, sizeof bin, "%s/%s/execguard", root, EG_BINDIR_REL);
	snprintf(libfile, sizeof libfile, "%s/%s/" EG_LIBRARY_NAME, root, EG_LIBDIR_REL);
	snprintf(lib, sizeof lib, "%s/%s", root, EG_LIBDIR_REL);
	snprintf(packs, sizeof packs, "%s/%s/execguard/patterns", root, EG_DATADIR_REL);
	char *envp[] = { "HOME=/home/u", NULL };
	struct eg_sources s;

	/* nothing there yet: the configured places */
	cr_assert_str_eq(eg_library_for(bin, buf, sizeof buf), EG_LIBDIR "/" EG_LIBRARY_NAME);
	cr_assert_eq(eg_sources_default(&s, bin, envp), 0);
	cr_assert_str_eq(s.packs_dir, EG_PACKS_DIR);
	eg_sources_free(&s);

	make_dirs(packs);
	make_dirs(lib);
	int fd = open(libfile, O_CREAT | O_WRONLY, 0644);
	cr_assert_geq(fd, 0);
	close(fd);
	cr_assert_eq(eg_sources_default(&s, bin, envp), 0);
	cr_assert_str_eq(s.packs_dir, packs);
	eg_sources_free(&s);
	cr_assert_eq(eg_sources_default(&s, libfile, envp), 0);
	cr_assert_str_eq(s.packs_dir, packs);
	eg_sources_free(&s);
	cr_assert_str_eq(eg_library_for(bin, buf, sizeof buf), libfile);
	cr_assert(eg_install_prefix(libfile, buf, sizeof buf));
	cr_assert_str_eq(buf, root);
	/* a prefix that does not fit is no prefix */
	cr_assert_not(eg_install_prefix(libfile, buf, 4));
	/* the build tree wins over everything */
	cr_assert_str_eq(eg_library_for(EG_BUILD_ROOT "/cli/execguard", buf, sizeof buf),
	    EG_BUILD_LIBRARY);

	unlink(libfile);
	char cmd[4200];
	snprintf(cmd, sizeof cmd, "rm -rf -- '%s'", root);
	cr_assert_eq(system(cmd), 0);
}

Test(sources, no_home_uses_passwd)
{
	char *envp[] = { NULL };
	struct eg_sources s;
	cr_assert_eq(eg_sources_default(&s, NULL, envp), 0);
	/* whatever passwd says, it ends in .config/execguard */
	if (s.user_dir) {
		size_t n = strlen(s.user_dir);
		cr_assert(n > 18 && strcmp(s.user_dir + n - 18, "/.config/execguard") == 0, "%s",
		    s.user_dir);
	}
	eg_sources_free(&s);
}

/* ------------------------------------------------------------------ printing */

Test(diags, print_format)
{
	struct eg_diags d = { 0 };
	eg_diags_add(&d, "f.rules", 3, 7, "bad %s", "thing");
	eg_diags_add(&d, "f.rules", 3, 0, "line only");
	eg_diags_add(&d, "f.rules", 0, 0, "whole file");
	eg_diags_add(&d, NULL, 0, 0, "no file");
	eg_diags_add(&d, "f.rules", 1, 1, "esc \033[2J bell\a");
	int p[2];
	cr_assert_eq(pipe(p), 0);
	eg_diags_print(&d, p[1]);
	close(p[1]);
	char buf[512] = { 0 };
	ssize_t n = read(p[0], buf, sizeof buf - 1);
	close(p[0]);
	cr_assert_gt(n, 0);
	cr_assert_str_eq(buf, "f.rules:3:7: bad thing\nf.rules:3: line only\nf.rules: whole file\n"
			      "no file\nf.rules:1:1: esc ?[2J bell?\n");
	eg_diags_free(&d);
	cr_assert_eq(d.n, 0);
	cr_assert_null(d.v);
}

Test(errors, too_many_errors)
{
	size_t n = 1000;
	char *text = malloc(n * 8 + 1);
	for (size_t i = 0; i < n; i++)
		memcpy(text + i * 8, "bogus x\n", 8);
	text[n * 8] = '\0';
	struct eg_ruleset rs = { 0 };
	struct eg_diags d = { 0 };
	cr_assert_eq(parse(&rs, &d, text), -1);
	cr_assert_eq(d.n, 101, "%zu diagnostics", d.n);
	expect_diag(&d, 100, 1, "too many errors");
	eg_ruleset_free(&rs);
	eg_diags_free(&d);
	free(text);
}

Test(errors, messages_clip_long_text)
{
	/* a 3000-byte unknown key of 2-byte characters is cut at a character boundary */
	char text[8000] = "rule a\n  ";
	size_t o = strlen(text);
	for (int i = 0; i < 1500; i++, o += 2)
		memcpy(text + o, "\xc3\xa9", 2);
	strcpy(text + o, " v\n");
	struct eg_ruleset rs = { 0 };
	struct eg_diags d = { 0 };
	cr_assert_eq(parse(&rs, &d, text), -1);
	expect_diag(&d, 2, 3, "unknown key");
	const char *msg = NULL;
	for (size_t i = 0; i < d.n; i++)
		if (strstr(d.v[i].msg, "unknown key"))
			msg = d.v[i].msg;
	cr_assert_lt(strlen(msg), 200);
	cr_assert_str_eq(strstr(msg, "' (expected") - 2, "\xc3\xa9' (expected program, match, "
	    "unless, action, reason, severity, env, cwd, example or safe)");
	eg_ruleset_free(&rs);
	eg_diags_free(&d);
}

Test(load, trust_follows_write_permission)
{
	char dir[160], path[200];
	snprintf(dir, sizeof dir, "%s/ro", tmpdir);
	snprintf(path, sizeof path, "%s/p.rules", dir);
	mkdir(dir, 0755);
	write_file(dir, "p.rules", STANZA("a"));
	write_file(tmpdir, "w.rules", STANZA("w"));
	chmod(path, 0444);
	chmod(dir, 0555);
	struct eg_sources src = { .packs_dir = dir, .user_dir = tmpdir };
	struct eg_ruleset rs = { 0 };
	struct eg_diags d = { 0 };
	cr_assert_eq(eg_ruleset_load(&rs, &src, &d), 0, "%s", dump(&d));
	cr_assert_eq(rs.n_files, 2);
	cr_assert_not(rs.files_protected[1], "a file in a writable directory is not protected");
	cr_assert_not(rs.rules[1].protected_src);
	if (geteuid() == 0) {
		cr_assert_not(rs.files_protected[0], "for root every file is writable");
	} else {
		cr_assert(rs.files_protected[0]);
		cr_assert(rs.rules[0].protected_src);
	}
	eg_ruleset_free(&rs);
	eg_diags_free(&d);
}

Test(errors, diagnostics_in_line_order)
{
	struct eg_ruleset rs = { 0 };
	struct eg_diags d = { 0 };
	cr_assert_eq(parse(&rs, &d, "rule y\n  program /bin/x\n  match x\n  action log\n"
				    "  reason r\n"), -1);
	cr_assert_eq(d.n, 2, "%s", dump(&d));
	cr_assert_eq(d.v[0].line, 1);
	cr_assert(strstr(d.v[0].msg, "missing required field 'example'"));
	cr_assert_eq(d.v[1].line, 2);
	cr_assert_eq(d.v[1].col, 11);
	eg_ruleset_free(&rs);
	eg_diags_free(&d);
}

/* ------------------------------------------------------------------ settings */

Test(settings, set_lines_parse_and_reach_the_block)
{
	struct eg_ruleset rs = { 0 };
	struct eg_diags d = { 0 };
	cr_assert_eq(parse(&rs, &d,
			 "set syslog on\n" STANZA("a") "set alert   /usr/bin/logger -t eg  \n"
						      "set allow-once 60\n"),
	    0, "%s", dump(&d));
	cr_assert_eq(rs.n_rules, 1, "a set line ends no stanza wrongly");
	cr_assert_eq(rs.n_settings, 3);
	cr_assert_str_eq(rs.settings[1].value, "/usr/bin/logger -t eg", "trailing blanks go");
	struct eg_policy *p = eg_policy_build(&rs, &d);
	cr_assert_not_null(p, "%s", dump(&d));
	cr_assert_str_eq(eg_policy_setting(p, "alert"), "/usr/bin/logger -t eg");
	cr_assert(eg_policy_setting_bool(p, "syslog", false));
	cr_assert_eq(eg_policy_setting_seconds(p, "allow-once", 0), 60);
	cr_assert_null(eg_policy_setting(p, "approver"));
	cr_assert_eq(eg_policy_setting_seconds(p, "refuse-cooldown", 7), 7, "unset gives default");
	cr_assert_eq(eg_policy_setting_count(p), 3);
	struct eg_setting_info si;
	cr_assert_eq(eg_policy_setting_info(p, 0, &si), 0);
	cr_assert_str_eq(si.key, "syslog");
	cr_assert_str_eq(si.file, "t.rules");
	cr_assert_eq(si.line, 1);
	cr_assert_eq(eg_policy_setting_info(p, 3, &si), -1);

	/* the block survives a copy (what a mapped file is) */
	size_t sz;
	const void *blk = eg_policy_block(p, &sz);
	void *copy = aligned_alloc(8, (sz + 7) / 8 * 8);
	memcpy(copy, blk, sz);
	struct eg_policy *q = eg_policy_from_block(copy, sz, false);
	cr_assert_not_null(q);
	cr_assert_str_eq(eg_policy_setting(q, "alert"), "/usr/bin/logger -t eg");
	eg_policy_free(q);
	free(copy);
	eg_policy_free(p);
	eg_ruleset_free(&rs);
	eg_diags_free(&d);
}

Test(settings, errors_have_positions)
{
	struct eg_ruleset rs = { 0 };
	struct eg_diags d = { 0 };
	cr_assert_eq(parse(&rs, &d,
			 "set\n"
			 "set colour on\n"
			 "set syslog maybe\n"
			 "set allow-once 90000\n"
			 "set allow-once 1m\n"
			 "set alert\n"
			 "set syslog on\n"
			 "set syslog off\n"),
	    -1);
	expect_diag(&d, 1, 4, "missing setting name");
	expect_diag(&d, 2, 5, "unknown setting 'colour'");
	expect_diag(&d, 3, 12, "expected 'on' or 'off', found 'maybe'");
	expect_diag(&d, 4, 16, "at most 86400 seconds");
	expect_diag(&d, 5, 16, "digits only");
	expect_diag(&d, 6, 10, "expected a command");
	expect_diag(&d, 8, 5, "already set at line 7");
	eg_ruleset_free(&rs);
	eg_diags_free(&d);
}

Test(settings, later_file_wins_but_not_over_a_protected_one)
{
	struct eg_ruleset rs = { 0 };
	struct eg_diags d = { 0 };
	cr_assert_eq(parse_as(&rs, &d, "a.rules", "set allow-once 10\n", false), 0);
	cr_assert_eq(parse_as(&rs, &d, "b.rules", "set allow-once 20\n", false), 0, "%s", dump(&d));
	cr_assert_eq(rs.n_settings, 1);
	cr_assert_str_eq(rs.settings[0].value, "20");
	cr_assert_str_eq(rs.settings[0].file, "b.rules");
	cr_assert_eq(parse_as(&rs, &d, "sys.rules", "set approver /bin/false\n", true), 0);
	cr_assert_eq(parse_as(&rs, &d, "user.rules", "set approver /bin/true\n", false), -1);
	cr_assert(has_diag(&d, "user.rules", 1, 5,
	    "cannot change setting 'approver' set in sys.rules:1 from a file you can write"),
	    "%s", dump(&d));
	cr_assert_str_eq(rs.settings[1].value, "/bin/false");
	cr_assert_eq(parse_as(&rs, &d, "sys2.rules", "set approver /bin/echo\n", true), 0,
	    "a protected file may change a protected setting");
	cr_assert_str_eq(rs.settings[1].value, "/bin/echo");
	eg_ruleset_free(&rs);
	eg_diags_free(&d);
}

Test(settings, every_key_is_known_and_documented)
{
	const char *names[32];
	size_t n = eg_setting_keys(names, 32);
	cr_assert(n > 0 && n <= 32);
	FILE *f = fopen(EG_SOURCE_DIR "/docs/rules.md", "r");
	cr_assert_not_null(f);
	static char doc[1 << 16];
	size_t len = fread(doc, 1, sizeof doc - 1, f);
	fclose(f);
	doc[len] = '\0';
	for (size_t i = 0; i < n; i++) {
		char want[80];
		snprintf(want, sizeof want, "| `%s` |", names[i]);
		cr_assert(strstr(doc, want), "docs/rules.md has no table row for setting '%s'",
		    names[i]);
	}
}
