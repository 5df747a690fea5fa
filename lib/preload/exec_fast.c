/* execve and execv, and their fast way. See exec_fast.h. */
#include "exec_fast.h"

#include <errno.h>
#include <stdint.h>
#include <sys/mman.h>

#include "audit_emit.h"
#include "guard.h"
#include "hot_text.h"
#include "policy_block.h"
#include "preload.h"
#include "subject.h"
#include "sys_direct.h"

extern char **environ;

/* At most this many bits of filter are copied (8 KiB); a larger one is
 * folded. */
#define FAST_LOG2_MAX 16u

enum { FAST_NONE, FAST_BUILDING, FAST_READY, FAST_UNAVAILABLE };

/* In .bss, on the library's one page of data, beside what the fast way
 * reads of eg_ours, eg_real and the configuration. */
static struct {
	int state;
	uint32_t log2;
	const uint64_t *words;
	char **const *environ_loc; /* &environ: the GOT's page stays untouched */
	char link_byte;            /* readlink's buffer, written only for a symlink */
	char no_execveat;          /* the kernel said ENOSYS: the readlink way */
} fast;

/* In the hot text with the hooks, as what it calls is: a process's first
 * fork or spawn reads no other window of our code for it. */
EG_HOT_TEXT void eg_exec_fast_prepare(void)
{
	int expect = FAST_NONE;
	if (__atomic_load_n(&fast.state, __ATOMIC_ACQUIRE) != FAST_NONE ||
	    !__atomic_compare_exchange_n(&fast.state, &expect, FAST_BUILDING, false,
		__ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
		return; /* ready, or another thread is at it: its children go the full way */
	const struct eg_policy *p = __atomic_load_n(&eg_guard_cfg.policy, __ATOMIC_ACQUIRE);
	int state = FAST_UNAVAILABLE;
	if (p != NULL && p->filter != NULL && !eg_ours.overflow) {
		uint32_t log2 = p->filter_log2 < FAST_LOG2_MAX ? p->filter_log2 : FAST_LOG2_MAX;
		size_t n_words = (size_t)1 << (log2 - 6);
		/* Not in .bss: 8 KiB more there would be a mapping more in
		 * every process the library is loaded into. */
		long m = eg_sys_mmap(NULL, n_words * sizeof(uint64_t), PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (m >= 0 || m < -4095) {
			uint64_t *w = (uint64_t *)m;
			eg_filter_fold(w, log2, p->filter, p->filter_log2);
			/* the wrappers the full check unwraps, as this build knows them */
			const char *name;
			for (size_t i = 0; (name = eg_subject_wrapper_name(i)) != NULL; i++)
				eg_filter_add(w, log2, eg_name_hash(name));
			fast.words = w;
			fast.log2 = log2;
			fast.environ_loc = (char **const *)&environ;
			state = FAST_READY;
		}
	}
	__atomic_store_n(&fast.state, state, __ATOMIC_RELEASE);
}

#define FAST_INLINE static inline __attribute__((always_inline))

/* Is the basename of `s` a name no rule lists and no wrapper has? Its hash
 * is taken as the basename is found. A name the full check treats apart
 * (a login shell's "-bash", the dynamic loader's "ld-...") is not. */
FAST_INLINE bool name_unlisted(const char *s)
{
	const char *base = s;
	uint32_t h = EG_NAME_HASH_INIT;
	for (; *s; s++) {
		if (*s == '/') {
			base = s + 1;
			h = EG_NAME_HASH_INIT;
		} else {
			h = eg_name_hash_step(h, (unsigned char)*s);
		}
	}
	if (base[0] == '\0')
		return true; /* no name: the full check skips it too */
	if (base[0] == '-' || (base[0] == 'l' && base[1] == 'd'))
		return false;
	return !eg_filter_maybe(fast.words, fast.log2, h);
}

/* The fast way's conditions on the call, before the environment's and
 * the executable's: no setting that wants the full way, and names no rule
 * lists. */
FAST_INLINE bool fast_names_ok(const char *path, char *const argv[])
{
	if (eg_audit_cfg.execs || eg_guard_cfg.strict_supervised || eg_real.execve == NULL)
		return false;
	if (path == NULL || path[0] == '\0' || argv == NULL || argv[0] == NULL)
		return false;
	return name_unlisted(argv[0]) && name_unlisted(path);
}

/* Is `path` there and not a symlink (whose target's name the full check
 * takes too)? */
FAST_INLINE bool not_a_link(const char *path)
{
	return eg_sys4(SYS_readlinkat, AT_FDCWD, (long)path, (long)&fast.link_byte, 1) == -EINVAL;
}

/* May execve(path, argv, envp) go straight to the real call (if `path`
 * is not a symlink: asked when `ask_link`)? One copy, out of line, for the
 * hooks below and the spawn hooks: it lies in the same 64 KiB of hot text
 * as they do. */
__attribute__((noinline)) EG_HOT_TEXT static bool fast_ok(const char *path, char *const argv[],
    char *const envp[], bool ask_link)
{
	return fast_names_ok(path, argv) && (!ask_link || not_a_link(path)) &&
	    eg_env_untouched(&eg_ours, envp);
}

FAST_INLINE bool fast_ready(void)
{
	return __atomic_load_n(&fast.state, __ATOMIC_ACQUIRE) == FAST_READY;
}

EG_HOT_TEXT bool eg_exec_fast_may(const char *path, char *const argv[], char *const envp[])
{
	return fast_ready() && fast_ok(path, argv, envp, true);
}

/* The hooks lie in the library's first 64 KiB of code with the rest of the
 * hot text (hot_path.ld), which the first page fault of a fork child maps
 * whole (the kernel's fault-around; the session copy is mapped at a 64 KiB
 * boundary): where a hook's page boundaries fall costs nothing more. */
#define FAST_HOOK EG_EXPORT EG_HOT_TEXT

/*
 * The exec of execve and execv on the fast way. When the real execve is
 * libc's own (eg_real_execve_is_libc), the kernel is asked to refuse a
 * symlink instead of readlink asking first: execveat with
 * AT_SYMLINK_NOFOLLOW, a system call fewer (about 1 us in a fork child on
 * the development VM: the readlink's path walk is mostly the one the exec
 * makes again), and nothing can put a symlink in the program's place
 * between the question and the exec. It returns only if
 * that exec failed (a symlink: ELOOP; a missing file; a seccomp filter
 * that allows execve alone), errno untouched: the full way then decides
 * and makes the real call, so that the caller sees what the real call
 * does. Where execveat is missing (ENOSYS) or the real execve is another
 * library's (an interposer after us keeps its hook), the readlink way.
 */
__attribute__((noinline)) EG_HOT_TEXT static int exec_fast(const char *path, char *const argv[],
    char *const envp[])
{
	if (!fast_ok(path, argv, envp, false))
		return eg_execve_guarded(path, argv, envp);
	if (eg_real_execve_is_libc && !__atomic_load_n(&fast.no_execveat, __ATOMIC_RELAXED)) {
		long r = eg_sys6(SYS_execveat, AT_FDCWD, (long)path, (long)argv, (long)envp,
		    AT_SYMLINK_NOFOLLOW, 0);
		if (r != -ENOSYS)
			return eg_execve_guarded(path, argv, envp);
		__atomic_store_n(&fast.no_execveat, 1, __ATOMIC_RELAXED);
	}
	if (not_a_link(path))
		return eg_real.execve(path, argv, envp);
	return eg_execve_guarded(path, argv, envp);
}

FAST_HOOK int execve(const char *path, char *const argv[], char *const envp[])
{
	if (fast_ready())
		return exec_fast(path, argv, envp);
	return eg_execve_guarded(path, argv, envp);
}

FAST_HOOK int execv(const char *path, char *const argv[])
{
	if (fast_ready())
		return exec_fast(path, argv, *fast.environ_loc);
	return eg_execve_guarded(path, argv, environ);
}
