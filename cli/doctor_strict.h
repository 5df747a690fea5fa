/* `execguard doctor`'s line about strict mode (seccomp). */
#ifndef EG_CLI_DOCTOR_STRICT_H
#define EG_CLI_DOCTOR_STRICT_H

#include <stddef.h>

/* Write the value of doctor's "strict mode:" line into buf. Returns 1 when
 * what it found is a problem (counted in doctor's exit status), else 0. */
int doctor_strict_line(char *buf, size_t size);

#endif
