/*
 * The admin page's query parameters and its fixed notices (adminform.h):
 * decoding, limits, and that a notice is never the query's own text.
 */
#include "cs_build.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "adminform.h"
#include "ck_run.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

static const struct {
	const char	*q, *name;
	size_t		 outlen;
	int		 rc;
	const char	*want;
} queries[] = {
	{ "q=abc", "q", 16, 1, "abc" },
	{ "page=2&q=a+b%2Fc", "q", 16, 1, "a b/c" },
	{ "q=x&q=y", "q", 16, 1, "x" },		/* the first one */
	{ "qq=x&q=y", "q", 16, 1, "y" },	/* a name, not a prefix */
	{ "q", "q", 16, 0, "" },		/* no '=': absent */
	{ "q=", "q", 16, 1, "" },
	{ "", "q", 16, 0, "" },
	{ NULL, "q", 16, 0, "" },
	{ "page=3", "q", 16, 0, "" },
	{ "q=%E2%80%9C", "q", 16, 1, "\xe2\x80\x9c" },
	{ "q=%", "q", 16, -1, NULL },
	{ "q=%4", "q", 16, -1, NULL },
	{ "q=%zz", "q", 16, -1, NULL },
	{ "q=a%00b", "q", 16, -1, NULL },	/* no NUL inside */
	{ "q=123456789012345", "q", 16, 1, "123456789012345" },
	{ "q=1234567890123456", "q", 16, -1, NULL },	/* one too long */
	{ "q=%41%42", "q", 3, 1, "AB" },
	{ "q=%41%42%43", "q", 3, -1, NULL },
};

START_TEST(test_query)
{
	char	out[64];
	int	rc;

	memset(out, 'Z', sizeof(out));
	rc = adminform_query(queries[_i].q, queries[_i].name, out,
	    queries[_i].outlen);
	ck_assert_msg(rc == queries[_i].rc, "%s: rc %d", queries[_i].q
	    ? queries[_i].q : "(null)", rc);
	if (queries[_i].want != NULL)
		ck_assert_str_eq(out, queries[_i].want);
}
END_TEST

START_TEST(test_flash)
{
	char		 buf[64];
	const char	*m;

	ck_assert_str_eq(adminform_flash("done=deleted", NULL, buf, sizeof(buf)),
	    "The credential was deleted.");
	ck_assert_str_eq(adminform_flash("page=2&done=renamed", NULL, buf,
	    sizeof(buf)), "The label was saved.");
	m = adminform_flash("done=retested", "rejected", buf, sizeof(buf));
	ck_assert_str_eq(m, "Tested again: rejected.");
	ck_assert_ptr_eq(m, buf);
	/* "retested" without a status (the index) says nothing */
	ck_assert_ptr_null(adminform_flash("done=retested", NULL, NULL, 0));
	/* the API's own redirects */
	ck_assert_str_eq(adminform_flash("deleted=1", NULL, buf, sizeof(buf)),
	    "The credential was deleted.");
	ck_assert_str_eq(adminform_flash("retested=1", "validated", buf,
	    sizeof(buf)), "Tested again: validated.");
	/* anything else: nothing, never the text */
	ck_assert_ptr_null(adminform_flash("done=%3Cscript%3E", "x", buf,
	    sizeof(buf)));
	ck_assert_ptr_null(adminform_flash("done=Deleted", NULL, buf,
	    sizeof(buf)));
	ck_assert_ptr_null(adminform_flash("done=deletedx", NULL, buf,
	    sizeof(buf)));
	ck_assert_ptr_null(adminform_flash("done=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaa", NULL, buf, sizeof(buf)));
	ck_assert_ptr_null(adminform_flash(NULL, NULL, buf, sizeof(buf)));
	ck_assert_ptr_null(adminform_flash("deleted=2", NULL, buf, sizeof(buf)));
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("adminform");
	TCase	*tc = tcase_create("adminform");

	tcase_add_loop_test(tc, test_query, 0, (int)NELEM(queries));
	tcase_add_test(tc, test_flash);
	suite_add_tcase(s, tc);
	return ck_run(s);
}
