/*
 * The JSON request an approver program reads on its stdin: one object, one
 * line, UTF-8 (invalid bytes become U+FFFD):
 *
 *   {"version":1,"command":"terraform destroy","argv":["terraform","destroy"],
 *    "cwd":"/srv/infra","rule":"terraform.destroy","reason":"...",
 *    "rule_file":"/usr/share/execguard/patterns/terraform.rules:3",
 *    "required":"yes","pid":1234,"program":"bash",
 *    "parents":"bash(1200) < claude(1100)","session":"9f2c...","timeout":120}
 *
 * Hook-path code: written into the caller's buffer, no allocation.
 */
#ifndef EG_APPROVAL_REQUEST_H
#define EG_APPROVAL_REQUEST_H

#include <stddef.h>

#include "approve.h"

/* Length written (no NUL counted, a newline at the end), or 0 if it does not
 * fit in `cap` (the caller refuses: a request cut short would show the
 * approver less than what runs). */
EG_HIDDEN size_t eg_approval_json(char *buf, size_t cap, const struct eg_approval_req *r,
    const char *session);

#endif
