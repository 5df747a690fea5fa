/*
 * The preload library's own RTLD_NEXT lookup (lib/preload/next_sym.c) finds
 * what the loader's dlsym/dlvsym find, for every function the library takes
 * from libc, and steps aside (NULL) where it cannot tell.
 */
#include <criterion/criterion.h>
#include <dlfcn.h>
#include <link.h>
#include <string.h>

#include "next_sym.h"

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
