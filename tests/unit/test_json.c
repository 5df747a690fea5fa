/* The CLI's strict JSON reader (cli/json_read.c): what it accepts, what it
 * refuses, and the strings it gives back. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "json_read.h"

static const char *const cmd_path[] = { "tool_input", "command" };
static const char *const tool_path[] = { "tool_name" };

static enum json_get get(const char *doc, const char *const *path, size_t depth, char **out)
{
	return json_get_string(doc, strlen(doc), path, depth, out);
}

static void expect_invalid(const char *doc)
{
	char *s = NULL;
	cr_expect_eq(get(doc, cmd_path, 2, &s), JSON_INVALID, "accepted: %s", doc);
	cr_expect_null(s);
	free(s);
}

Test(json, finds_nested_string)
{
	char *s = NULL;
	const char *doc = "{\"session_id\":\"x\",\"tool_name\":\"Bash\",\"tool_input\":"
			  "{\"command\":\"terraform destroy\",\"description\":\"d\"},\"n\":[1,2.5e3,-0,"
			  "true,false,null,{}]}";
	cr_assert_eq(get(doc, cmd_path, 2, &s), JSON_FOUND);
	cr_expect_str_eq(s, "terraform destroy");
	free(s);
	cr_assert_eq(get(doc, tool_path, 1, &s), JSON_FOUND);
	cr_expect_str_eq(s, "Bash");
	free(s);
}

Test(json, escapes_unescaped)
{
	char *s = NULL;
	const char *doc = "{\"tool_input\":{\"command\":\"a\\\"b\\\\c\\/d\\n\\t\\u00e9\\ud83d\\ude00\"}}";
	cr_assert_eq(get(doc, cmd_path, 2, &s), JSON_FOUND);
	cr_expect_str_eq(s, "a\"b\\c/d\n\t\xc3\xa9\xf0\x9f\x98\x80");
	free(s);
}

Test(json, absent_or_not_a_string)
{
	char *s = NULL;
	cr_expect_eq(get("{\"tool_input\":{}}", cmd_path, 2, &s), JSON_ABSENT);
	cr_expect_eq(get("{\"tool_input\":{\"command\":[\"rm\"]}}", cmd_path, 2, &s), JSON_ABSENT);
	cr_expect_eq(get("{\"tool_input\":\"command\"}", cmd_path, 2, &s), JSON_ABSENT);
	cr_expect_eq(get("{\"command\":\"x\"}", cmd_path, 2, &s), JSON_ABSENT);
	/* the same key deeper down is not the path */
	cr_expect_eq(get("{\"a\":{\"tool_input\":{\"command\":\"x\"}}}", cmd_path, 2, &s),
	    JSON_ABSENT);
	cr_expect_null(s);
}

Test(json, refuses_what_is_not_json)
{
	expect_invalid("");
	expect_invalid("{");
	expect_invalid("{\"tool_input\":{\"command\":\"x\"},}");   /* trailing comma */
	expect_invalid("{\"tool_input\":{\"command\":\"x\"}} {}"); /* two documents */
	expect_invalid("{'tool_input':1}");
	expect_invalid("{\"a\":01}");
	expect_invalid("{\"a\":1.}");
	expect_invalid("{\"a\":NaN}");
	expect_invalid("{\"a\":tru}");
	expect_invalid("{\"a\":\"tab\there\"}");         /* raw control character */
	expect_invalid("{\"a\":\"\\x41\"}");              /* unknown escape */
	expect_invalid("{\"a\":\"\\ud83d\"}");            /* lone high surrogate */
	expect_invalid("{\"a\":\"\\ude00\"}");            /* lone low surrogate */
	expect_invalid("{\"a\":\"\xc3\"}");               /* cut UTF-8 */
	expect_invalid("{\"a\":\"\xed\xa0\x80\"}");       /* encoded surrogate */
	expect_invalid("{\"a\":\"\xc0\xaf\"}");           /* overlong */
	expect_invalid("{\"tool_input\":{\"command\":\"a\\u0000b\"}}"); /* NUL: never a command */
	expect_invalid("{\"a\" 1}");
	expect_invalid("[1,]");
	expect_invalid("/* c */ {}");
}

Test(json, duplicate_keys_are_refused)
{
	/* which one would the sender mean? Claude Code never sends this. */
	expect_invalid("{\"tool_input\":{\"command\":\"ls\",\"command\":\"terraform destroy\"}}");
	expect_invalid("{\"tool_input\":{\"command\":\"ls\"},\"tool_input\":{}}");
}

Test(json, nesting_is_bounded)
{
	char doc[1024];
	size_t n = 0;
	for (int i = 0; i < 200; i++)
		doc[n++] = '[';
	for (int i = 0; i < 200; i++)
		doc[n++] = ']';
	doc[n] = '\0';
	expect_invalid(doc);
	n = 0;
	for (int i = 0; i < 30; i++)
		doc[n++] = '[';
	for (int i = 0; i < 30; i++)
		doc[n++] = ']';
	doc[n] = '\0';
	char *s = NULL;
	cr_expect_eq(get(doc, cmd_path, 2, &s), JSON_ABSENT);
}

Test(json, blanks_around_and_inside)
{
	char *s = NULL;
	cr_assert_eq(get(" \r\n\t{ \"tool_input\" : { \"command\" : \"x y\" } } \n", cmd_path, 2, &s),
	    JSON_FOUND);
	cr_expect_str_eq(s, "x y");
	free(s);
}
