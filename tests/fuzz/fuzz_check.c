/*
 * Fuzz target: the matcher. The shipped rule packs are loaded once; every
 * input is an argv plus environment (see fuzz_input.h) checked in both modes
 * (execguard check's unwrap-all and the hooks'), with and without a working
 * directory. The result must be consistent: a decision names its rule or a
 * failure, the command line shown to the human is a terminated string.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "execguard.h"
#include "fuzz_input.h"

#ifndef EG_FUZZ_PACKS_DIR
#error "EG_FUZZ_PACKS_DIR must name the rule packs directory"
#endif

enum {
	F_UNWRAP_ALL = 1u << 0,
	F_CWD = 1u << 1,      /* a production-looking working directory */
	F_ENVP_NULL = 1u << 2, /* no environment at all */
};

static struct eg_policy *pol;
/* The block is malloc'd and referenced only from the policy, which lives in
 * an mmap'd arena LeakSanitizer does not scan: keep a visible pointer. */
static const void *pol_block;
static struct eg_check_scratch scratch;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	struct eg_sources src = { .packs_dir = (char *)EG_FUZZ_PACKS_DIR };
	struct eg_ruleset rs = { 0 };
	struct eg_diags d = { 0 };
	if (eg_ruleset_load(&rs, &src, &d) < 0 || (pol = eg_policy_build(&rs, &d)) == NULL) {
		eg_diags_print(&d, 2);
		abort();
	}
	size_t bsize;
	pol_block = eg_policy_block(pol, &bsize);
	eg_diags_free(&d);
	eg_ruleset_free(&rs);
	return 0;
}

static void check_result(const struct eg_check_result *r, enum eg_action a)
{
	if (r->action != a || a > EG_ACT_DENY)
		__builtin_trap();
	if (memchr(r->cmdline, '\0', sizeof r->cmdline) == NULL ||
	    memchr(r->confirm_word, '\0', sizeof r->confirm_word) == NULL)
		__builtin_trap();
	if (r->fail != EG_FAIL_NONE) {
		/* A failure is never an allow: fail closed. */
		if (a < EG_ACT_CONFIRM)
			__builtin_trap();
		return;
	}
	if (a == EG_ACT_NONE)
		return;
	struct eg_rule_info ri;
	if (eg_policy_rule_info(pol, r->rule, &ri) < 0)
		__builtin_trap();
	if (a != EG_ACT_ALLOW && ri.action != a)
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in;
	if (fuzz_input_split(&in, data, size) < 0)
		return 0;
	struct eg_check_input ci = {
		.argv = in.argv,
		.envp = (in.flags & F_ENVP_NULL) ? NULL : in.envp,
		.exe_path = NULL,
		.cwd = (in.flags & F_CWD) ? "/srv/app/prod" : NULL,
		.flags = (in.flags & F_UNWRAP_ALL) ? EG_CHECK_UNWRAP_ALL : 0,
	};
	struct eg_check_result res;
	enum eg_action a = eg_check(pol, &ci, &scratch, &res);
	check_result(&res, a);

	/* The hooks' pre-filter must never say "cannot apply" for a command a
	 * rule decides on its own name (exe_path NULL: no resolved name). */
	if (in.argc > 0 && a >= EG_ACT_LOG && res.fail == EG_FAIL_NONE && res.cmd_index == 0 &&
	    !(ci.flags & EG_CHECK_UNWRAP_ALL) && !eg_check_may_apply(pol, in.argv[0], NULL))
		__builtin_trap();
	fuzz_input_free(&in);
	return 0;
}
