/*
 * lib/dev_num.h against glibc's <sys/sysmacros.h>: the same parts and the
 * same number, for numbers of every size (the prompt's terminal lock opens
 * the terminal by the parts and checks the number it gets back).
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <sys/sysmacros.h>

#include "dev_num.h"

Test(dev_num, the_parts_and_the_number_are_glibcs)
{
	uint64_t x = 0x9e3779b97f4a7c15ull;
	for (int i = 0; i < 200000; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17; /* xorshift64 */
		uint64_t dev = i < 64 ? 1ull << i : x;
		cr_assert_eq(eg_dev_major(dev), major(dev), "major of %#llx", (unsigned long long)dev);
		cr_assert_eq(eg_dev_minor(dev), minor(dev), "minor of %#llx", (unsigned long long)dev);
		unsigned maj = (unsigned)(x >> 11), min = (unsigned)(x >> 29);
		cr_assert_eq(eg_dev_make(maj, min), makedev(maj, min), "makedev(%#x, %#x)", maj, min);
		cr_assert_eq(eg_dev_major(eg_dev_make(maj, min)), maj);
		cr_assert_eq(eg_dev_minor(eg_dev_make(maj, min)), min);
	}
	/* a pty slave: /dev/pts/5 is 136:5 */
	cr_assert_eq(eg_dev_major(0x8805), 136);
	cr_assert_eq(eg_dev_minor(0x8805), 5);
}
