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

/* May execve(path, argv, envp) go straight to the real call? */
FAST_INLINE bool fast_ok(const char *path, char *const argv[], char *const envp[])
{
	if (eg_audit_cfg.execs || eg_guard_cfg.strict_supervised || eg_real.execve == NULL)
		return false;
	if (path == NULL || path[0] == '\0' || argv == NULL || argv[0] == NULL)
		return false;
	if (!name_unlisted(argv[0]) || !name_unlisted(path))
		return false;
	if (eg_sys4(SYS_readlinkat, AT_FDCWD, (long)path, (long)&fast.link_byte, 1) != -EINVAL)
		return false;
	return eg_env_untouched(&eg_ours, envp);
}

FAST_INLINE bool fast_ready(void)
{
	return __atomic_load_n(&fast.state, __ATOMIC_ACQUIRE) == FAST_READY;
}

/* One copy, out of line, for the hooks below and the spawn hooks: it lies
 * in the same 64 KiB of hot text as they do. */
__attribute__((noinline)) EG_HOT_TEXT bool eg_exec_fast_may(const char *path, char *const argv[],
    char *const envp[])
{
	return fast_ready() && fast_ok(path, argv, envp);
}

/* The hooks lie in the library's first 64 KiB of code with the rest of the
 * hot text (hot_path.ld), which the first page fault of a fork child maps
 * whole (the kernel's fault-around; the session copy is mapped at a 64 KiB
 * boundary): where a hook's page boundaries fall costs nothing more. */
#define FAST_HOOK EG_EXPORT EG_HOT_TEXT

FAST_HOOK int execve(const char *path, char *const argv[], char *const envp[])
{
	if (eg_exec_fast_may(path, argv, envp))
		return eg_real.execve(path, argv, envp);
	return eg_execve_guarded(path, argv, envp);
}

FAST_HOOK int execv(const char *path, char *const argv[])
{
	if (fast_ready()) {
		char *const *envp = *fast.environ_loc;
		if (eg_exec_fast_may(path, argv, envp))
			return eg_real.execve(path, argv, envp);
	}
	return eg_execve_guarded(path, argv, environ);
}
