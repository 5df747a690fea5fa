/*
 * Where in the policy block a check reads. Each 64 KiB piece of the block it
 * reads costs a process a page fault and up to 64 KiB of resident memory:
 * the block is a file mapping, which the kernel maps a window of
 * fault-around at a time, and large blocks are mapped at a 64 KiB boundary
 * (the kernel maps a file of 2 MiB or more at a 2 MiB one; a session copy
 * places the block so). With the default packs and thousands of rules for
 * other programs after them, a check of a pack's program reads the block's
 * first two windows: the header's, and the first part's (policy_block.h),
 * and a match the window of its stored code. Without the first part, it
 * reads the header's window, its bucket's, and the two windows in whose
 * middle the builder puts the first rules' lists, rules, names, literals
 * and regex entries (policy_build.c): not a window of each section. And
 * the first part decides as the whole block does.
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
 * policy (d), two programs a rule), then `late` (rules text, may be NULL). */
static struct eg_policy *packs_and_synthetic_then(int n, const char *late)
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
	if (late != NULL)
		cr_assert_eq(eg_ruleset_parse_text(&rs, "late.rules", late, strlen(late), true, &d), 0);
	struct eg_policy *p = eg_policy_build(&rs, &d);
	cr_assert_not_null(p);
	eg_ruleset_free(&rs);
	eg_diags_free(&d);
	free(text);
	return p;
}

static struct eg_policy *packs_and_synthetic(int n)
{
	return packs_and_synthetic_then(n, NULL);
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

static struct eg_policy *whole_only(const struct eg_policy *p, unsigned char **mem);

Test(block_layout, a_pack_programs_check_reads_two_windows_among_thousands_of_rules)
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
	cr_expect_leq(windows, 2, "git status read %d windows of the block:%s", windows, desc);

	/* A match also reads the stored code. */
	char *const destroy[] = { "terraform", "destroy", NULL };
	windows = windows_read(p, destroy, &act, desc, sizeof desc);
	cr_expect_eq(act, EG_ACT_CONFIRM);
	cr_expect_leq(windows, 3, "terraform destroy read %d windows of the block:%s", windows, desc);

	/* Without the first part: four windows, and the code's */
	unsigned char *mem;
	struct eg_policy *q = whole_only(p, &mem);
	windows = windows_read(q, status, &act, desc, sizeof desc);
	cr_expect_eq(act, EG_ACT_NONE);
	cr_expect_leq(windows, 4, "whole block: git status read %d windows:%s", windows, desc);
	windows = windows_read(q, destroy, &act, desc, sizeof desc);
	cr_expect_eq(act, EG_ACT_CONFIRM);
	cr_expect_leq(windows, 5, "whole block: terraform destroy read %d windows:%s", windows, desc);
	eg_policy_free(q);
	free(mem);

	/* A program of the synthetic rules, its data among the others': no
	 * promise but that its check is right. */
	char *const purge[] = { "synth1500", "purge-1500", NULL };
	windows = windows_read(p, purge, &act, desc, sizeof desc);
	cr_expect_eq(act, EG_ACT_CONFIRM);
	fprintf(stderr, "synth1500 purge-1500 read %d windows:%s\n", windows, desc);
	eg_policy_free(p);
}

/* ------------------------------------------------------------ the first part */

/* A heap copy of p's block, to change. */
static unsigned char *block_copy(const struct eg_policy *p, size_t *size)
{
	const void *block = eg_policy_block(p, size);
	unsigned char *mem = malloc(*size);
	cr_assert_not_null(mem);
	memcpy(mem, block, *size);
	return mem;
}

