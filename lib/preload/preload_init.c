/*
 * The preload library's constructor.
 *
 * Once, before main (or before the first hook, if an earlier constructor
 * execs): resolve every real function with dlsym(RTLD_NEXT) (dlvsym for the
 * two versions of posix_spawn/posix_spawnp), find our own path with dladdr,
 * remember our LD_PRELOAD entry and our EXECGUARD_* values for re-injection,
 * and load the policy:
 *   - EXECGUARD_POLICY set: map that policy block here (open+mmap, no page
 *     read; or, in a session copy of the library made for that file, take
 *     the block the loader mapped with our data: copy_segment), check and adopt it on
 *     the first hook call (load_deferred); if
 *     it cannot be used, fail closed (every exec
 *     refused, with a message saying to restart `execguard run`) rather
 *     than fall back to other rules;
 *   - otherwise the compiled rule cache, when one is fresh and trusted
 *     (eg_rule_cache_load: a few stat calls, one open+mmap, no parsing),
 *   - or else the default rule files (eg_policy_load_default: parsing only,
 *     no regex is compiled here);
 *   - neither works: EG_FAIL_NO_POLICY, every exec refused (fail closed).
 * Prints nothing, leaves the environment and the file descriptors as they
 * were (the policy file is mapped and closed by eg_policy_map_file_into).
 * Every page the constructor touches is a page fault in every guarded
 * process (about 18 us each on a nested VM): it writes little, keeps its
 * stack shallow, and maps nothing it does not need.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit_emit.h"
#include "execguard.h"
#include "guard.h"
#include "policy_block.h"
#include "preload.h"
#include "hot_text.h"
#include "hot_str.h"
#include "library_copy.h"
#include "next_sym.h"
#include "preload_list.h"
#include "real_table.h"
#include "errno_fast.h"
#include "fmt.h"
#include "rule_cache.h"
#include "strict_ping.h"

extern char **environ;

/*
 * The state the constructor writes, in this order (no_reorder) so that it
 * shares as few zero pages as possible: each page of .bss written is a page
 * fault in every guarded process. The small fields first, eg_ours (whose
 * head is written and whose tail is a text buffer used only as far as
 * needed) after them, the big path buffers last.
 */
#define EG_HOT __attribute__((no_reorder))
enum { POLICY_EAGER = 0, POLICY_DEFERRED, POLICY_DONE };
#define POLICY_SLOTS 4
EG_HOT EG_HIDDEN struct {
	int init_state; /* 0 not yet, 1 running, 2 done; __atomic */
	int policy_state; /* POLICY_*; __atomic */
	unsigned slots_used; /* __atomic */
	bool timeout_from_env;
	const char *deferred_path;
	/* EXECGUARD_POLICY's file, mapped by the constructor while a
	 * descriptor is sure to be free (a process that has used up its
	 * descriptors by its first exec could not open it then, and would
	 * refuse even harmless commands), but not read: the first hook checks,
	 * advises and adopts it (load_deferred) */
	const void *raw;
	size_t raw_size;
	/* In a session copy, the block lies in our data segment, between
	 * zeros, after .bss: the zeros and the block, from the page after
	 * .bss (embedded_from) to here, the segment's end (copy_segment),
	 * never written. 0: the block is not ours. */
	uintptr_t embedded_to;
	/* What of that this process has let go of (MADV_DONTNEED): 0 nothing,
	 * 1 the zeros before the block (eg_preload_before_spawn), 2 all of it
	 * (eg_preload_before_fork). __atomic */
	int embedded_dropped;
	/* Our own path, absolute ("" if unknown): the loader's own copy of
	 * the name (dladdr), which lives as long as we are loaded; its length,
	 * measured once. */
	const char *self_path;
	size_t self_len;
	struct eg_policy slot[POLICY_SLOTS];
} eg_load;
EG_HOT EG_HIDDEN struct eg_real eg_real;
EG_HOT EG_HIDDEN struct eg_env_ours eg_ours;

