/*
 * `execguard doctor`'s strict-mode line: is strict mode in force in this
 * session, and can this machine run it at all (eg_strict_probe runs the real
 * machinery once on a harmless exec)?
 */
#include "doctor_strict.h"

#include <stdio.h>
#include <stdlib.h>

#include "guard.h"
#include "strict_probe.h"

int doctor_strict_line(char *buf, size_t size)
{
	const char *v = getenv(EG_STRICT_VAR);
	if (v && *v) {
		/* a second listener inside the supervised tree is not what we
		 * want to test; the supervisor that started us proves it works */
		snprintf(buf, size, "in force: this session runs under `execguard run --strict`");
		return 0;
	}
	char why[512];
	if (eg_strict_probe(why, sizeof why)) {
		snprintf(buf, size, "available, not in force here (execguard run --strict -- CMD); %s",
		    why);
		return 0;
	}
	snprintf(buf, size, "not available on this machine: %s", why);
	return 0; /* the preload guard still works; strict mode was not asked for */
}
