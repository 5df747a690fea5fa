/*
 * Where in the policy block a check reads. Each 64 KiB piece of the block it
 * reads costs a process a page fault and up to 64 KiB of resident memory:
 * the block is a file mapping, which the kernel maps a window of
 * fault-around at a time, and large blocks are mapped at a 64 KiB boundary
 * (the kernel maps a file of 2 MiB or more at a 2 MiB one; a session copy
 * places the block so). With the default packs and thousands of rules for
 * other programs after them, a check of a pack's program reads the
 * header's window, its bucket's, and the two windows in whose middle the
 * builder puts the first rules' lists, rules, names, literals and regex
 * entries (policy_build.c): not a window of each section.
 *
 * The pages read are found by reading them: a copy of the block with no
 * access, each page opened by the fault its first read takes.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "execguard.h"
#include "policy_block.h"

#ifndef EG_SOURCE_DIR
#error "EG_SOURCE_DIR must be defined by the build"
#endif

#define MAX_PAGES 4096
#define WINDOW ((size_t)64 << 10)
static unsigned char *guarded;
static size_t guarded_size, page;
static bool read_page[MAX_PAGES];

static void on_fault(int sig, siginfo_t *si, void *ctx)
{
	(void)ctx;
	uintptr_t a = (uintptr_t)si->si_addr, base = (uintptr_t)guarded;
	if (a < base || a >= base + guarded_size) {
		signal(sig, SIG_DFL); /* not ours: crash as usual */
		return;
	}
	size_t pg = (a - base) / page;
	read_page[pg] = true;
	mprotect(guarded + pg * page, page, PROT_READ);
}

/* The packs, then n rules for programs of their own (as bench/overhead.c's
 * policy (d), two programs a rule). */
static struct eg_policy *packs_and_synthetic(int n)
{
	struct eg_sources src = { .packs_dir = EG_SOURCE_DIR "/patterns" };
	struct eg_ruleset rs = { 0 };
	struct eg_diags d = { 0 };
	cr_assert_eq(eg_ruleset_load(&rs, &src, &d), 0);
	size_t cap = (size_t)n * 320 + 1, len = 0;
	char *text = malloc(cap);
	cr_assert_not_null(text);
	for (int i = 0; i < n; i++)
		len += (size_t)snprintf(text + len, cap - len,
		    "rule synthetic.r%d\n  program synth%d synthalt%d\n"
		    "  match (^|\\s)(purge|wipe)-%d(\\s|$)\n  unless (^|\\s)--dry-run(\\s|$)\n"
		    "  action confirm\n  reason Synthetic rule %d.\n  example synth%d purge-%d\n\n",
		    i, i, i, i, i, i, i);
	cr_assert_lt(len, cap);
	cr_assert_eq(eg_ruleset_parse_text(&rs, "synthetic.rules", text, len, true, &d), 0);
	struct eg_policy *p = eg_policy_build(&rs, &d);
	cr_assert_not_null(p);
	eg_ruleset_free(&rs);
	eg_diags_free(&d);
	free(text);
	return p;
}

/* The 64 KiB pieces of p's block (the kernel's windows of fault-around,
 * the block mapped at a 64 KiB boundary) of which `argv`'s check reads a
 * page, in a no-access copy of the block; the check's action. */
static int windows_read(const struct eg_policy *p, char *const *argv, enum eg_action *act, char *desc,
    size_t desc_size)
{
	size_t size;
	const void *block = eg_policy_block(p, &size);
	page = (size_t)sysconf(_SC_PAGESIZE);
	guarded_size = (size + page - 1) / page * page;
	cr_assert_leq(guarded_size / page, MAX_PAGES);
	guarded = mmap(NULL, guarded_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	cr_assert_neq(guarded, MAP_FAILED);
	memcpy(guarded, block, size);
	struct eg_policy q;
	cr_assert_eq(eg_policy_init_block(&q, guarded, size, false), 0);
	memset(read_page, 0, sizeof read_page);
	struct sigaction sa = { .sa_sigaction = on_fault, .sa_flags = SA_SIGINFO }, old;
	sigemptyset(&sa.sa_mask);
	cr_assert_eq(sigaction(SIGSEGV, &sa, &old), 0);
	cr_assert_eq(mprotect(guarded, guarded_size, PROT_NONE), 0);

	struct eg_check_scratch *sc = malloc(sizeof *sc);
	cr_assert_not_null(sc);
	struct eg_check_input in = { .argv = argv, .cwd = "/tmp" };
	struct eg_check_result res;
	*act = eg_check(&q, &in, sc, &res);

	sigaction(SIGSEGV, &old, NULL);
	int windows = 0;
	size_t used = 0, last = SIZE_MAX;
	desc[0] = '\0';
	for (size_t pg = 0; pg < guarded_size / page; pg++) {
		if (!read_page[pg] || pg * page / WINDOW == last)
			continue;
		last = pg * page / WINDOW;
		windows++;
		used += (size_t)snprintf(desc + used, desc_size - used, " %zu KiB", last * WINDOW / 1024);
		if (used >= desc_size)
			used = desc_size - 1;
	}
	eg_policy_free(&q); /* its compile state; the struct is ours */
	munmap(guarded, guarded_size);
	free(sc);
	return windows;
}

Test(block_layout, a_pack_programs_check_reads_four_windows_among_thousands_of_rules)
{
	struct eg_policy *p = packs_and_synthetic(3000);
	size_t size;
	(void)eg_policy_block(p, &size);
	cr_assert_gt(size, 1024u * 1024u, "each section larger than a window of fault-around");
	char desc[512];
	enum eg_action act;

	char *const status[] = { "git", "status", NULL };
	int windows = windows_read(p, status, &act, desc, sizeof desc);
	cr_expect_eq(act, EG_ACT_NONE);
	cr_expect_leq(windows, 4, "git status read %d windows of the block:%s", windows, desc);

	/* A match also reads the stored code and what the rule shows. */
	char *const destroy[] = { "terraform", "destroy", NULL };
	windows = windows_read(p, destroy, &act, desc, sizeof desc);
	cr_expect_eq(act, EG_ACT_CONFIRM);
	cr_expect_leq(windows, 5, "terraform destroy read %d windows of the block:%s", windows, desc);

	/* A program of the synthetic rules, its data among the others': no
	 * promise but that its check is right. */
	char *const purge[] = { "synth1500", "purge-1500", NULL };
	windows = windows_read(p, purge, &act, desc, sizeof desc);
	cr_expect_eq(act, EG_ACT_CONFIRM);
	fprintf(stderr, "synth1500 purge-1500 read %d windows:%s\n", windows, desc);
	eg_policy_free(p);
}
