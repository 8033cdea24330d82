/*
 * secmem: memory for long-lived keys (the keyring's keys and MAC key, the
 * JWT secret).  Each allocation is its own anonymous mapping marked
 * MADV_DONTDUMP, so a core dump (the kernel's, or gdb's gcore) does not
 * hold it, and locked in memory when the limit allows (never swapped).
 * secmem_free wipes before unmapping.  Short-lived plaintext stays on the
 * heap and is wiped with secure_free (util.h).
 */
#ifndef CS_SECMEM_H
#define CS_SECMEM_H

#include <stddef.h>

/* n zeroed bytes, or NULL (errno set).  Free with secmem_free. */
void	*secmem_alloc(size_t n);
/* Wipes and unmaps p (from secmem_alloc); NULL is fine. */
void	 secmem_free(void *p);
/*
 * For a process that holds keys: no core dumps of it at all and no
 * ptrace by other users of the machine (PR_SET_DUMPABLE 0).  0 or -1.
 */
int	 secmem_no_dumps(void);

#endif
