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
#include <string.h>

#include "hot_str.h"
#include "hot_text.h"
#include "real_table.h"

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

/* name@version in the first object from m on, before `stop` (NULL: to the
 * list's end), that defines it; NULL also when an object on the way cannot
 * be read (dlsym's business then). *reached, if asked: the walk got to
 * stop. */
EG_CTOR_TEXT static void *lookup_from(const struct link_map *m, const struct link_map *stop,
    const char *name, const char *version, bool *reached)
{
	if (reached)
		*reached = false;
	for (; m; m = m->l_next) {
		if (m == stop) {
			*reached = true;
			return NULL;
		}
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
	return self ? lookup_from(self->l_next, NULL, name, version, NULL) : NULL;
}

EG_CTOR_TEXT void *eg_next_sym_before(const struct link_map *self, const struct link_map *stop,
    const char *name, const char *version, bool *reached)
{
	return lookup_from(self ? self->l_next : NULL, stop, name, version, reached);
}

/* The GNU build ID in the notes of m's first page (where the ELF header
 * and program headers are, at its base, and where toolchains put the
 * notes): false if it has none there. */
EG_CTOR_TEXT static bool obj_build_id(const struct link_map *m, const unsigned char **id, size_t *len)
{
	const unsigned char *base = (const unsigned char *)m->l_addr;
	const ElfW(Ehdr) *eh = (const ElfW(Ehdr) *)base;
	if (eh->e_ident[EI_MAG0] != ELFMAG0 || eh->e_ident[EI_MAG1] != ELFMAG1 ||
	    eh->e_ident[EI_MAG2] != ELFMAG2 || eh->e_ident[EI_MAG3] != ELFMAG3 ||
	    eh->e_ident[EI_CLASS] != ELFCLASS64 || eh->e_phentsize != sizeof(ElfW(Phdr)) ||
	    eh->e_phoff < sizeof *eh || eh->e_phoff + (size_t)eh->e_phnum * sizeof(ElfW(Phdr)) > 4096)
		return false;
	const ElfW(Phdr) *ph = (const ElfW(Phdr) *)(base + eh->e_phoff);
	for (unsigned i = 0; i < eh->e_phnum; i++) {
		if (ph[i].p_type != PT_NOTE || ph[i].p_vaddr + ph[i].p_filesz > 4096)
			continue;
		size_t at = ph[i].p_vaddr, end = at + ph[i].p_filesz;
		while (at + sizeof(ElfW(Nhdr)) <= end) {
			const ElfW(Nhdr) *n = (const ElfW(Nhdr) *)(base + at);
			size_t name_at = at + sizeof *n, desc_at = name_at + ((n->n_namesz + 3u) & ~3u);
			size_t next = desc_at + ((n->n_descsz + 3u) & ~3u);
			if (next > end || next <= at)
				break;
			const unsigned char *nm = base + name_at;
			if (n->n_type == NT_GNU_BUILD_ID && n->n_namesz == 4 && nm[0] == 'G' && nm[1] == 'N' &&
			    nm[2] == 'U' && nm[3] == '\0' && n->n_descsz > 0) {
				*id = base + desc_at;
				*len = n->n_descsz;
				return true;
			}
			at = next;
		}
	}
	return false;
}

EG_CTOR_TEXT const struct link_map *eg_real_table_object(const struct link_map *self,
    const struct eg_real_table *t)
{
	if (self == NULL || t->ld_off == 0 || t->id_len == 0 || t->id_len > EG_REAL_ID_MAX)
		return NULL;
	for (const struct link_map *m = self->l_next; m; m = m->l_next) {
		/* a base of 0 is an object linked to run where it is (prelinked):
		 * its headers need not be at its base, which obj_build_id reads */
		if (m->l_ld == NULL || m->l_addr == 0 || (ElfW(Addr))m->l_ld - m->l_addr != t->ld_off)
			continue;
		const unsigned char *id;
		size_t len;
		if (obj_build_id(m, &id, &len) && len == t->id_len &&
		    eg_hs_eq_n((const char *)id, (const char *)t->id, len))
			return m;
		return NULL;
	}
	return NULL;
}

bool eg_real_table_fill(struct eg_real_table *t)
{
	const struct link_map *libc = NULL;
	for (const struct link_map *m = _r_debug.r_map; m && !libc; m = m->l_next) {
		const char *base = m->l_name ? m->l_name : "";
		for (const char *c = base; *c; c++)
			if (*c == '/')
				base = c + 1;
		if (eg_hs_prefix(base, "libc.so."))
			libc = m;
	}
	const unsigned char *id;
	size_t len;
	if (libc == NULL || libc->l_ld == NULL || libc->l_addr == 0 || !obj_build_id(libc, &id, &len) ||
	    len > EG_REAL_ID_MAX)
		return false;
	struct obj o;
	if (!obj_read(libc, &o))
		return false;
	struct eg_real_table f;
	memset(&f, 0, sizeof f); /* padding too: the copy's bytes are compared */
	f.ld_off = (ElfW(Addr))libc->l_ld - libc->l_addr;
	f.id_len = (uint32_t)len;
	eg_hs_copy(f.magic, t->magic, sizeof f.magic);
	eg_hs_copy((char *)f.id, (const char *)id, len);
	const char *n = EG_REAL_NAMES;
	for (size_t k = 0; k < EG_REAL_SLOTS; k++) {
		const char *v = n + eg_hs_len(n) + 1;
		void *p = obj_lookup(&o, n, *v ? v : NULL);
		f.off[k] = p ? (uint64_t)((ElfW(Addr))p - libc->l_addr) : 0;
		n = v + eg_hs_len(v) + 1;
	}
	*t = f;
	return true;
}

EG_CTOR_TEXT void *eg_scope_sym(const struct link_map *any, const char *name)
{
	if (any == NULL)
		return NULL;
	const struct link_map *m = any;
	while (m->l_prev)
		m = m->l_prev;
	return lookup_from(m, NULL, name, NULL, NULL);
}
