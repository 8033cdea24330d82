/*
 * tenantlimit: per-tenant limits shared by every credstore process of a
 * data folder (issue 12, finding 6), so that one tenant cannot stall the
 * others: a request rate (a token bucket, kept as the GCRA's theoretical
 * arrival time) and a count of provider checks in flight.
 *
 * The state is a fixed table in data_dir/tenantlimit.shm, mapped
 * MAP_SHARED once per process and changed only with C11 atomics, so a
 * request costs a hash and a few atomic operations, no system call.  A
 * slot is keyed by 64 bits of SHA-256 of the tenant, found by linear
 * probing in a window of its home slot; an idle slot (bucket full, no
 * live check) is taken over when the window is full.  A check in flight
 * is a lease that ends when the check does, or expires lease_ms after
 * it began: a process killed during a check blocks no one for longer.
 *
 * When the table cannot be mapped, or a tenant finds no slot (more busy
 * tenants than the window holds), the limits fail open: the request is
 * served and a warning logged once per process.  Nothing here knows HTTP.
 */
#ifndef CS_TENANTLIMIT_H
#define CS_TENANTLIMIT_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

#define TENANTLIMIT_FILE	"tenantlimit.shm"
#define TENANTLIMIT_SLOTS	2048	/* a power of two */
#define TENANTLIMIT_WINDOW	32	/* slots probed from the home slot */
#define TENANTLIMIT_LEASES	14	/* the most checks in flight */
#define TENANTLIMIT_MARGIN_MS	2000	/* a lease outlives the probe timeout */

struct tenantlimit_conf {
	long	rate;		/* requests per second; 0: no rate limit */
	long	burst;		/* requests at once after an idle time */
	long	checks;		/* checks in flight; 0: no limit */
	long	lease_ms;	/* a check's lease lasts at most this long */
};

/* A mapped table; tenantlimit_close unmaps it. */
struct tenantlimit;

/* A check in flight; val 0: none taken (nothing to end). */
struct tenantlimit_lease {
	struct tenantlimit	*t;
	uint32_t		 slot, cell;
	uint64_t		 val;
};

/*
 * Maps (creating it, mode 0600) the table file at path with these limits.
 * NULL with the reason in err when it cannot.
 */
struct tenantlimit *tenantlimit_open(const char *path,
	    const struct tenantlimit_conf *, char *err, size_t errlen);
void	 tenantlimit_close(struct tenantlimit *);
/*
 * The table of cfg's data folder for this process, opened on the first
 * call with cfg's limits and kept; NULL (limits off) when it cannot be
 * mapped, logged once.
 */
struct tenantlimit *tenantlimit_of_config(const struct config *cfg);

/* The clock of the table: CLOCK_MONOTONIC in nanoseconds. */
uint64_t tenantlimit_now(void);
/*
 * Counts one request of tenant at now (ns): 0 when it may go on, else
 * the seconds (at least 1) until the bucket has a token again.  NULL t:
 * 0.
 */
long	 tenantlimit_request(struct tenantlimit *t, const char *tenant,
	    uint64_t now);
/*
 * Takes a lease for one provider check of tenant at now (ns): 0 (end it
 * with tenantlimit_check_end), or -1 when the tenant has conf.checks
 * checks in flight already.  NULL t: 0, nothing to end.
 */
int	 tenantlimit_check_begin(struct tenantlimit *t, const char *tenant,
	    uint64_t now, struct tenantlimit_lease *);
/* Ends the lease (a no-op when it expired and was taken meanwhile). */
void	 tenantlimit_check_end(struct tenantlimit_lease *);

#endif