/* p's block without its first part: a heap copy whose header says none. */
static struct eg_policy *whole_only(const struct eg_policy *p, unsigned char **mem)
{
	size_t size;
	*mem = block_copy(p, &size);
	struct eg_blk_header *h = (struct eg_blk_header *)(void *)*mem;
	cr_assert_gt(h->first_size, 0, "the block has a first part");
	h->first_off = h->first_size = h->first_hashes_off = h->n_first = 0;
	struct eg_policy *q = eg_policy_from_block(*mem, size, false);
	cr_assert_not_null(q);
	return q;
}

static void check_text(const struct eg_policy *p, struct eg_check_scratch *sc, const char *text,
    struct eg_check_result *res)
{
	char *argv[] = { "sh", "-c", (char *)text, NULL };
	struct eg_check_input in = { .argv = argv, .cwd = "/srv/prod", .flags = EG_CHECK_UNWRAP_ALL };
	eg_check(p, &in, sc, res);
}

static void expect_same(const struct eg_policy *with, const struct eg_policy *without,
    struct eg_check_scratch *sc, const char *text, size_t *n, size_t *decided)
{
	struct eg_check_result a, b;
	check_text(with, sc, text, &a);
	check_text(without, sc, text, &b);
	cr_expect_eq(a.action, b.action, "%s: %d with the first part, %d without", text, a.action, b.action);
	cr_expect_eq(a.rule, b.rule, "%s: rule %u, %u", text, a.rule, b.rule);
	cr_expect_eq(a.allow_rule, b.allow_rule, "%s", text);
	cr_expect_eq(a.severity, b.severity, "%s", text);
	cr_expect_eq(a.fail, b.fail, "%s", text);
	cr_expect_eq(a.cmd_index, b.cmd_index, "%s", text);
	cr_expect_str_eq(a.confirm_word, b.confirm_word, "%s", text);
	cr_expect_str_eq(a.cmdline, b.cmdline, "%s", text);
	(*n)++;
	*decided += a.action != EG_ACT_NONE;
}

/* The first part decides as the whole block does: every example and safe
 * line of the packs and of the rules after them, the corpus of real
 * commands, and commands that name programs of both. Among the later rules,
 * one for git (a pack's program: git is then not in the first part) and an
 * allow rule for terraform. */
