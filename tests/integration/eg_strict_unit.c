/*
 * Strict mode's pieces that can be checked without a guarded tree:
 *   - the BPF program, run by a small interpreter over every case it must
 *     tell apart (native execve/execveat, x32, 32-bit, other calls, an
 *     unknown architecture);
 *   - eg_strict_probe() on this machine.
 * TAP output. Exit 0 when every check passes.
 *
 *   eg_strict_unit            both
 *   eg_strict_unit --probe    the probe only: prints "available: ..." or
 *                             "unavailable: ..." and exits 0 or 1
 */
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>

#include "strict.h"

static int n_tests, n_failed;

static void ok(int cond, const char *what)
{
	n_tests++;
	if (!cond)
		n_failed++;
	printf("%sok %d - %s\n", cond ? "" : "not ", n_tests, what);
}

/* Classic BPF, the subset seccomp filters use here. */
static unsigned run_bpf(const struct sock_filter *f, size_t n, const struct seccomp_data *d)
{
	unsigned a = 0;
	for (size_t pc = 0; pc < n; pc++) {
		const struct sock_filter *i = &f[pc];
		switch (i->code) {
		case BPF_LD | BPF_W | BPF_ABS:
			if (i->k + 4 > sizeof *d)
				return 0xdeadu;
			memcpy(&a, (const char *)d + i->k, 4);
			break;
		case BPF_JMP | BPF_JEQ | BPF_K:
			pc += (a == i->k) ? i->jt : i->jf;
			break;
		case BPF_JMP | BPF_JGE | BPF_K:
			pc += (a >= i->k) ? i->jt : i->jf;
			break;
		case BPF_RET | BPF_K:
			return i->k;
		default:
			return 0xbadu;
		}
	}
	return 0xfa11u; /* fell off the end: the kernel rejects such a program */
}

static unsigned verdict(uint32_t arch, int nr)
{
	size_t n;
	const struct sock_filter *f = strict_filter_program(&n);
	struct seccomp_data d;
	memset(&d, 0, sizeof d);
	d.arch = arch;
	d.nr = nr;
	return run_bpf(f, n, &d) & SECCOMP_RET_ACTION_FULL;
}

static void filter_tests(void)
{
	size_t n;
	if (strict_filter_program(&n) == NULL) {
		printf("ok 1 # SKIP no filter for this architecture\n");
		n_tests++;
		return;
	}
#if defined(__x86_64__)
	const uint32_t native = AUDIT_ARCH_X86_64, compat = AUDIT_ARCH_I386;
	const int c_execve = 11, c_execveat = 358, c_other = 4;
	const int x32 = 0x40000000;
	ok(verdict(native, x32 | 520) == SECCOMP_RET_USER_NOTIF, "x32 execve is notified (and refused)");
	ok(verdict(native, x32 | 545) == SECCOMP_RET_USER_NOTIF, "x32 execveat is notified");
	ok(verdict(native, x32 | 1) == SECCOMP_RET_ALLOW, "other x32 calls pass");
#elif defined(__aarch64__)
	const uint32_t native = AUDIT_ARCH_AARCH64, compat = AUDIT_ARCH_ARM;
	const int c_execve = 11, c_execveat = 387, c_other = 4;
#endif
	ok(verdict(native, SYS_execve) == SECCOMP_RET_USER_NOTIF, "execve is notified");
	ok(verdict(native, SYS_execveat) == SECCOMP_RET_USER_NOTIF, "execveat is notified");
	ok(verdict(native, SYS_read) == SECCOMP_RET_ALLOW, "read passes");
	ok(verdict(native, SYS_clone) == SECCOMP_RET_ALLOW, "clone passes");
	ok(verdict(native, 0) == SECCOMP_RET_ALLOW, "call 0 passes");
	ok(verdict(compat, c_execve) == SECCOMP_RET_USER_NOTIF, "32-bit execve is notified (and refused)");
	ok(verdict(compat, c_execveat) == SECCOMP_RET_USER_NOTIF, "32-bit execveat is notified");
	ok(verdict(compat, c_other) == SECCOMP_RET_ALLOW, "other 32-bit calls pass");
	ok(verdict(0x12345678u, SYS_execve) == SECCOMP_RET_KILL_PROCESS, "an unknown architecture is killed");
	int all_pass = 1;
	for (int nr = 0; nr < 1024; nr++)
		if (nr != SYS_execve && nr != SYS_execveat && verdict(native, nr) != SECCOMP_RET_ALLOW)
			all_pass = 0;
	ok(all_pass, "every other native call number below 1024 passes untouched");
}

int main(int argc, char **argv)
{
	char why[1024];
	if (argc > 1 && strcmp(argv[1], "--probe") == 0) {
		int r = eg_strict_probe(why, sizeof why);
		printf("%s: %s\n", r ? "available" : "unavailable", why);
		return r ? 0 : 1;
	}
	filter_tests();
	int r = eg_strict_probe(why, sizeof why);
	printf("# probe: %s: %s\n", r ? "available" : "unavailable", why);
	ok(why[0] != '\0', "the probe explains its answer");
	printf("1..%d\n", n_tests);
	return n_failed ? 1 : 0;
}
