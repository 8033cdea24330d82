/*
 * wlock: the write lock of a process's store (dbenv_run_txn).  A mutex
 * that a running thread may take while it is free, as a plain one lets
 * it (no hand-over to a sleeping thread: throughput), until the oldest
 * waiter has waited starve_us; from then on each unlock hands the lock
 * to the oldest waiter, in order, and newcomers queue.  With many
 * threads storing at once a plain mutex let some requests lose the race
 * again and again (p99 six times the median at 64 connections); Go's
 * sync.Mutex has the same starvation mode, with the same 1 ms.
 */
#ifndef CS_WLOCK_H
#define CS_WLOCK_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#define WLOCK_STARVE_US	1000	/* a waiter this old is handed the lock */

struct wlock_waiter;

struct wlock {
	pthread_mutex_t		 m;	/* the members below */
	int			 held;
	struct wlock_waiter	*head;	/* the queue, oldest first */
	struct wlock_waiter	*tail;
	uint64_t		 starve_us;
};

/* 0, or an errno value. */
int	wlock_init(struct wlock *, uint64_t starve_us);
void	wlock_destroy(struct wlock *);
void	wlock_lock(struct wlock *);
void	wlock_unlock(struct wlock *);
/* The threads waiting for it now. */
size_t	wlock_queued(struct wlock *);

#endif
