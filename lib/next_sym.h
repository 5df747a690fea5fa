/*
 * Find the definition of a function that follows this library in the
 * loader's list of objects (what dlsym(RTLD_NEXT, name) returns for a
 * preloaded library, dlvsym with a version), by reading the objects' GNU
 * hash tables: no lock, no error frame, no allocation. NULL when it cannot
 * tell (no such symbol, an object without a GNU hash table, an IFUNC): the
 * caller then asks dlsym. Internal to lib/.
 */
#ifndef EG_NEXT_SYM_H
#define EG_NEXT_SYM_H

#include <link.h>
#include <stdbool.h>

/* self: this library's link map (dladdr1 RTLD_DL_LINKMAP). version NULL:
 * the default version, as dlsym; else that version name, as dlvsym. */
void *eg_next_sym(const struct link_map *self, const char *name, const char *version);

/* eg_next_sym, but only in the objects before `stop` (one of those after
 * self; NULL: all of them, as eg_next_sym): *reached says the walk got to
 * stop, having read every object before it, none of which defines the
 * name. */
void *eg_next_sym_before(const struct link_map *self, const struct link_map *stop,
    const char *name, const char *version, bool *reached);

/* The object after self that table t describes (real_table.h): its
 * dynamic section at t's offset from its base, and its build ID t's. NULL
 * if none, or t is empty. Reads the header page of that one object only. */
struct eg_real_table;
const struct link_map *eg_real_table_object(const struct link_map *self, const struct eg_real_table *t);

/* The first definition in the list, from its head (the program), as the
 * loader binds an imported symbol: dlsym(RTLD_DEFAULT, name) for objects
 * loaded at start-up. `any`: any entry of the list. */
void *eg_scope_sym(const struct link_map *any, const char *name);

#endif
