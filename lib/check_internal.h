/* Engine internals shared between check.c and the lint support. */
#ifndef EG_CHECK_INTERNAL_H
#define EG_CHECK_INTERNAL_H

#include <stdint.h>

#include "execguard.h"

/* Does rule `rule` alone (its unless lines included, cwd ignored) catch any
 * command of the shell command line `cmdline`, unwrapped as by `check`?
 * 1 yes, 0 no, -1 it could not be evaluated. */
int eg_rule_catches_text(const struct eg_policy *p, uint32_t rule, const char *cmdline,
    struct eg_check_scratch *scratch);

#endif
