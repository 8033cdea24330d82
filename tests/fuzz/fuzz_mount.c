#include "cs_build.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mount.h"

/*
 * libFuzzer harness for the mount point (mount.h): the input is the raw
 * request path, SCRIPT_NAME, PATH_INFO and CREDSTORE_MOUNT separated by
 * NUL bytes (a missing field is unset).  Every candidate must be a head of the path
 * that ends at a segment boundary and is a valid mount point: nothing a
 * link, a Location or a cookie's Path could be abused with (no "//" that
 * names another host, no ';' ',' quote, space or control byte).
 */

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check_mount(const char *m, size_t n)
{
	size_t i;

	if (n == 0)
		return;
	if (n > MOUNT_MAX || m[0] != '/' || m[n - 1] == '/')
		abort();
	for (i = 0; i < n; i++) {
		if ((unsigned char)m[i] <= 0x20 || (unsigned char)m[i] >= 0x7f ||
		    strchr(";,\"<>\\?#", m[i]) != NULL)
			abort();
		if (i > 0 && m[i] == '/' && m[i - 1] == '/')
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char			*buf, *f[4] = { NULL, NULL, NULL, NULL };
	struct mount_cand	 mc;
	size_t			 i, k = 0, ulen;
	int			 rc;

	if ((buf = malloc(size + 1)) == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	f[k++] = buf;
	for (i = 0; i < size && k < 4; i++)
		if (buf[i] == '\0')
			f[k++] = buf + i + 1;
	ulen = strlen(f[0]);
	rc = mount_candidates(f[0], f[1], f[2], f[3], &mc);
	if (rc == -1 && (f[3] == NULL || mount_valid(f[3], mount_trim(f[3]))))
		abort();
	if (mc.n < 0 || mc.n > MOUNT_CANDS || (f[3] != NULL && mc.n > 1) ||
	    (rc == -1 && mc.n != 0))
		abort();
	for (i = 0; i < (size_t)mc.n; i++) {
		if (mc.len[i] > ulen || !mount_valid(f[0], mc.len[i]))
			abort();
		/* the root is the whole path, whatever it is (404 if odd) */
		if (mc.len[i] > 0 && f[0][mc.len[i]] != '/' &&
		    f[0][mc.len[i]] != '\0')
			abort();
		check_mount(f[0], mc.len[i]);
	}
	free(buf);
	return 0;
}
