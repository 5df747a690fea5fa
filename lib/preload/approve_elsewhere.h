/* The hook's side of `approve-elsewhere` (see broker_proto.h). Internal to
 * approve.c. Hook-path code. */
#ifndef EG_APPROVE_ELSEWHERE_H
#define EG_APPROVE_ELSEWHERE_H

#include <stdbool.h>
#include <stddef.h>

#include "approve.h"

/* Send `line` ("ASK {json}\n") to the session's broker and wait for the
 * answer (at most timeout_sec and a little more). Fills *out; refuses on
 * anything unexpected. */
EG_HIDDEN void eg_elsewhere_ask(const char *line, size_t len, unsigned timeout_sec,
    struct eg_approval *out);

/* Does this process know a broker (EXECGUARD_BROKER at its start)? */
EG_HIDDEN bool eg_elsewhere_configured(void);

#endif
