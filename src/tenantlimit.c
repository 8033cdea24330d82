/*
 * tenantlimit: the shared table of per-tenant limits (tenantlimit.h).
 * The mapping is the table; a struct tenantlimit is one process's view
 * of it (the mapping, its size and the limits), owned by whoever opened
 * it.  Every word of the mapping is read and written with C11 atomics:
 * processes and threads share it with no lock.
 */
#include "cs_build.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "log.h"
#include "tenantlimit.h"
#include "util.h"

/* "CSTLIM" and the layout's version (a new layout, a new number) */
#define TL_MAGIC	0x4353544c494d0001ULL
#define NS_PER_S	1000000000ULL
#define NS_PER_MS	1000000ULL
#define PID_BITS	20

struct tl_header {
	_Atomic uint64_t	magic;
	uint64_t		pad[7];
};

/* 128 bytes: two cache lines, nothing shared with a neighbour */
struct tl_slot {
	_Atomic uint64_t	key;	/* tenant hash; 0: never used */
	_Atomic uint64_t	tat;	/* the bucket's theoretical arrival time */
	/* (expiry in ms << PID_BITS) | pid bits; 0: free */
	_Atomic uint64_t	lease[TENANTLIMIT_LEASES];
};

struct tl_map {
	struct tl_header	hdr;
	struct tl_slot		slot[TENANTLIMIT_SLOTS];
};

struct tenantlimit {
	struct tl_map		*m;
	struct tenantlimit_conf	 conf;
	uint64_t		 pid;	/* a lease's tag, read once */
};

_Static_assert(sizeof(struct tl_slot) == 128, "slot layout");
_Static_assert((TENANTLIMIT_SLOTS & (TENANTLIMIT_SLOTS - 1)) == 0,
    "TENANTLIMIT_SLOTS must be a power of two");

static atomic_flag full_logged = ATOMIC_FLAG_INIT;

uint64_t
tenantlimit_now(void)
{
	return mono_ns();
}

/* Maps the file fd (resized when new); NULL with the reason in err. */
static struct tl_map *
map_table(int fd, char *err, size_t errlen)
{
	struct stat	 sb;
	struct tl_map	*m;
	uint64_t	 zero = 0;

	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode)) {
		snprintf(err, errlen, "not a regular file");
		return NULL;
	}
	/* two processes creating it at once both grow it to the same size */
	if (sb.st_size == 0 && ftruncate(fd, sizeof(struct tl_map)) == -1) {
		snprintf(err, errlen, "ftruncate: %s", errstr(errno));
		return NULL;
	}
	if (sb.st_size != 0 && (size_t)sb.st_size != sizeof(struct tl_map)) {
		snprintf(err, errlen, "unexpected size %lld (another layout?)",
		    (long long)sb.st_size);
		return NULL;
	}
	m = mmap(NULL, sizeof(*m), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED) {
		snprintf(err, errlen, "mmap: %s", errstr(errno));
		return NULL;
	}
	atomic_compare_exchange_strong(&m->hdr.magic, &zero, TL_MAGIC);
	if (atomic_load(&m->hdr.magic) != TL_MAGIC ||
	    !atomic_is_lock_free(&m->hdr.magic)) {
		snprintf(err, errlen, "not a table of this layout");
		munmap(m, sizeof(*m));
		return NULL;
	}
	return m;
}

struct tenantlimit *
tenantlimit_open(const char *path, const struct tenantlimit_conf *conf,
    char *err, size_t errlen)
{
	struct tenantlimit	*t;
	char			 why[160];
	int			 fd;

	if ((t = calloc(1, sizeof(*t))) == NULL) {
		snprintf(err, errlen, "%s: out of memory", path);
		return NULL;
	}
	t->conf = *conf;
	t->pid = (uint64_t)getpid() & ((1U << PID_BITS) - 1);
	if (t->conf.checks > TENANTLIMIT_LEASES)
		t->conf.checks = TENANTLIMIT_LEASES;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd == -1) {
		snprintf(err, errlen, "%s: %s", path, errstr(errno));
		goto fail;
	}
	t->m = map_table(fd, why, sizeof(why));
	close(fd);
	if (t->m == NULL) {
		snprintf(err, errlen, "%s: %s", path, why);
		goto fail;
	}
	return t;
fail:
	free(t);
	return NULL;
}

void
tenantlimit_close(struct tenantlimit *t)
{
	if (t == NULL)
		return;
	munmap(t->m, sizeof(*t->m));
	free(t);
}

struct tenantlimit *
tenantlimit_of_config(const struct config *cfg)
{
	static _Atomic(struct tenantlimit *) proc;
	static atomic_int			  failed;
	struct tenantlimit_conf			  tc;
	struct tenantlimit			 *t, *none = NULL;
	char					  path[4096], err[4400];

	if ((t = atomic_load(&proc)) != NULL || atomic_load(&failed))
		return t;
	tc.rate = cfg->tenant_rate_limit;
	tc.burst = cfg->tenant_rate_burst;
	tc.checks = cfg->tenant_checks_in_flight;
	tc.lease_ms = cfg->probe_timeout_ms + TENANTLIMIT_MARGIN_MS;
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", cfg->data_dir,
	    TENANTLIMIT_FILE) >= sizeof(path))
		snprintf(err, sizeof(err), "%s: path too long", cfg->data_dir);
	else if ((t = tenantlimit_open(path, &tc, err, sizeof(err))) != NULL) {
		/* two threads at once: one table wins, the other is closed */
		if (!atomic_compare_exchange_strong(&proc, &none, t)) {
			tenantlimit_close(t);
			t = none;
		}
		return t;
	}
	log_error("tenantlimit: %s; per-tenant limits are off", err);
	atomic_store(&failed, 1);
	return NULL;
}

