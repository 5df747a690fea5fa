/* One UTF-8 decoder for every writer that escapes text (quoting for the
 * terminal, JSON for the audit log and approvers, the prompt). Hook-path
 * safe: no allocation, no state. */
#ifndef EG_UTF8_H
#define EG_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* Decode the sequence at s, of which n bytes may be read (SIZE_MAX for a
 * NUL-terminated string: a NUL ends any sequence as invalid). Returns its
 * length 1..4 and the code point in *cp (cp may be NULL), or 0 if it is not
 * valid UTF-8 (overlong forms, surrogates and code points above U+10FFFF
 * included). */
size_t eg_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp);

#endif
