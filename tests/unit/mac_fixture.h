/*
 * The unit tests' MAC for the storage module (a store_mac_fn):
 * HMAC-SHA256 under a fixed key, the label and its NUL in front.
 */
#ifndef CS_MAC_FIXTURE_H
#define CS_MAC_FIXTURE_H

#include <stddef.h>

#include "rectypes.h"

int	 test_mac(const char *label, const void *p, size_t n,
	    unsigned char out[STORE_MAC_LEN], void *arg);

#endif
