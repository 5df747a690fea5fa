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

#endif
