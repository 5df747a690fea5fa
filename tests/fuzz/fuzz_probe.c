/* Configure-time probe: can this clang link a libFuzzer target with ASan and
 * UBSan? (Debian: clang plus libclang-rt-14-dev.) */
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	(void)data;
	(void)size;
	return 0;
}
