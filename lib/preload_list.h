/*
 * The entries of a preload list: the loader splits LD_PRELOAD on ':' and
 * ' ' (EG_LIST_ENV), /etc/ld.so.preload also on tabs and newlines
 * (EG_LIST_FILE; the constructor and the execguard tool also read
 * LD_PRELOAD this way when they look for our own entry). One reader for
 * the library (constructor, environment re-injection) and the execguard
 * tool (run, status, doctor). Inline, no libc: it runs in the constructor
 * of every guarded process. Internal to execguard.
 */
#ifndef EG_PRELOAD_LIST_H
#define EG_PRELOAD_LIST_H

#include <stdbool.h>
#include <stddef.h>
#include "hot_text.h"

enum eg_preload_list { EG_LIST_ENV, EG_LIST_FILE };

EG_HOT_INLINE bool eg_preload_list_sep(char c, enum eg_preload_list kind)
{
	return c == ':' || c == ' ' || (kind == EG_LIST_FILE && (c == '\t' || c == '\n'));
}

/* Next entry of the list at *v: its start and length; false at the end.
 * Advances *v past it. */
EG_HOT_INLINE bool eg_preload_list_next(const char **v, enum eg_preload_list kind, const char **tok,
    size_t *len)
{
	while (eg_preload_list_sep(**v, kind))
		(*v)++;
	if (**v == '\0')
		return false;
	*tok = *v;
	while (**v && !eg_preload_list_sep(**v, kind))
		(*v)++;
	*len = (size_t)(*v - *tok);
	return true;
}

#endif
