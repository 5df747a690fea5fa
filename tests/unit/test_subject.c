#include <criterion/criterion.h>
Test(placeholder, pending) { cr_skip_test("being written"); }
