/*
 * The preload library's own RTLD_NEXT lookup (lib/next_sym.c) finds
 * what the loader's dlsym/dlvsym find, for every function the library takes
 * from libc, and steps aside (NULL) where it cannot tell.
 */
#include <criterion/criterion.h>
#include <dlfcn.h>
#include <link.h>
#include <string.h>

#include "next_sym.h"
#include "real_table.h"

/* This program's own entry: everything after it is what a library loaded
 * first would find next. */
static const struct link_map *main_map(void)
{
	struct link_map *m = NULL;
	void *h = dlopen(NULL, RTLD_NOW);
	cr_assert(h && dlinfo(h, RTLD_DI_LINKMAP, &m) == 0 && m);
	return m;
}

Test(next_sym, finds_what_dlsym_finds)
{
	const char *names[] = { "execve", "execveat", "fexecve", "execvpe", "system", "popen",
		"wordexp", "open", "getpid" };
	const struct link_map *m = main_map();
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		void *want = dlsym(RTLD_DEFAULT, names[i]);
		cr_assert_not_null(want, "%s", names[i]);
		cr_expect_eq(eg_next_sym(m, names[i], NULL), want, "%s", names[i]);
	}
}

Test(next_sym, finds_each_version_as_dlvsym)
{
	const struct link_map *m = main_map();
	const char *fn[] = { "posix_spawn", "posix_spawnp" };
	const char *ver[] = { "GLIBC_2.15", "GLIBC_2.2.5" };
	for (int f = 0; f < 2; f++)
		for (int v = 0; v < 2; v++) {
			void *want = dlvsym(RTLD_DEFAULT, fn[f], ver[v]);
			cr_assert_not_null(want, "%s@%s", fn[f], ver[v]);
			cr_expect_eq(eg_next_sym(m, fn[f], ver[v]), want, "%s@%s", fn[f], ver[v]);
		}
	/* the two versions are different functions: the default one is the new */
	cr_expect_neq(dlvsym(RTLD_DEFAULT, "posix_spawn", "GLIBC_2.15"),
	    dlvsym(RTLD_DEFAULT, "posix_spawn", "GLIBC_2.2.5"));
	cr_expect_eq(eg_next_sym(m, "posix_spawn", NULL), dlsym(RTLD_DEFAULT, "posix_spawn"));
}

/* Is name, as the program would bind it, libc's own (not a sanitizer's
 * interceptor, in the ASan build)? */
static bool from_libc(const char *name)
{
	Dl_info info;
	void *p = dlsym(RTLD_DEFAULT, name);
	return p && dladdr(p, &info) && info.dli_fname && strstr(info.dli_fname, "libc.so");
}

Test(next_sym, steps_aside_where_it_cannot_tell)
{
	const struct link_map *m = main_map();
	cr_expect_null(eg_next_sym(m, "no_such_function_anywhere", NULL));
	cr_expect_null(eg_next_sym(m, "execve", "GLIBC_0.0"));
	if (from_libc("memcpy")) /* libc's is an IFUNC: left to dlsym */
		cr_expect_null(eg_next_sym(m, "memcpy", NULL));
	else /* an interceptor: a plain function, found */
		cr_expect_eq(eg_next_sym(m, "memcpy", NULL), dlsym(RTLD_DEFAULT, "memcpy"));
	cr_expect_null(eg_next_sym(NULL, "execve", NULL));
}

/* libc's own entry, and a handle that finds libc's own definitions (not a
 * sanitizer's interceptors, in the ASan build) */
static const struct link_map *libc_map(void **handle)
{
	struct link_map *m = NULL;
	void *h = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
	cr_assert(h && dlinfo(h, RTLD_DI_LINKMAP, &m) == 0 && m);
	if (handle)
		*handle = h;
	return m;
}

static struct eg_real_table filled(void)
{
	struct eg_real_table t = { .magic = EG_REAL_TABLE_MAGIC };
	cr_assert(eg_real_table_fill(&t), "this libc has a build ID in its first page");
	return t;
}

Test(next_sym, real_table_holds_where_libc_defines_each)
{
	void *h;
	const struct link_map *libc = libc_map(&h);
	struct eg_real_table t = filled();
	cr_expect(memcmp(t.magic, EG_REAL_TABLE_MAGIC, sizeof t.magic) == 0);
	cr_expect_eq(t.ld_off, (uint64_t)((ElfW(Addr))libc->l_ld - libc->l_addr));
	cr_expect(t.id_len >= 8 && t.id_len <= EG_REAL_ID_MAX, "%u", t.id_len);
	const char *n = EG_REAL_NAMES;
	for (size_t k = 0; k < EG_REAL_SLOTS; k++) {
		const char *v = n + strlen(n) + 1;
		void *want = *v ? dlvsym(h, n, v) : dlsym(h, n);
		cr_assert_not_null(want, "%s@%s", n, v);
		cr_expect_neq(t.off[k], 0, "%s@%s", n, v);
		cr_expect_eq((void *)(libc->l_addr + t.off[k]), want, "%s@%s", n, v);
		n = v + strlen(v) + 1;
	}
}

Test(next_sym, real_table_names_its_own_libc_only)
{
	const struct link_map *m = main_map(), *libc = libc_map(NULL);
	struct eg_real_table t = filled(), bad;
	cr_expect_eq(eg_real_table_object(m, &t), libc);
	bad = t;
	bad.id[bad.id_len - 1] ^= 1; /* another build of libc */
	cr_expect_null(eg_real_table_object(m, &bad));
	bad = t;
	bad.id_len--;
	cr_expect_null(eg_real_table_object(m, &bad));
	bad = t;
	bad.ld_off += 8; /* no object has its dynamic section there */
	cr_expect_null(eg_real_table_object(m, &bad));
	bad = (struct eg_real_table){ .magic = EG_REAL_TABLE_MAGIC }; /* as installed: empty */
	cr_expect_null(eg_real_table_object(m, &bad));
	cr_expect_null(eg_real_table_object(NULL, &t));
	/* libc is not after itself */
	cr_expect_null(eg_real_table_object(libc, &t));
}

Test(next_sym, before_stops_at_the_object_given)
{
	const struct link_map *m = main_map(), *libc = libc_map(NULL);
	bool reached = false;
	/* between this program and libc, what is there defines no execveat
	 * unless a sanitizer intercepts it */
	void *p = eg_next_sym_before(m, libc, "execveat", NULL, &reached);
	if (from_libc("execveat")) {
		cr_expect_null(p);
		cr_expect(reached);
	} else {
		cr_expect_eq(p, dlsym(RTLD_DEFAULT, "execveat"));
	}
	/* a stop not in the list: every object read, none reached */
	static const struct link_map nowhere;
	cr_expect_null(eg_next_sym_before(m, &nowhere, "no_such_function_anywhere", NULL, &reached));
	cr_expect(!reached);
	cr_expect_eq(eg_next_sym_before(m, &nowhere, "getpid", NULL, &reached), eg_next_sym(m, "getpid", NULL));
	cr_expect(!reached);
	/* no stop: eg_next_sym itself */
	cr_expect_eq(eg_next_sym_before(m, NULL, "getpid", NULL, &reached), eg_next_sym(m, "getpid", NULL));
	cr_expect(!reached);
}
