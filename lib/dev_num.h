/*
 * A device number's major and minor parts, as glibc's <sys/sysmacros.h>
 * encodes them (Linux's 64-bit dev_t: 12 bits of major and 8 of minor low,
 * the rest high). glibc's major(), minor() and makedev() are inline
 * functions that a build for size (-Os, the preload library's) calls
 * out of line instead: each would be a symbol the loader binds in every
 * guarded process (lib/preload/libc_direct.c). Internal to lib/.
 */
#ifndef EG_DEV_NUM_H
#define EG_DEV_NUM_H

#include <stdint.h>

static inline unsigned eg_dev_major(uint64_t dev)
{
	return (unsigned)(((dev >> 8) & 0xfff) | ((dev >> 32) & ~0xfffu));
}

static inline unsigned eg_dev_minor(uint64_t dev)
{
	return (unsigned)((dev & 0xff) | ((dev >> 12) & ~0xffu));
}

static inline uint64_t eg_dev_make(unsigned maj, unsigned min)
{
	return ((uint64_t)(maj & 0xfff) << 8) | ((uint64_t)(maj & ~0xfffu) << 32) | (min & 0xff) |
	    ((uint64_t)(min & ~0xffu) << 12);
}

#endif
