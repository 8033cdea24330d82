/*
 * The end of every unit test program's main: runs suite s (forking a
 * process per test, Check's default) and gives the program's exit
 * status, 0 when every test passed and 1 otherwise.
 */
#ifndef CK_RUN_H
#define CK_RUN_H

#include <check.h>

static inline int
ck_run(Suite *s)
{
	SRunner	*sr = srunner_create(s);
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}

#endif
