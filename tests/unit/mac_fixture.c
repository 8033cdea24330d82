#include "cs_build.h"

#include <string.h>

#include <gnutls/crypto.h>

#include "mac_fixture.h"

int
test_mac(const char *label, const void *p, size_t n,
    unsigned char out[STORE_MAC_LEN], void *arg)
{
	gnutls_hmac_hd_t h;

	(void)arg;
	if (gnutls_hmac_init(&h, GNUTLS_MAC_SHA256, "test-key", 8) < 0)
		return -1;
	gnutls_hmac(h, label, strlen(label) + 1);
	gnutls_hmac(h, p, n);
	gnutls_hmac_deinit(h, out);
	return 0;
}