/* name with symlinks resolved, kept in the capture buffer; NULL if it
 * cannot be resolved or kept. Out of line: the PATH_MAX buffer stays off
 * the constructor's usual stack (every stack page it reaches is a page
 * fault in every guarded process). */
__attribute__((noinline)) static const char *kept_realpath(const char *name)
{
	char buf[PATH_MAX];
	return realpath(name, buf) ? eg_capture_keep(buf, strlen(buf)) : NULL;
}

/* This library's entry in the loader's list (find_self_path). */
EG_HIDDEN const struct link_map *eg_self_map;

/* When the symbol tables cannot tell (next_sym.h): out of line, so the
 * constructor's common path stays small. */
__attribute__((noinline)) static void *real_sym_dl(const char *name, const char *version)
{
	void *p = version ? dlvsym(RTLD_NEXT, name, version) : NULL;
	return p ? p : dlsym(RTLD_NEXT, name);
}

#define REAL_SLOTS (sizeof(struct eg_real) / sizeof(void *))
_Static_assert(REAL_SLOTS == EG_REAL_SLOTS, "EG_REAL_NAMES lists every slot of eg_real");

/* Filled in a session copy of the library (library_copy.c) for the libc
 * `execguard run` ran with; as installed, empty. */
static const struct eg_real_table real_table
    __attribute__((used, aligned(8), section(".text.startup.execguard.rodata"))) = {
	.magic = EG_REAL_TABLE_MAGIC,
};

/* The next definition after us of every function we wrap: from the table
 * when the libc after us is the one it was filled for (and no object
 * between defines the name), else read from the symbol tables
 * (next_sym.h), dlsym only when they cannot tell. */
EG_CTOR_TEXT static void resolve_real(void)
{
	const struct eg_real_table *t = &real_table;
	__asm__("" : "+r"(t)); /* its bytes are the copy's, not these */
	const struct link_map *libc = eg_real_table_object(eg_self_map, t);
	void *slot[REAL_SLOTS];
	/* The usual order (the program, the preloaded libraries, libc): no
	 * object lies between us and the libc the table was filled for, so
	 * each function is where the table says, the lookups below would find
	 * no other definition, and the names need not be read at all. */
	if (libc != NULL && eg_self_map->l_next == libc) {
		size_t known = 0;
		for (size_t k = 0; k < REAL_SLOTS; k++) {
			slot[k] = (void *)(libc->l_addr + t->off[k]);
			known += t->off[k] != 0;
		}
		if (known == REAL_SLOTS) {
			eg_hs_copy((char *)&eg_real, (const char *)slot, sizeof slot);
			return;
		}
	}
	const char *n = EG_CTOR_STR(EG_REAL_NAMES);
	for (size_t k = 0; k < REAL_SLOTS; k++) {
		const char *v = n + eg_hs_len(n) + 1;
		const char *version = *v ? v : NULL;
		/* with the table, the objects before libc only; else all */
		const struct link_map *stop = libc && t->off[k] ? libc : NULL;
		bool reached;
		slot[k] = eg_next_sym_before(eg_self_map, stop, n, version, &reached);
		if (slot[k] == NULL && reached)
			slot[k] = (void *)(libc->l_addr + t->off[k]);
		if (slot[k] == NULL)
			slot[k] = real_sym_dl(n, version);
		n = v + eg_hs_len(v) + 1;
	}
	eg_hs_copy((char *)&eg_real, (const char *)slot, sizeof slot);
}

/* Our path with symlinks resolved (NULL until needed): computed only when
 * an entry in LD_PRELOAD or /etc/ld.so.preload is not literally our path
 * (realpath costs a readlink per path component, in every process). Kept
 * in the capture buffer; the PATH_MAX buffers of this rare path stay off
 * the constructor's usual stack (every stack page it reaches is a page
 * fault in every guarded process). */
