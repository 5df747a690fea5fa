/*
 * Find the definition of a function that follows this library in the
 * loader's list of objects (what dlsym(RTLD_NEXT, name) returns for a
 * preloaded library, dlvsym with a version), by reading the objects' GNU
 * hash tables: no lock, no error frame, no allocation. NULL when it cannot
 * tell (no such symbol, an object without a GNU hash table, an IFUNC): the
 * caller then asks dlsym. Internal to lib/preload.
 */
#ifndef EG_NEXT_SYM_H
#define EG_NEXT_SYM_H

#include <link.h>

/* self: this library's link map (dladdr1 RTLD_DL_LINKMAP). version NULL:
 * the default version, as dlsym; else that version name, as dlvsym. */
void *eg_next_sym(const struct link_map *self, const char *name, const char *version);

/* The first definition in the list, from its head (the program), as the
 * loader binds an imported symbol: dlsym(RTLD_DEFAULT, name) for objects
 * loaded at start-up. `any`: any entry of the list. */
void *eg_scope_sym(const struct link_map *any, const char *name);

#endif
