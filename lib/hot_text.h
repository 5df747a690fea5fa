/*
 * Code that runs in every guarded process (the preload library's
 * constructor) or on every exec (the hooks' allow path) sits together at
 * the start of .text, beside .init, which the loader runs anyway. Each page
 * of code touched is a page fault in every guarded process, and in a fork
 * child the hook runs in, every text page is faulted in anew (fork does not
 * copy page tables of file mappings); one 64 KiB fault-around window then
 * covers it all. Internal to lib/.
 */
#ifndef EG_HOT_TEXT_H
#define EG_HOT_TEXT_H

#define EG_HOT_TEXT __attribute__((section(".text.hot.execguard")))

/* A helper in a header, for that code: the library is built for size
 * (lib/meson.build), so the compiler may keep a small helper out of line,
 * a copy in each object that uses it; it stays among the code that calls
 * it instead of landing in the object's .text, far away. */
#define EG_HOT_INLINE static inline __attribute__((section(".text.hot.execguard")))

/* Code only the preload constructor runs, apart from the hooks' code: a
 * process that never execs (most of them) then reads only these pages of
 * ours. The linker puts .text.startup.* before .text.hot.*, so the two
 * groups stay contiguous whatever the order of the objects. */
#define EG_CTOR_TEXT __attribute__((section(".text.startup.execguard")))
/* A string literal placed in section `sec`, beside the code that reads it */
#define EG_STR_IN(sec, lit) ({ static const char eg_str_[] __attribute__((section(sec))) = lit; eg_str_; })
/* A string literal the constructor reads, beside its code */
#define EG_CTOR_STR(lit) EG_STR_IN(".text.startup.execguard.rodata", lit)

/* Constants the constructor reads (variable names, the names given to
 * dlsym), kept beside that code instead of in .rodata, which is another
 * mapping: one page fault fewer in every guarded process. */
#define EG_HOT_RODATA __attribute__((section(".text.hot.execguard.rodata")))
/* A string literal placed there: EG_HOT_STR("LD_PRELOAD=") */
#define EG_HOT_STR(lit) EG_STR_IN(".text.hot.execguard.rodata", lit)

#endif
