/*
 * A private, writable copy of a policy's block, adopted as a mapped file
 * would be, for unit tests that damage or inspect a block without touching
 * the original. Asserts that the copy validates. Include after criterion.h
 * and policy_block.h.
 */
#ifndef EG_TEST_POLICY_COPY_H
#define EG_TEST_POLICY_COPY_H

#include <stdlib.h>
#include <string.h>

static struct eg_policy *copy_policy(const struct eg_policy *p, unsigned char **mem)
{
	size_t size;
	const void *blk = eg_policy_block(p, &size);
	*mem = aligned_alloc(8, (size + 7) / 8 * 8);
	cr_assert_not_null(*mem);
	memcpy(*mem, blk, size);
	struct eg_policy *q = eg_policy_from_block(*mem, size, false);
	cr_assert_not_null(q, "the copy validates");
	return q;
}

#endif
