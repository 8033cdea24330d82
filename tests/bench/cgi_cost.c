/*
 * cgi_cost: what one CGI process costs, run directly rather than through
 * the web server.  Runs each program in turn, N times each (standard
 * input and output /dev/null, the caller's environment), and prints per
 * program the median CPU time (user + system, from wait4) and wall time
 * of a run and the mean of its page faults (ru_minflt + ru_majflt).  The
 * figures include the forked child's few instructions before its exec.
 * Standard error is the caller's, so the programs' logs go there.  With
 * -f it first prints what a page fault costs on this machine: the time
 * per page of touching fresh anonymous memory one page at a time (huge
 * pages off), and the time per page of one mmap with MAP_POPULATE of as
 * many pages (which takes no fault).
 *
 * usage: cgi_cost [-f] -n RUNS NAME=PROGRAM ...
 *
 * Prints one line a program:
 *   NAME cpu_ms=.. wall_ms=.. faults=..
 * and with -f first:
 *   fault_us=.. populate_us=..
 * Exit 0; 1 when a program failed to run or exited non-zero, or memory
 * ran out; 2 on bad usage (RUNS from 1 to 100000, NAME and PROGRAM not
 * empty).
 */
#define _DEFAULT_SOURCE	/* MAP_ANONYMOUS, MAP_POPULATE, wait4 */

#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define FAULT_PAGES	1024

struct prog {
	const char	*name;
	const char	*path;
	double		*cpu, *wall;	/* ms, one a run */
	double		 faults;	/* sum over the runs */
};

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static double
tv_ms(const struct timeval *tv)
{
	return tv->tv_sec * 1e3 + tv->tv_usec / 1e3;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
median(double *v, long n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* One run of p: 0, or -1 when it could not run or did not exit 0. */
static int
run_once(struct prog *p, int i)
{
	struct rusage	 ru;
	double		 t0;
	pid_t		 pid;
	int		 st, fd;

	t0 = now_ms();
	if ((pid = fork()) == -1)
		return -1;
	if (pid == 0) {
		if ((fd = open("/dev/null", O_RDWR | O_CLOEXEC)) == -1 ||
		    dup2(fd, 0) == -1 || dup2(fd, 1) == -1)
			_exit(127);
		execl(p->path, p->path, (char *)NULL);
		_exit(127);
	}
	while (wait4(pid, &st, 0, &ru) == -1)
		if (errno != EINTR)
			return -1;
	p->wall[i] = now_ms() - t0;
	p->cpu[i] = tv_ms(&ru.ru_utime) + tv_ms(&ru.ru_stime);
	p->faults += (double)ru.ru_minflt + (double)ru.ru_majflt;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

/* The cost of a page fault here: touched one by one, then populated. */
static int
fault_cost(void)
{
	char	*a, *b;
	double	 t0, t1, t2;
	long	 pg = sysconf(_SC_PAGESIZE);
	size_t	 i, page, len;

	page = pg > 0 ? (size_t)pg : 4096;
	len = (size_t)FAULT_PAGES * page;
	if ((a = mmap(NULL, len, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)) == MAP_FAILED)
		return -1;
	(void)madvise(a, len, MADV_NOHUGEPAGE);	/* one fault a page */
	t0 = now_ms();
	for (i = 0; i < FAULT_PAGES; i++)
		((volatile char *)a)[i * page] = 1;
	t1 = now_ms();
	if ((b = mmap(NULL, len, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0)) == MAP_FAILED) {
		munmap(a, len);
		return -1;
	}
	t2 = now_ms();
	printf("fault_us=%.2f populate_us=%.2f\n",
	    (t1 - t0) * 1e3 / FAULT_PAGES, (t2 - t1) * 1e3 / FAULT_PAGES);
	munmap(a, len);
	munmap(b, len);
	return 0;
}

static void
usage(void)
{
	fprintf(stderr, "usage: cgi_cost [-f] -n RUNS NAME=PROGRAM ...\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	struct prog	*p;
	char		*eq, *end;
	long		 runs = 0;
	int		 c, i, j, np, faults = 0, rc = 0;

	while ((c = getopt(argc, argv, "fn:")) != -1)
		switch (c) {
		case 'f':
			faults = 1;
			break;
		case 'n':
			runs = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0')
				usage();
			break;
		default:
			usage();
		}
	argc -= optind;
	argv += optind;
	if (runs < 1 || runs > 100000 || argc < 1)
		usage();
	np = argc;
	if ((p = calloc((size_t)np, sizeof(*p))) == NULL)
		return 1;
	for (j = 0; j < np; j++) {
		if ((eq = strchr(argv[j], '=')) == NULL || eq == argv[j] ||
		    eq[1] == '\0')
			usage();
		*eq = '\0';
		p[j].name = argv[j];
		p[j].path = eq + 1;
		if ((p[j].cpu = calloc((size_t)runs, sizeof(double))) == NULL ||
		    (p[j].wall = calloc((size_t)runs, sizeof(double))) == NULL)
			return 1;
	}
	if (faults && fault_cost() == -1) {
		fprintf(stderr, "cgi_cost: mmap failed\n");
		return 1;
	}
	/* in turns, so that the machine's moods fall on every program */
	for (i = 0; i < (int)runs && rc == 0; i++)
		for (j = 0; j < np && rc == 0; j++)
			if (run_once(&p[j], i) == -1) {
				fprintf(stderr, "cgi_cost: %s (%s) failed\n",
				    p[j].name, p[j].path);
				rc = 1;
			}
	if (rc != 0)
		return rc;
	for (j = 0; j < np; j++)
		printf("%s cpu_ms=%.3f wall_ms=%.3f faults=%.1f\n", p[j].name,
		    median(p[j].cpu, runs), median(p[j].wall, runs),
		    p[j].faults / (double)runs);
	return 0;
}