static const char *self_real;

static const char *self_resolved(void)
{
	if (self_real == NULL) {
		self_real = kept_realpath(eg_load.self_path);
		if (self_real == NULL)
			self_real = eg_load.self_path;
	}
	return self_real;
}

/* Does the path t (n bytes, not our path literally) lead to this library? */
__attribute__((noinline)) static bool token_resolves_to_self(const char *t, size_t n)
{
	char tok[PATH_MAX], real[PATH_MAX];
	if (n >= sizeof tok)
		return false;
	memcpy(tok, t, n);
	tok[n] = '\0';
	return realpath(tok, real) && strcmp(real, self_resolved()) == 0;
}

/* The first n bytes of a and b equal? Eight at a time (no byte past n is
 * read): the constructor compares our whole path, a hundred bytes or so,
 * with the LD_PRELOAD entry that named us, in every guarded process. */
EG_CTOR_TEXT static bool same_bytes(const char *a, const char *b, size_t n)
{
	for (; n >= 8; a += 8, b += 8, n -= 8) {
		uint64_t x, y;
		__builtin_memcpy(&x, a, 8);
		__builtin_memcpy(&y, b, 8);
		if (x != y)
			return false;
	}
	return eg_hs_eq_n(a, b, n);
}

/* Is the LD_PRELOAD-style token t (n bytes) this library? */
EG_CTOR_TEXT static bool token_matches(const char *t, size_t n, const char *self_base)
{
	if (n == 0 || n >= PATH_MAX)
		return false;
	bool slash = t[0] == '/'; /* not memchr: one libc page fewer touched */
	for (size_t i = 1; i < n && !slash; i++)
		slash = t[i] == '/';
	if (!slash) /* a bare name ld.so searched for */
		return eg_hs_len(self_base) == n && eg_hs_eq_n(t, self_base, n);
	if (eg_load.self_len == n && same_bytes(t, eg_load.self_path, n))
		return true;
	return token_resolves_to_self(t, n);
}

/* Find our entry in a list of paths separated by blanks or colons (the
 * LD_PRELOAD value or /etc/ld.so.preload): its start in the list and its
 * length, or NULL. */
EG_CTOR_TEXT static const char *find_entry(const char *list, const char *self_base, size_t *len)
{
	const char *v = list, *t;
	size_t n;
	while (eg_preload_list_next(&v, EG_LIST_FILE, &t, &n))
		if (token_matches(t, n, self_base)) {
			*len = n;
			return t;
		}
	return NULL;
}

