#include "cs_build.h"

#include <errno.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/prctl.h>

#include <gnutls/gnutls.h>

#include "secmem.h"

/*
 * The mapping starts with a header that records its length; the caller's
 * bytes follow it, aligned for any type.
 */
#define SECMEM_HDR	64

void *
secmem_alloc(size_t n)
{
	size_t		 len;
	unsigned char	*p;

	if (n > SIZE_MAX - SECMEM_HDR) {
		errno = ENOMEM;
		return NULL;
	}
	len = n + SECMEM_HDR;
	/* locked as it is mapped (one call, no fault per page); over
	 * RLIMIT_MEMLOCK that fails, and the mapping is not locked */
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS |
	    MAP_LOCKED, -1, 0);
	if (p == MAP_FAILED && (p = mmap(NULL, len, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)) == MAP_FAILED)
		return NULL;
	/* best effort: a kernel without it still runs */
	(void)madvise(p, len, MADV_DONTDUMP);
	*(size_t *)(void *)p = len;
	return p + SECMEM_HDR;
}

void
secmem_free(void *q)
{
	unsigned char	*p;
	size_t		 len;

	if (q == NULL)
		return;
	p = (unsigned char *)q - SECMEM_HDR;
	len = *(size_t *)(void *)p;
	gnutls_memset(p, 0, len);
	(void)munmap(p, len);		/* which unlocks it too */
}

int
secmem_no_dumps(void)
{
	return prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == 0 ? 0 : -1;
}
