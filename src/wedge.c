/*
 * wedge: a thread stuck inside the storage for good.
 *
 * A process killed (kill -9, the OOM killer) while it holds one of
 * Berkeley DB's mutexes in the shared regions never releases it: 5.3's
 * mutexes wait without a timeout, and DB_FAILCHK, which would release
 * them, is left out (README, "Storage").  A thread of another process
 * that then needs that mutex waits forever, inside dbenv_enter, holding
 * the store's read lock.  Recovery by the next process to open the
 * environment (DB_REGISTER) rebuilds the regions, but the stuck thread
 * stays in the old ones, and this process can no longer reopen: the
 * reopen waits for every thread to leave.  From then on each of its
 * requests waits too.  Nothing but the end of the process frees it.
 *
 * So a process that asks for it (STORE_EXIT_WEDGED: a FastCGI process,
 * which the web server starts again) ends itself, with status 1, when
 *   - a reopen cannot have the environment to itself within the store's
 *     reopen wait (30 s; longer while another thread of the process is
 *     reopening), or
 *   - its watchdog finds a thread that has been inside the storage for
 *     longer than it may be (store_wedged).
 * Ending with the environment open is what kill -9 does: the next open
 * runs recovery.
 */
#include "cs_build.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "store.h"
#include "store_int.h"
#include "util.h"

#define SLOTS	512	/* threads tracked (fcgi_threads is at most 256) */

/* when each thread entered the storage (mono ms + 1), 0: outside */
static _Atomic uint64_t		since[SLOTS];
static atomic_int		nslots;
static _Thread_local int	slot = -1;

static uint64_t
stamp_ms(void)
{
	return mono_ns() / 1000000 + 1;
}

void
wedge_enter(void)
{
	if (slot == -1)
		slot = atomic_fetch_add(&nslots, 1);
	if (slot < SLOTS)
		atomic_store(&since[slot], stamp_ms());
}

void
wedge_leave(void)
{
	if (slot >= 0 && slot < SLOTS)
		atomic_store(&since[slot], 0);
}

int
store_wedged(uint64_t ms)
{
	uint64_t	now = stamp_ms(), t;
	int		i, n = atomic_load(&nslots);

	for (i = 0; i < n && i < SLOTS; i++)
		/* t may be newer than now: entered after now was read */
		if ((t = atomic_load(&since[i])) != 0 && now > t &&
		    now - t > ms)
			return 1;
	return 0;
}

void
store_set_reopen_wait(struct store *st, unsigned ms)
{
	st->reopen_wait_ms = ms;
}

void
store_wedge_exit(const char *why)
{
	log_error("storage: %s: a thread waits on a process that died "
	    "holding a Berkeley DB mutex; ending this process so that it "
	    "is started again", why);
	_exit(1);
}

/*
 * The store's lock for writing, for a reopen: without STORE_EXIT_WEDGED
 * as long as it takes; with it, within reopen_wait_ms or the process
 * ends.  A wait that ran out while another thread of this process holds
 * the lock to reopen (recovery can take a while) waits again.
 */
void
wedge_wrlock(struct store *st)
{
	struct timespec	until;
	int		rc;

	if (!st->exit_wedged) {
		pthread_rwlock_wrlock(&st->lock);
		return;
	}
	do {
		until = deadline_in(CLOCK_MONOTONIC, st->reopen_wait_ms);
		rc = pthread_rwlock_clockwrlock(&st->lock, CLOCK_MONOTONIC,
		    &until);
	} while (rc == ETIMEDOUT && atomic_load(&st->reopening));
	if (rc != 0)
		store_wedge_exit("the environment must be reopened and another "
		    "thread has not left it");
	atomic_store(&st->reopening, 1);
}