static uint64_t
tenant_hash(const char *tenant)
{
	unsigned char	d[32];
	uint64_t	h = 0;
	int		i;

	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, tenant, strlen(tenant), d) != 0)
		return 1;
	for (i = 0; i < 8; i++)
		h = (h << 8) | d[i];
	return h == 0 ? 1 : h;
}

static uint64_t
lease_expiry_ms(uint64_t v)
{
	return v >> PID_BITS;
}

/* A lease that still counts: taken, not expired, not from a past boot. */
static int
lease_live(const struct tenantlimit *t, uint64_t v, uint64_t now_ms)
{
	uint64_t e = lease_expiry_ms(v);

	return v != 0 && e > now_ms && e <= now_ms + (uint64_t)t->conf.lease_ms;
}

/* No check in flight and a full bucket: the slot may change tenant. */
static int
slot_idle(const struct tenantlimit *t, struct tl_slot *s, uint64_t now)
{
	int i;

	if (atomic_load(&s->tat) > now)
		return 0;
	for (i = 0; i < TENANTLIMIT_LEASES; i++)
		if (lease_live(t, atomic_load(&s->lease[i]), now / NS_PER_MS))
			return 0;
	return 1;
}

/*
 * The slot of tenant hash h: its own, else a never used one of the
 * window, else an idle one taken over; NULL when the window is full of
 * busy tenants.  Slots never become unused again, so the first unused
 * slot ends the search.
 */
static struct tl_slot *
find_slot(struct tenantlimit *t, uint64_t h, uint64_t now)
{
	struct tl_slot	*s;
	uint64_t	 k;
	uint32_t	 home = (uint32_t)(h & (TENANTLIMIT_SLOTS - 1)), i;

	for (i = 0; i < TENANTLIMIT_WINDOW; i++) {
		s = &t->m->slot[(home + i) & (TENANTLIMIT_SLOTS - 1)];
		k = atomic_load(&s->key);
		if (k == 0 && atomic_compare_exchange_strong(&s->key, &k, h))
			return s;
		if (k == h)	/* also when another process just claimed it */
			return s;
		if (k == 0)
			break;
	}
	for (i = 0; i < TENANTLIMIT_WINDOW; i++) {
		s = &t->m->slot[(home + i) & (TENANTLIMIT_SLOTS - 1)];
		k = atomic_load(&s->key);
		if (k != 0 && slot_idle(t, s, now) &&
		    atomic_compare_exchange_strong(&s->key, &k, h))
			return s;
	}
	if (!atomic_flag_test_and_set(&full_logged))
		log_warn("tenantlimit: no free slot for a tenant; its requests "
		    "are not limited (logged once)");
	return NULL;
}

long
tenantlimit_request(struct tenantlimit *t, const char *tenant, uint64_t now)
{
	struct tl_slot	*s;
	uint64_t	 step, tau, tat, base, next, wait;

	if (t == NULL || t->conf.rate <= 0)
		return 0;
	if ((s = find_slot(t, tenant_hash(tenant), now)) == NULL)
		return 0;	/* fail open */
	step = NS_PER_S / (uint64_t)t->conf.rate;
	tau = step * (uint64_t)(t->conf.burst > 0 ? t->conf.burst : 1);
	tat = atomic_load(&s->tat);
	do {
		/* later than any we write: a past boot's, or a larger burst's */
		base = (tat > now && tat - now <= tau) ? tat : now;
		next = base + step;
		if (next - now > tau) {
			wait = next - tau - now;
			return (long)((wait + NS_PER_S - 1) / NS_PER_S);
		}
	} while (!atomic_compare_exchange_weak(&s->tat, &tat, next));
	return 0;
}

int
tenantlimit_check_begin(struct tenantlimit *t, const char *tenant,
    uint64_t now, struct tenantlimit_lease *l)
{
	struct tl_slot	*s;
	uint64_t	 v, mine, now_ms = now / NS_PER_MS;
	uint32_t	 i;

	memset(l, 0, sizeof(*l));
	if (t == NULL || t->conf.checks <= 0)
		return 0;
	if ((s = find_slot(t, tenant_hash(tenant), now)) == NULL)
		return 0;	/* fail open */
	mine = ((now_ms + (uint64_t)t->conf.lease_ms) << PID_BITS) | t->pid;
	for (i = 0; i < (uint32_t)t->conf.checks; i++) {
		v = atomic_load(&s->lease[i]);
		if (!lease_live(t, v, now_ms) &&
		    atomic_compare_exchange_strong(&s->lease[i], &v, mine)) {
			l->t = t;
			l->slot = (uint32_t)(s - t->m->slot);
			l->cell = i;
			l->val = mine;
			return 0;
		}
	}
	return -1;
}

void
tenantlimit_check_end(struct tenantlimit_lease *l)
{
	uint64_t v = l->val;

	if (l->t == NULL || v == 0)
		return;
	/* only our own lease: an expired one may be another check's now */
	atomic_compare_exchange_strong(&l->t->m->slot[l->slot].lease[l->cell],
	    &v, 0);
	l->val = 0;
}