Test(block_layout, the_first_part_decides_as_the_whole_block)
{
	static const char late[] =
	    "rule late.git-zap\n  program git\n  match (^|\\s)zap-late(\\s|$)\n  action deny\n"
	    "  reason late\n  example git zap-late\n\n"
	    "rule late.tf-sandbox\n  program terraform\n  match (^|\\s)destroy(\\s|$)\n"
	    "  cwd ^/srv/sandbox\n  action allow\n  reason sandbox\n  example terraform destroy\n";
	struct eg_policy *p = packs_and_synthetic_then(3000, late);
	unsigned char *mem;
	struct eg_policy *q = whole_only(p, &mem);
	struct eg_check_scratch *sc = malloc(sizeof *sc);
	cr_assert_not_null(sc);
	size_t n = 0, decided = 0;

	struct eg_sources src = { .packs_dir = EG_SOURCE_DIR "/patterns" };
	struct eg_ruleset rs = { 0 };
	struct eg_diags d = { 0 };
	cr_assert_eq(eg_ruleset_load(&rs, &src, &d), 0);
	for (size_t r = 0; r < rs.n_rules; r++) {
		for (size_t i = 0; i < rs.rules[r].n_examples; i++)
			expect_same(p, q, sc, rs.rules[r].examples[i].text, &n, &decided);
		for (size_t i = 0; i < rs.rules[r].n_safes; i++)
			expect_same(p, q, sc, rs.rules[r].safes[i].text, &n, &decided);
	}
	eg_ruleset_free(&rs);
	eg_diags_free(&d);

	FILE *f = fopen(EG_SOURCE_DIR "/tests/corpus/commands.tsv", "r");
	cr_assert_not_null(f);
	char line[4096];
	while (fgets(line, sizeof line, f)) {
		char *tab = strchr(line, '\t');
		if (line[0] == '#' || tab == NULL)
			continue;
		tab[1 + strcspn(tab + 1, "\r\n")] = '\0';
		expect_same(p, q, sc, tab + 1, &n, &decided);
	}
	fclose(f);

	static const char *const mixed[] = {
		"git zap-late", "git status", "git push --force origin main", "terraform destroy",
		"terraform destroy; synth7 purge-7", "synth7 purge-7 && git push -f",
		"synthalt2999 wipe-2999", "synth12 purge-12 --dry-run", "xargs terraform destroy",
		"env git zap-late", "sudo terraform destroy -auto-approve", "git status | synth3 wipe-3",
	};
	for (size_t i = 0; i < sizeof mixed / sizeof *mixed; i++)
		expect_same(p, q, sc, mixed[i], &n, &decided);
	fprintf(stderr, "first part: %zu commands the same, %zu of them decided by a rule\n", n, decided);
	cr_expect_gt(decided, 300);

	/* names of both from one exec: kubectl (in the first part) run from a
	 * file named synth2000 (not), and the reverse */
	static const char *const names[][3] = { { "kubectl", "/nonexistent/synth2000", "purge-2000" },
		{ "synth2000", "/nonexistent/kubectl", "delete namespace prod" },
		{ "kubectl", "/nonexistent/synth2000", "delete namespace prod" },
		{ "synth2000", "/nonexistent/kubectl", "purge-2000" } };
	for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
		char args[64];
		snprintf(args, sizeof args, "%s", names[i][2]);
		char *argv[8] = { (char *)names[i][0] };
		int argc = 1;
		for (char *w = strtok(args, " "); w != NULL && argc < 7; w = strtok(NULL, " "))
			argv[argc++] = w;
		argv[argc] = NULL;
		struct eg_check_input in = { .argv = argv, .exe_path = names[i][1], .cwd = "/srv/prod" };
		struct eg_check_result a, b;
		eg_check(p, &in, sc, &a);
		eg_check(q, &in, sc, &b);
		cr_expect_eq(a.action, b.action, "%s as %s: %d, %d", names[i][0], names[i][1], a.action, b.action);
		cr_expect_eq(a.rule, b.rule, "%s as %s", names[i][0], names[i][1]);
		cr_expect_neq(a.action, EG_ACT_NONE, "%s as %s", names[i][0], names[i][1]);
	}

	/* the later rule for git applies: git is not in the first part */
	struct eg_check_result res;
	check_text(p, sc, "git zap-late", &res);
	cr_expect_eq(res.action, EG_ACT_DENY);
	free(sc);
	eg_policy_free(q);
	free(mem);
	eg_policy_free(p);
}

/* A damaged first part fails closed for its programs, and leaves the
 * others to the whole block. */
Test(block_layout, a_damaged_first_part_fails_closed)
{
	struct eg_policy *p = packs_and_synthetic(3000);
	size_t size;
	unsigned char *mem = block_copy(p, &size);
	const struct eg_blk_header *h = (const void *)mem;
	mem[h->first_off] ^= 0xff; /* its magic */
	struct eg_policy *q = eg_policy_from_block(mem, size, false);
	cr_assert_not_null(q, "the whole block still adopts");
	struct eg_check_scratch *sc = malloc(sizeof *sc);
	cr_assert_not_null(sc);
	struct eg_check_result res;
	check_text(q, sc, "git status", &res);
	cr_expect_eq(res.action, EG_ACT_DENY, "a program of the first part: refused");
	cr_expect_neq(res.fail, EG_FAIL_NONE);
	check_text(q, sc, "synth2000 purge-2000", &res);
	cr_expect_eq(res.action, EG_ACT_CONFIRM, "a later rule's program: as before");
	check_text(q, sc, "true", &res);
	cr_expect_eq(res.action, EG_ACT_NONE);
	free(sc);
	eg_policy_free(q);
	free(mem);
	eg_policy_free(p);
}
