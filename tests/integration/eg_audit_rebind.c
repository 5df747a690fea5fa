/*
 * A hostile LD_AUDIT library, for test_bypass.sh: it binds every reference
 * to the exec functions to the C library's own definitions instead of the
 * first definition in the search order (libexecguard.so's hooks). It shows
 * what an agent that can build and load its own code can do; the test
 * asserts the documented status of this route (SECURITY.md).
 */
#include <link.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#define EXPORT __attribute__((visibility("default")))

EXPORT unsigned la_version(unsigned version);
EXPORT unsigned la_objopen(struct link_map *map, Lmid_t lmid, uintptr_t *cookie);
EXPORT uintptr_t la_symbind64(Elf64_Sym *sym, unsigned ndx, uintptr_t *refcook,
    uintptr_t *defcook, unsigned *flags, const char *symname);

unsigned la_version(unsigned version)
{
	(void)version;
	return LAV_CURRENT;
}

unsigned la_objopen(struct link_map *map, Lmid_t lmid, uintptr_t *cookie)
{
	(void)map, (void)lmid, (void)cookie;
	return LA_FLG_BINDTO | LA_FLG_BINDFROM;
}

uintptr_t la_symbind64(Elf64_Sym *sym, unsigned ndx, uintptr_t *refcook, uintptr_t *defcook,
    unsigned *flags, const char *symname)
{
	(void)ndx, (void)refcook, (void)defcook, (void)flags;
	/* This library's own namespace has its own copy of the C library; its
	 * execve is as good as anyone's. */
	if (strcmp(symname, "execve") == 0)
		return (uintptr_t)&execve;
	return sym->st_value;
}
