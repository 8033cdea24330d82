/*
 * test_wlock: the store's write lock (src/wlock.c).  It excludes like a
 * mutex, and a waiter older than starve_us is handed the lock in turn,
 * ahead of a thread that comes (back) later: what keeps the p99 of
 * stores near their median when many threads store at once.
 */
#include "cs_build.h"

#include <pthread.h>
#include <string.h>
#include <time.h>

#include <check.h>

#include "wlock.h"
#include "ck_run.h"

#define THREADS	8
#define ROUNDS	20000

struct stress {
	struct wlock	*l;
	/* only under the lock: a lost update shows without it */
	volatile unsigned long counter;
};

static void *
stress_run(void *arg)
{
	struct stress	*s = arg;
	unsigned long	 v;
	int		 i;

	for (i = 0; i < ROUNDS; i++) {
		wlock_lock(s->l);
		v = s->counter;
		s->counter = v + 1;
		wlock_unlock(s->l);
	}
	return NULL;
}

static void
stress(uint64_t starve_us)
{
	struct wlock	l;
	struct stress	s;
	pthread_t	t[THREADS];
	int		i;

	ck_assert_int_eq(wlock_init(&l, starve_us), 0);
	s.l = &l;
	s.counter = 0;
	for (i = 0; i < THREADS; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, stress_run, &s), 0);
	for (i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	ck_assert_uint_eq(s.counter, (unsigned long)THREADS * ROUNDS);
	ck_assert_int_eq(l.held, 0);
	ck_assert_ptr_null(l.head);
	ck_assert_ptr_null(l.tail);
	wlock_destroy(&l);
}

/* Taken by whoever runs while nobody starves. */
START_TEST(test_excludes)
{
	stress(WLOCK_STARVE_US);
}
END_TEST

/* Every waiter starving: each unlock hands the lock over. */
START_TEST(test_excludes_handing_over)
{
	stress(0);
}
END_TEST

/* ---------------------------------------------------------- in turn */

struct turn {
	struct wlock	*l;
	pthread_mutex_t	 m;
	char		 order[8];	/* who had the lock, in turn */
	size_t		 n;
};

static void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) != 0)
		;
}

static void
had(struct turn *t, char who)
{
	pthread_mutex_lock(&t->m);
	t->order[t->n++] = who;
	pthread_mutex_unlock(&t->m);
}

struct taker {
	struct turn	*t;
	char		 who;
};

static void *
taker_run(void *arg)
{
	struct taker *k = arg;

	wlock_lock(k->t->l);
	had(k->t, k->who);
	sleep_ms(10);		/* long enough for the next to starve */
	wlock_unlock(k->t->l);
	return NULL;
}

/*
 * M holds the lock; B queues, then C.  Both have starved when M lets go
 * and at once asks again: B has it, then C, then M.  A plain mutex gives
 * it back to M first.
 */
START_TEST(test_in_turn)
{
	struct wlock	l;
	struct turn	t;
	struct taker	b = { &t, 'B' }, c = { &t, 'C' };
	pthread_t	tb, tc;
	int		i;

	ck_assert_int_eq(wlock_init(&l, WLOCK_STARVE_US), 0);
	memset(&t, 0, sizeof(t));
	t.l = &l;
	pthread_mutex_init(&t.m, NULL);
	wlock_lock(&l);
	ck_assert_int_eq(pthread_create(&tb, NULL, taker_run, &b), 0);
	for (i = 0; i < 5000 && wlock_queued(&l) < 1; i++)
		sleep_ms(1);
	ck_assert_uint_eq(wlock_queued(&l), 1);
	ck_assert_int_eq(pthread_create(&tc, NULL, taker_run, &c), 0);
	for (i = 0; i < 5000 && wlock_queued(&l) < 2; i++)
		sleep_ms(1);
	ck_assert_uint_eq(wlock_queued(&l), 2);
	sleep_ms(5);		/* both older than WLOCK_STARVE_US */
	wlock_unlock(&l);
	wlock_lock(&l);
	had(&t, 'M');
	wlock_unlock(&l);
	pthread_join(tb, NULL);
	pthread_join(tc, NULL);
	ck_assert_str_eq(t.order, "BCM");
	ck_assert_int_eq(l.held, 0);
	ck_assert_ptr_null(l.head);
	pthread_mutex_destroy(&t.m);
	wlock_destroy(&l);
}
END_TEST

static Suite *
wlock_suite(void)
{
	Suite	*s = suite_create("wlock");
	TCase	*tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_excludes);
	tcase_add_test(tc, test_excludes_handing_over);
	tcase_add_test(tc, test_in_turn);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return ck_run(wlock_suite());
}
