/*
 * Shared by the fuzz targets: turn the fuzzer's bytes into an argv and an
 * environment. Byte 0 is a set of flags for the target; the rest is split
 * at NUL bytes into words. A word that is exactly "\xff" ends the argv; the
 * words after it are the environment ("NAME=value"). Empty words are kept
 * (an empty argument is a real argv word).
 */
#ifndef EG_FUZZ_INPUT_H
#define EG_FUZZ_INPUT_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_MAX_WORDS 512

struct fuzz_input {
	unsigned flags;
	char *text; /* owned copy, NUL-terminated words */
	char *argv[FUZZ_MAX_WORDS + 1];
	char *envp[FUZZ_MAX_WORDS + 1];
	size_t argc, envc;
};

static inline int fuzz_input_split(struct fuzz_input *in, const uint8_t *data, size_t size)
{
	memset(in, 0, sizeof *in);
	if (size == 0)
		return -1;
	in->flags = data[0];
	/* Exactly the bytes given, plus a terminator: ASan catches any read past
	 * the last word. */
	in->text = malloc(size);
	if (in->text == NULL)
		return -1;
	memcpy(in->text, data + 1, size - 1);
	in->text[size - 1] = '\0';
	char **dst = in->argv;
	size_t *n = &in->argc;
	char *w = in->text;
	char *end = in->text + (size - 1);
	for (;;) {
		char *z = memchr(w, '\0', (size_t)(end - w) + 1);
		if (dst == in->argv && z - w == 1 && (unsigned char)w[0] == 0xff) {
			dst = in->envp;
			n = &in->envc;
		} else if (*n < FUZZ_MAX_WORDS) {
			dst[(*n)++] = w;
		}
		if (z == end)
			break;
		w = z + 1;
	}
	return 0;
}

static inline void fuzz_input_free(struct fuzz_input *in)
{
	free(in->text);
	in->text = NULL;
}

#endif
