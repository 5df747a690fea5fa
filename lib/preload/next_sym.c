/*
 * The real exec functions, found the way dlsym(RTLD_NEXT, ...) finds them,
 * by reading the loaded objects' own symbol tables. See next_sym.h.
 *
 * Why not dlsym: it runs in the constructor of every guarded process, and
 * each call goes through the loader's lock and its error-catching frame
 * (setjmp), about a thousand instructions and, in a process that has not
 * used them, a few more libc and loader text pages to fault in. Reading a
 * GNU hash table is a few dozen instructions on pages the loader has just
 * read while binding the program's own symbols.
 */
#include "next_sym.h"

#include <elf.h>
#include <link.h>
#include <stdbool.h>
#include <stdint.h>

#include "hot_str.h"
#include "hot_text.h"

/* What the lookup needs of one object's dynamic section. */
struct obj {
	ElfW(Addr) base;
	const ElfW(Sym) *symtab;
	const char *strtab;
	const uint32_t *gnu_hash;
	const ElfW(Half) *versym;
	const ElfW(Verdef) *verdef;
};

/* The loader rebases some dynamic entries in place (DT_SYMTAB, DT_STRTAB,
 * DT_GNU_HASH, DT_VERSYM) and not others (DT_VERDEF), and none in the vDSO:
 * an address below the object's base is still an offset. */
EG_CTOR_TEXT static const void *dyn_ptr(const struct obj *o, ElfW(Addr) v)
{
	return (const void *)(v < o->base ? o->base + v : v);
}

EG_CTOR_TEXT static bool obj_read(const struct link_map *m, struct obj *o)
{
	*o = (struct obj){ .base = m->l_addr };
	if (m->l_ld == NULL)
		return false;
	for (const ElfW(Dyn) *d = m->l_ld; d->d_tag != DT_NULL; d++) {
		switch (d->d_tag) {
		case DT_SYMTAB: o->symtab = dyn_ptr(o, d->d_un.d_ptr); break;
		case DT_STRTAB: o->strtab = dyn_ptr(o, d->d_un.d_ptr); break;
		case DT_GNU_HASH: o->gnu_hash = dyn_ptr(o, d->d_un.d_ptr); break;
		case DT_VERSYM: o->versym = dyn_ptr(o, d->d_un.d_ptr); break;
		case DT_VERDEF: o->verdef = dyn_ptr(o, d->d_un.d_ptr); break;
		default: break;
		}
	}
	return o->symtab && o->strtab && o->gnu_hash;
}

/* The name of version index `ndx` in o, or NULL. */
EG_CTOR_TEXT static const char *version_name(const struct obj *o, unsigned ndx)
{
	const ElfW(Verdef) *vd = o->verdef;
	for (unsigned guard = 0; vd && guard < 1024; guard++) {
		if (vd->vd_ndx == ndx) {
			const ElfW(Verdaux) *a = (const void *)((const char *)vd + vd->vd_aux);
			return o->strtab + a->vda_name;
		}
		if (vd->vd_next == 0)
			break;
		vd = (const void *)((const char *)vd + vd->vd_next);
	}
	return NULL;
}

/* Does symbol i of o have the version asked for? version NULL: the
 * default one (what an unversioned dlsym binds), else that name, hidden
 * (non-default) versions included, as dlvsym. */
EG_CTOR_TEXT static bool version_ok(const struct obj *o, uint32_t i, const char *version)
{
	if (o->versym == NULL)
		return version == NULL;
	ElfW(Half) v = o->versym[i];
	if (version == NULL)
		return (v & 0x8000) == 0;
	const char *name = version_name(o, v & 0x7fff);
	return name != NULL && eg_hs_eq(name, version);
}

/* name@version defined in o (a function, not an IFUNC resolver), or NULL. */
EG_CTOR_TEXT static void *obj_lookup(const struct obj *o, const char *name, const char *version)
{
	uint32_t h = 5381;
	for (const unsigned char *c = (const unsigned char *)name; *c; c++)
		h = h * 33 + *c;
	const uint32_t *gh = o->gnu_hash;
	uint32_t nbuckets = gh[0], symoffset = gh[1], bloom_size = gh[2], shift = gh[3];
	if (nbuckets == 0 || bloom_size == 0)
		return NULL;
	const ElfW(Addr) *bloom = (const void *)(gh + 4);
	const uint32_t *buckets = (const void *)(bloom + bloom_size);
	const uint32_t *chain = buckets + nbuckets;
	const unsigned bits = sizeof(ElfW(Addr)) * 8;
	ElfW(Addr) word = bloom[(h / bits) & (bloom_size - 1)];
	ElfW(Addr) mask = ((ElfW(Addr))1 << (h % bits)) | ((ElfW(Addr))1 << ((h >> shift) % bits));
	if ((word & mask) != mask)
		return NULL;
	uint32_t i = buckets[h % nbuckets];
	if (i < symoffset)
		return NULL;
	for (;; i++) {
		uint32_t h2 = chain[i - symoffset];
		const ElfW(Sym) *s = &o->symtab[i];
		if ((h | 1) == (h2 | 1) && s->st_shndx != SHN_UNDEF && s->st_value != 0 &&
		    eg_hs_eq(o->strtab + s->st_name, name) && version_ok(o, i, version)) {
			if (ELF64_ST_TYPE(s->st_info) != STT_FUNC)
				return NULL; /* an IFUNC or stranger: let dlsym resolve it */
			return (void *)(o->base + s->st_value);
		}
		if (h2 & 1)
			return NULL;
	}
}

/* name@version in the first object from m on that defines it; NULL also
 * when an object on the way cannot be read (dlsym's business then). */
EG_CTOR_TEXT static void *lookup_from(const struct link_map *m, const char *name, const char *version)
{
	for (; m; m = m->l_next) {
		struct obj o;
		if (!obj_read(m, &o))
			return NULL; /* no GNU hash table: dlsym's business */
		void *p = obj_lookup(&o, name, version);
		if (p)
			return p;
	}
	return NULL;
}

EG_CTOR_TEXT void *eg_next_sym(const struct link_map *self, const char *name, const char *version)
{
	return self ? lookup_from(self->l_next, name, version) : NULL;
}

EG_CTOR_TEXT void *eg_scope_sym(const struct link_map *any, const char *name)
{
	if (any == NULL)
		return NULL;
	const struct link_map *m = any;
	while (m->l_prev)
		m = m->l_prev;
	return lookup_from(m, name, NULL);
}
