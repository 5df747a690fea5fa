/*
 * `execguard doctor`'s strict-mode line, kept apart for the strict mode
 * (seccomp) work to fill in.
 *
 * TODO(strict mode): report whether this process runs under execguard's
 * seccomp filter (and so whether direct execve system calls of static
 * binaries are caught), and return 1 when strict mode was asked for but is
 * not in force. Until then the line says it does not exist yet.
 */
#include "doctor_strict.h"

#include <stdio.h>

int doctor_strict_line(char *buf, size_t size)
{
	snprintf(buf, size, "not available in this version (TODO: strict mode)");
	return 0;
}
