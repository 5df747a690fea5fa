/* See errno_fast.h. In the lowest of lib/'s libraries that use it (the
 * subject builder), so that every program linking them finds it whatever
 * the link order. */
#include "errno_fast.h"

long eg_errno_off; /* the preload constructor sets it */