/* Out of line for the same reason as token_resolves_to_self. */
__attribute__((noinline)) static bool in_ld_so_preload(const char *self_base)
{
	char buf[8192];
	int fd = open("/etc/ld.so.preload", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	size_t len;
	return find_entry(buf, self_base, &len) != NULL;
}

/* No snprintf: this also runs on the hook path (load_deferred). */
__attribute__((noinline)) static void set_load_error(const char *a, const char *b, const char *c)
{
	char *e = eg_guard_cfg.load_error;
	size_t size = sizeof eg_guard_cfg.load_error;
	strlcpy(e, a, size);
	strlcat(e, b ? b : "", size);
	strlcat(e, c ? c : "", size);
}

/*
 * EXECGUARD_POLICY is mapped by the constructor (init) and checked and
 * adopted on the first hook call: a process that never execs reads none of
 * its pages. The path is taken from our captured copy of the variable (eg_ours), which the
 * program cannot change. Loading is lock-free: a thread (or a signal
 * handler, or a vfork child, whose writes the parent sees) that finds the
 * policy not yet loaded maps it into a slot of its own and publishes it
 * with a compare-and-swap; a loser unmaps its copy. Failures are final and
 * fail closed, as a failure in the constructor would.
 */


/* `set prompt-timeout` replaces the default; the variable still wins */
EG_HOT_TEXT static void apply_settings(const struct eg_policy *p)
{
	unsigned st = eg_policy_setting_seconds(p, "prompt-timeout", 0);
	if (st && !eg_load.timeout_from_env)
		eg_guard_cfg.prompt_timeout = eg_ours.prompt_timeout = st;
	eg_audit_apply_settings(p);
}

__attribute__((noinline)) EG_HOT_TEXT static void load_deferred(void)
{
	unsigned k = __atomic_fetch_add(&eg_load.slots_used, 1, __ATOMIC_RELAXED);
	struct eg_policy *p = NULL;
	/* the mapping is shared by every slot and kept for the process's life;
	 * the first adopter advises it before any of its pages is read. Not
	 * the block in a session copy: the advice would split our data
	 * mapping in three, each of which every fork then duplicates, and the
	 * copy's pages are in the page cache already (library_copy.c) */
	if (eg_load.raw != NULL && k == 0 && eg_load.embedded_to == 0)
		eg_policy_map_advise(eg_load.raw, eg_load.raw_size);
	if (eg_load.raw == NULL)
		p = NULL;
	else if (k < POLICY_SLOTS)
		p = eg_policy_init_block(&eg_load.slot[k], eg_load.raw, eg_load.raw_size, false) == 0
		    ? &eg_load.slot[k] : NULL;
	else
		p = eg_policy_from_block(eg_load.raw, eg_load.raw_size, false); /* a page of its own */
	if (p == NULL) {
		int saved = errno;
		set_load_error("the policy file EXECGUARD_POLICY=", eg_load.deferred_path,
		    " is missing or damaged; the user must restart `execguard run`");
		errno = saved;
		__atomic_store_n(&eg_load.policy_state, POLICY_DONE, __ATOMIC_RELEASE);
		return;
	}
	const struct eg_policy *expected = NULL;
	if (__atomic_compare_exchange_n(&eg_guard_cfg.policy, &expected, p, false, __ATOMIC_ACQ_REL,
	    __ATOMIC_ACQUIRE)) {
		eg_guard_cfg.load_fail = EG_FAIL_NONE;
		apply_settings(p);
	} else {
		int saved = errno;
		eg_policy_free(p); /* someone else's copy won */
		errno = saved;
	}
	__atomic_store_n(&eg_load.policy_state, POLICY_DONE, __ATOMIC_RELEASE);
}

/* Without EXECGUARD_POLICY (a bare LD_PRELOAD, /etc/ld.so.preload): the
 * compiled rule cache, else the rule files. Out of the constructor's own
 * pages (hot_text.h), which stay those of `execguard run`'s processes. */
__attribute__((noinline)) EG_HOT_TEXT static void load_policy_files(void)
{
	/* A compiled rule cache that is fresh and trusted (rule_cache.h):
	 * stat calls and one open+mmap, no parsing, no allocation. */
	if (eg_load.self_path[0]) {
		unsigned k = __atomic_fetch_add(&eg_load.slots_used, 1, __ATOMIC_RELAXED);
		if (k < POLICY_SLOTS &&
		    eg_rule_cache_load(&eg_load.slot[k], eg_load.self_path, environ, NULL) == 0) {
			eg_guard_cfg.policy = &eg_load.slot[k];
			eg_guard_cfg.load_fail = EG_FAIL_NONE;
			return;
		}
	}
	struct eg_diags d = { 0 };
	struct eg_policy *p = eg_policy_load_default(eg_load.self_path[0] ? eg_load.self_path : NULL, environ, &d);
	if (p) {
		eg_guard_cfg.policy = p;
		eg_guard_cfg.load_fail = EG_FAIL_NONE;
	} else if (d.n > 0) {
		const struct eg_diag *g = &d.v[0];
		snprintf(eg_guard_cfg.load_error, sizeof eg_guard_cfg.load_error, "%s%s%u%s%u%s%s",
		    g->file ? g->file : "", g->file ? ":" : "", g->line, ":", g->col, ": ",
		    g->msg ? g->msg : "error");
		if (!g->file)
			snprintf(eg_guard_cfg.load_error, sizeof eg_guard_cfg.load_error, "%s",
			    g->msg ? g->msg : "error");
	} else {
		set_load_error("the rule files could not be loaded", NULL, NULL);
	}
	eg_diags_free(&d);
}

EG_CTOR_TEXT static void load_policy(const struct eg_env_scan *v)
{
	/* eg_guard_cfg is zero: policy NULL, load_error "" */
	eg_guard_cfg.load_fail = EG_FAIL_NO_POLICY;

	if (eg_ours.overflow) {
		set_load_error("too many or too long EXECGUARD_ variables in the environment", NULL,
		    NULL);
		return;
	}
	const char *pol = v->policy;
	if (pol && *pol) {
		/* The captured copy: the same (first) occurrence of the variable. */
		eg_load.deferred_path = EG_OURS_VALUE(&eg_ours, "EXECGUARD_POLICY");
		if (!eg_load.deferred_path) {
			set_load_error("EXECGUARD_POLICY could not be kept", NULL, NULL);
			return;
		}
		/* load_fail stays EG_FAIL_NO_POLICY until the policy is mapped */
		__atomic_store_n(&eg_load.policy_state, POLICY_DEFERRED, __ATOMIC_RELEASE);
		return;
	}
	load_policy_files();
}

/*
 * Are we the shell our popen started after the human said yes in the
 * caller? The marker must name our parent, and our own argv must be
 * `sh -c COMMAND` with the approved command's hash (read from
 * /proc/self/cmdline, only when the marker is there at all).
 */
__attribute__((noinline)) static bool approved_by_parent(const char *v)
{
	unsigned long pid = 0;
	const char *p = v;
	while (*p >= '0' && *p <= '9' && pid < 0x7fffffffUL)
		pid = pid * 10 + (unsigned long)(*p++ - '0');
	if (*p++ != ':' || p == v + 1 || pid != (unsigned long)getppid())
		return false;
	uint64_t want;
	if (!eg_parse_hex64(p, &want) || p[16] != '\0')
		return false;

	int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	char buf[4096];
	unsigned field = 0;
	size_t in_field = 0;
	bool dash_c = false, ended = false;
	uint64_t h = EG_APPROVED_HASH_INIT;
	ssize_t n;
	while (!ended && (n = read(fd, buf, sizeof buf)) > 0) {
		for (ssize_t i = 0; i < n && !ended; i++) {
			char c = buf[i];
			if (field == 1)
				dash_c = (in_field == 0 && c == '-') || (in_field == 1 && c == 'c' && dash_c) ||
				    (in_field == 2 && c == '\0' && dash_c);
			if (field == 2 && c != '\0')
				h = eg_approved_hash(h, &c, 1);
			if (c == '\0') {
				ended = field == 2;
				field++;
				in_field = 0;
			} else {
				in_field++;
			}
		}
	}
	close(fd);
	return ended && dash_c && h == want;
}

/*
 * The policy block a session copy of the library carries (library_copy.h),
 * which the loader mapped with our data: where its EG_PT_POLICY header
 * says, tagged (p_paddr) with that block's hash, if that lies inside our
 * last PT_LOAD, whose end goes to *data_end. Reads only our program
 * headers, which the loader has just read too; not the block itself, whose
 * pages the first hook reads (load_deferred). NULL: we are not a copy.
 */
EG_CTOR_TEXT static const void *copy_segment(size_t *size, uint64_t *tag, uintptr_t *data_end)
{
	if (eg_self_map == NULL)
		return NULL;
	const char *base = (const char *)eg_self_map->l_addr;
	const ElfW(Ehdr) *eh = (const ElfW(Ehdr) *)base;
	const ElfW(Phdr) *ph = (const ElfW(Phdr) *)(base + eh->e_phoff), *load = NULL, *pol = NULL;
	for (unsigned i = 0; i < eh->e_phnum; i++) {
		if (ph[i].p_type == PT_LOAD)
			load = &ph[i];
		else if (ph[i].p_type == EG_PT_POLICY)
			pol = &ph[i];
	}
	if (pol == NULL || load == NULL || pol->p_vaddr < load->p_vaddr ||
	    pol->p_vaddr - load->p_vaddr > load->p_filesz ||
	    pol->p_filesz > load->p_filesz - (pol->p_vaddr - load->p_vaddr))
		return NULL;
	*size = pol->p_filesz;
	*tag = pol->p_paddr;
	*data_end = (uintptr_t)base + load->p_vaddr + load->p_filesz;
	return base + pol->p_vaddr;
}

/* A copy knows the library it was made from (EXECGUARD_LIBRARY, absolute):
 * the exec hooks inject that one if the copy disappears (env_inject.h). */
EG_CTOR_TEXT static void keep_copy_fallback(void)
{
	const char *from = EG_OURS_VALUE(&eg_ours, EG_LIBRARY_VAR);
	if (from && from[0] == '/')
		eg_ours.copy_fallback = from;
}

/*
 * Is this process under `execguard run --strict`? That command sets
 * EG_STRICT_VAR for its tree, so only a process that has it asks the
 * supervisor (strict_ping.h): the answer cannot be forged by the variable,
 * nor by some other seccomp filter, and other processes pay nothing.
 */
static bool strict_supervised(const char *v)
{
	return v != NULL && strcmp(v, "1") == 0 && eg_strict_ping();
}

/* The end of our .bss (the linker's symbol): in a copy, the zeros and the
 * policy block follow it in the same mapping. */
extern char _end[] __attribute__((visibility("hidden")));

/* The first page after .bss: in a copy, where the zeros before the block
 * begin. */
EG_HOT_INLINE uintptr_t embedded_from(void)
{
	return ((uintptr_t)_end + 4095) & ~(uintptr_t)4095;
}

/* This library's entry in the loader's list, found by its dynamic section
 * (the loader's own record of where it put us): the list head is in
 * _r_debug, which the loader keeps for debuggers. Unlike dladdr1, no lock,
 * no search of our symbol table, and no page of libc's code, in every
 * guarded process. NULL when not in the list (a dlmopen namespace). */
extern ElfW(Dyn) _DYNAMIC[] __attribute__((visibility("hidden")));

EG_CTOR_TEXT static struct link_map *self_map_listed(void)
{
	for (struct link_map *m = _r_debug.r_map; m; m = m->l_next)
		if (m->l_ld == _DYNAMIC)
			return m;
	return NULL;
}

/* Our own path, absolute, as the loader knows it; "" if unknown. Sets
 * eg_self_map. Out of line: Dl_info and the realpath buffer stay off init's
 * frame. */
__attribute__((noinline)) EG_CTOR_TEXT static const char *find_self_path(void)
{
	struct link_map *map = self_map_listed();
	const char *name = map ? map->l_name : NULL;
	if (map == NULL) {
		Dl_info info;
		if (!dladdr1((void *)&eg_load.init_state, &info, (void **)&map, RTLD_DL_LINKMAP))
			return "";
		name = info.dli_fname;
	}
	eg_self_map = map;
	if (!name || !name[0])
		return "";
	if (name[0] == '/')
		return name;
	const char *kept = kept_realpath(name);
	return kept ? kept : "";
}

EG_CTOR_TEXT static void init(void)
{
	int saved = errno;
	eg_load.init_state = 1;
	eg_errno_measure();
	eg_load.self_path = find_self_path();
	eg_load.self_len = eg_hs_len(eg_load.self_path);
	resolve_real();

	/* from the end: the last name is short, the directories long */
	const char *self_base = eg_load.self_path + eg_load.self_len;
	while (self_base > eg_load.self_path && self_base[-1] != '/')
		self_base--;

	struct eg_env_scan v;
	eg_env_scan(environ, &v);

	/* How were we loaded? LD_PRELOAD: re-inject it. /etc/ld.so.preload:
	 * every process loads us anyway; leave LD_PRELOAD alone. Otherwise
	 * (dlopen, LD_AUDIT...): inject our path so children stay guarded. */
	const char *preload_entry = NULL;
	size_t entry_len = 0;
	if (eg_load.self_path[0]) {
		const char *e = v.ld_preload ? find_entry(v.ld_preload, self_base, &entry_len) : NULL;
		if (e) {
			preload_entry = e[0] == '/' ? e : eg_load.self_path;
			entry_len = e[0] == '/' ? entry_len : eg_load.self_len;
		} else if (!in_ld_so_preload(self_base)) {
			preload_entry = eg_load.self_path;
			entry_len = eg_load.self_len;
		}
	}
	eg_guard_config_from_scan(&v);
	eg_env_ours_capture(&eg_ours, environ, eg_load.self_path[0] ? eg_load.self_path : NULL,
	    eg_load.self_len, preload_entry, entry_len, eg_guard_cfg.prompt_timeout);

	eg_load.timeout_from_env = v.prompt_timeout != NULL;
	size_t copy_size = 0;
	uint64_t copy_tag = 0, want;
	uintptr_t copy_end = 0;
	const void *copy = copy_segment(&copy_size, &copy_tag, &copy_end);
	if (copy != NULL && eg_ours.self_path != NULL && eg_ours.preload_entry != NULL)
		keep_copy_fallback();
	eg_guard_cfg.strict_supervised = strict_supervised(v.strict);
	if (!eg_guard_cfg.strict_supervised) { /* the supervisor has the rules */
		load_policy(&v);
		/* the copy's block only for the very file EXECGUARD_POLICY names */
		if (eg_load.policy_state == POLICY_DEFERRED && copy != NULL &&
		    eg_policy_name_hash(eg_load.deferred_path, &want) && want == copy_tag) {
			eg_load.raw = copy;
			eg_load.raw_size = copy_size;
			eg_load.embedded_to = (copy_end + 4095) & ~(uintptr_t)4095;
		} else if (eg_load.policy_state == POLICY_DEFERRED) {
			eg_load.raw = eg_policy_map_raw(eg_load.deferred_path, &eg_load.raw_size);
		}
		/* out of line, and its page untouched, in the usual case */
		eg_guard_cfg.approved_by_parent = v.approved != NULL && approved_by_parent(v.approved);
	} else {
		eg_guard_cfg.load_fail = EG_FAIL_NO_POLICY;
	}
	/* audit sinks; syslog is on by default when every process on the
	 * machine loads us (/etc/ld.so.preload: a system-wide install). Loaded
	 * by LD_PRELOAD, /etc/ld.so.preload may name us too (an `execguard run`
	 * in such a container): audit_emit.c looks when it first has a record,
	 * not here in every process. A deferred policy brings its settings
	 * when it is mapped (apply_settings). */
	eg_audit_configure(eg_guard_cfg.policy, environ, eg_load.self_path[0] && !preload_entry,
	    &eg_ours);
	if (eg_guard_cfg.policy)
		apply_settings(eg_guard_cfg.policy);
	__atomic_store_n(&eg_load.init_state, 2, __ATOMIC_RELEASE);
	errno = saved;
}

EG_HOT_TEXT static void ensure_ctor(void)
{
	if (__builtin_expect(__atomic_load_n(&eg_load.init_state, __ATOMIC_ACQUIRE) != 2, 0)) {
		if (eg_load.init_state != 0)
			return; /* init is running (a hook called from inside it) */
		init();
	}
}

EG_HOT_TEXT EG_HIDDEN void eg_preload_ensure_init(void)
{
	ensure_ctor();
	if (__builtin_expect(__atomic_load_n(&eg_load.policy_state, __ATOMIC_ACQUIRE) == POLICY_DEFERRED, 0))
		load_deferred();
}

/*
 * Before a fork: a session copy's policy block lies in our data segment,
 * a mapping with pages of its own (written: .data, .bss), which fork copies
 * page table entry by page table entry into the child, where a read-only
 * mapping of the file it skips (the child faults in what it reads). So the
 * first fork drops the entries of the block's pages, and of the zeros
 * around it, that this process has mapped so far (the adoption, a check,
 * and the kernel's fault-around with them); never written, they read the
 * same from the file again. Once a process: a parent that forks to exec
 * rarely reads the block again.
 */
EG_HOT_TEXT EG_HIDDEN void eg_preload_before_fork(void)
{
	/* read first: a write to our page after each fork would be a fault
	 * (the child shares it copy-on-write) */
	uintptr_t from = embedded_from();
	if (eg_load.embedded_to > from &&
	    __atomic_load_n(&eg_load.embedded_dropped, __ATOMIC_RELAXED) < 2 &&
	    __atomic_exchange_n(&eg_load.embedded_dropped, 2, __ATOMIC_RELAXED) < 2)
		(void)eg_sys_madvise((void *)from, eg_load.embedded_to - from, MADV_DONTNEED);
}

/*
 * Before a spawn (posix_spawn, system, popen), after its check: the zeros
 * between our .bss and the block, which no one reads. The loader's first
 * read of our data segment (its dynamic section, on the mapping's first
 * page) has the kernel map with it the next 15 pages that are in the page
 * cache (fault-around starts at a mapping's start), and the zeros are
 * there once the copy has been read back after an eviction: read-ahead
 * reads a file's holes too, and on a disk that reads 8 MiB ahead it reads
 * the whole copy. That is 48 KiB of Rss in every guarded process (pages
 * of the cache, shared), and page table entries that every fork copies.
 * A process that starts others is one that lives on, so the first spawn
 * lets them go, once a process: a system call, against none for a leaf
 * process, which ends soon (the constructor could do it for all, at
 * 1,300 cycles each). The block's own pages stay: the next check reads
 * them. Where the block begins inside a window of fault-around (64 KiB,
 * aligned: library_copy.c puts the block's stored codes, not its start,
 * at a boundary), the first read of one of its pages there would map the
 * zeros again with it: those pages are read first. A vfork child's exec
 * is not a spawn here (its hook cannot tell itself from a process that
 * execs); its parent's first fork or spawn drops them.
 */
EG_HOT_TEXT EG_HIDDEN void eg_preload_before_spawn(void)
{
	uintptr_t from = embedded_from(), to = (uintptr_t)eg_load.raw & ~(uintptr_t)4095;
	int none = 0;
	if (eg_load.embedded_to <= from || to <= from ||
	    __atomic_load_n(&eg_load.embedded_dropped, __ATOMIC_RELAXED) != 0 ||
	    !__atomic_compare_exchange_n(&eg_load.embedded_dropped, &none, 1, false, __ATOMIC_RELAXED,
		__ATOMIC_RELAXED))
		return;
	uintptr_t window_end = (to + EG_COPY_WINDOW - 1) & ~(uintptr_t)(EG_COPY_WINDOW - 1);
	uintptr_t block_end = (uintptr_t)eg_load.raw + eg_load.raw_size;
	for (uintptr_t page = to; page < window_end && page < block_end; page += 4096)
		(void)*(volatile const char *)page;
	(void)eg_sys_madvise((void *)from, to - from, MADV_DONTNEED);
}

__attribute__((constructor)) static void eg_preload_ctor(void)
{
	if (eg_load.init_state == 0)
		init();
}
