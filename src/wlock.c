#include "cs_build.h"

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"
#include "wlock.h"

/* A thread queued for the lock, on its own stack while it waits. */
struct wlock_waiter {
	struct wlock_waiter	*next;
	pthread_cond_t		 cv;
	uint64_t		 since;		/* queued at (monotonic, us) */
	int			 granted;	/* handed the lock */
};

static uint64_t
now_us(void)
{
	return mono_ns() / 1000;
}

/* The oldest waiter has waited long enough to be handed the lock. */
static int
starving(const struct wlock *l)
{
	return l->head != NULL && now_us() - l->head->since >= l->starve_us;
}

int
wlock_init(struct wlock *l, uint64_t starve_us)
{
	l->held = 0;
	l->head = l->tail = NULL;
	l->starve_us = starve_us;
	return pthread_mutex_init(&l->m, NULL);
}

void
wlock_destroy(struct wlock *l)
{
	pthread_mutex_destroy(&l->m);
}

/* Takes w out of the queue, wherever it is.  Under l->m. */
static void
unqueue(struct wlock *l, struct wlock_waiter *w)
{
	struct wlock_waiter **pp, *prev = NULL;

	for (pp = &l->head; *pp != w; pp = &(*pp)->next)
		prev = *pp;
	*pp = w->next;
	if (l->tail == w)
		l->tail = prev;
}

void
wlock_lock(struct wlock *l)
{
	struct wlock_waiter w;

	pthread_mutex_lock(&l->m);
	if (!l->held && !starving(l)) {
		l->held = 1;
		pthread_mutex_unlock(&l->m);
		return;
	}
	w.next = NULL;
	w.granted = 0;
	w.since = now_us();
	pthread_cond_init(&w.cv, NULL);
	if (l->tail != NULL)
		l->tail->next = &w;
	else
		l->head = &w;
	l->tail = &w;
	/* woken: handed the lock, or told it is free (another may be first) */
	for (;;) {
		pthread_cond_wait(&w.cv, &l->m);
		if (w.granted)
			break;
		if (!l->held) {
			l->held = 1;
			unqueue(l, &w);
			break;
		}
	}
	pthread_mutex_unlock(&l->m);
	pthread_cond_destroy(&w.cv);
}

void
wlock_unlock(struct wlock *l)
{
	struct wlock_waiter *w;

	pthread_mutex_lock(&l->m);
	if ((w = l->head) != NULL && starving(l)) {
		unqueue(l, w);
		w->granted = 1;		/* held stays set: it is w's now */
	} else
		l->held = 0;
	if (w != NULL)
		pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&l->m);
}

size_t
wlock_queued(struct wlock *l)
{
	struct wlock_waiter	*w;
	size_t			 n = 0;

	pthread_mutex_lock(&l->m);
	for (w = l->head; w != NULL; w = w->next)
		n++;
	pthread_mutex_unlock(&l->m);
	return n;
}
