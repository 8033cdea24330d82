/*
 * catcache: a CGI process's catalog.  The whole text is checked until
 * data_dir/catalog.checked vouches for that very text under this
 * keyring; a changed catalog is seen at once, an invalid one still fails
 * with the error of a full load, and a mark that was tampered with, or
 * made under another keyring, is not trusted.
 */
#include "cs_build.h"

#include <sys/stat.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "catalog.h"
#include "catcache.h"
#include "crypto.h"
#include "ck_run.h"

#define ERRLEN	512

static char		 dir[] = "/tmp/cs-test-catcache-XXXXXX";
static char		 data[PATH_MAX], catp[PATH_MAX], mark[PATH_MAX + 32];
static struct keyring	*kr, *kr2;

static const char cat_a[] =
    "{\"providers\": [\n"
    " {\"id\": \"acme\", \"name\": \"Acme\", \"authType\": \"api_key\",\n"
    "  \"requiredFields\": [\"key\"], \"fields\": {\"key\": {\"label\": \"Key\",\n"
    "  \"secret\": true, \"pattern\": \"^[a-z]{2,8}$\"}}},\n"
    " {\"id\": \"beta\", \"name\": \"Beta\", \"authType\": \"api_key\",\n"
    "  \"requiredFields\": [\"tok\"], \"fields\": {\"tok\": {\"label\": \"T\",\n"
    "  \"secret\": true}}}\n"
    "]}\n";

static void
put_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fputs(text, f) >= 0, 1);
	ck_assert_int_eq(fclose(f), 0);
}

static char *
read_mark(void)
{
	static char	 buf[256];
	FILE		*f = fopen(mark, "r");
	size_t		 n;

	if (f == NULL)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

static void
setup(void)
{
	char	 path[PATH_MAX], err[ERRLEN];

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(data, sizeof(data), "%s/data", dir);
	snprintf(catp, sizeof(catp), "%s/catalog.json", dir);
	snprintf(mark, sizeof(mark), "%s/" CATCACHE_FILE, data);
	ck_assert_int_eq(mkdir(data, 0700), 0);
	snprintf(path, sizeof(path), "%s/keyring", dir);
	ck_assert_msg(keyring_create(path, err, sizeof(err)) == 0, "%s", err);
	ck_assert_msg(keyring_load(path, &kr, err, sizeof(err)) == 0, "%s", err);
	snprintf(path, sizeof(path), "%s/keyring2", dir);
	ck_assert_msg(keyring_create(path, err, sizeof(err)) == 0, "%s", err);
	ck_assert_msg(keyring_load(path, &kr2, err, sizeof(err)) == 0, "%s",
	    err);
}

static void
teardown(void)
{
	char cmd[PATH_MAX + 16];

	keyring_free(kr);
	keyring_free(kr2);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}

/* Loads the catalog; asserts it loads and whether it was indexed. */
static struct catalog *
load(const struct keyring *k, int want_indexed)
{
	char		 err[ERRLEN];
	struct catalog	*c;
	int		 indexed = -1;

	c = catcache_load(catp, data, k, &indexed, err, sizeof(err));
	ck_assert_msg(c != NULL, "%s", err);
	ck_assert_int_eq(indexed, want_indexed);
	ck_assert_int_eq(c->lazy != NULL, want_indexed);
	return c;
}

/* Checked once, then indexed; a provider of the index is the real one. */
START_TEST(test_mark_then_index)
{
	struct catalog			*c;
	const struct cat_provider	*p;
	struct stat			 sb;
	char				*m;

	put_file(catp, cat_a);
	ck_assert_ptr_null(read_mark());
	catalog_free(load(kr, 0));
	ck_assert_ptr_nonnull(m = read_mark());
	ck_assert_uint_eq(strlen(m), 65);
	ck_assert_int_eq(stat(mark, &sb), 0);
	ck_assert_uint_eq(sb.st_mode & 0777, 0600);
	c = load(kr, 1);
	ck_assert_ptr_nonnull(p = catalog_find(c, "acme"));
	ck_assert_str_eq(p->name, "Acme");
	/* its pattern is compiled at first use, and works */
	ck_assert_int_eq(catalog_field_match(&p->fields[0], "abc"), 1);
	ck_assert_int_eq(catalog_field_match(&p->fields[0], "ABC"), 0);
	ck_assert_ptr_null(c->providers[1].id);		/* not loaded */
	ck_assert_ptr_null(catalog_find(c, "gamma"));
	catalog_free(c);
}
END_TEST

/* A changed catalog is checked and seen by the next load. */
START_TEST(test_changed_is_seen)
{
	char			 text[sizeof(cat_a)], *p;
	struct catalog		*c;
	char			 m1[256];

	put_file(catp, cat_a);
	catalog_free(load(kr, 0));
	snprintf(m1, sizeof(m1), "%s", read_mark());
	memcpy(text, cat_a, sizeof(cat_a));
	ck_assert_ptr_nonnull(p = strstr(text, "\"Beta\""));
	memcpy(p, "\"Bet2\"", 6);
	put_file(catp, text);
	c = load(kr, 0);
	ck_assert_str_eq(catalog_find(c, "beta")->name, "Bet2");
	catalog_free(c);
	ck_assert_str_ne(read_mark(), m1);
	c = load(kr, 1);
	ck_assert_str_eq(catalog_find(c, "beta")->name, "Bet2");
	catalog_free(c);
}
END_TEST

/*
 * An invalid catalog (in a provider a request may never use) fails with
 * the error of a full load, and leaves the mark alone: the valid text
 * back, it is indexed again.
 */
START_TEST(test_invalid_still_fails)
{
	char		 text[sizeof(cat_a) + 32], *p, err[ERRLEN], want[ERRLEN];
	struct catalog	*c;
	char		 m1[256];
	int		 indexed = -1;

	put_file(catp, cat_a);
	catalog_free(load(kr, 0));
	snprintf(m1, sizeof(m1), "%s", read_mark());
	/* beta's field gets an unknown key; acme is untouched */
	snprintf(text, sizeof(text), "%s", cat_a);
	ck_assert_ptr_nonnull(p = strstr(text, "\"label\": \"T\""));
	memcpy(p, "\"lbl\":  ", 8);
	put_file(catp, text);
	ck_assert_ptr_null(catalog_load(catp, want, sizeof(want)));
	c = catcache_load(catp, data, kr, &indexed, err, sizeof(err));
	ck_assert_ptr_null(c);
	ck_assert_str_eq(err, want);
	ck_assert_ptr_nonnull(strstr(err, "provider 1 (beta)"));
	ck_assert_str_eq(read_mark(), m1);
	/* an invalid pattern is an error too, not only when matched */
	snprintf(text, sizeof(text), "%s", cat_a);
	ck_assert_ptr_nonnull(p = strstr(text, "{2,8}"));
	memcpy(p, "{8,2}", 5);
	put_file(catp, text);
	ck_assert_ptr_null(catalog_load(catp, want, sizeof(want)));
	ck_assert_ptr_null(catcache_load(catp, data, kr, &indexed, err,
	    sizeof(err)));
	ck_assert_str_eq(err, want);
	put_file(catp, cat_a);
	catalog_free(load(kr, 1));
}
END_TEST

/* A mark changed by hand, cut short, or made under another keyring. */
START_TEST(test_tampered_not_trusted)
{
	char	 m1[256], bad[256];

	put_file(catp, cat_a);
	catalog_free(load(kr, 0));
	snprintf(m1, sizeof(m1), "%s", read_mark());
	snprintf(bad, sizeof(bad), "%s", m1);
	bad[10] = bad[10] == '0' ? '1' : '0';
	put_file(mark, bad);
	catalog_free(load(kr, 0));
	ck_assert_str_eq(read_mark(), m1);	/* made again */
	bad[64] = '\0';
	put_file(mark, bad);
	catalog_free(load(kr, 0));
	put_file(mark, "");
	catalog_free(load(kr, 0));
	catalog_free(load(kr, 1));
	/* another keyring: not its mark */
	catalog_free(load(kr2, 0));
	ck_assert_str_ne(read_mark(), m1);
	catalog_free(load(kr2, 1));
	catalog_free(load(kr, 0));
}
END_TEST

/* No data_dir (yet): checked every time, nothing written. */
START_TEST(test_no_data_dir)
{
	char		 err[ERRLEN];
	struct catalog	*c;
	int		 indexed = -1;

	put_file(catp, cat_a);
	ck_assert_int_eq(rmdir(data), 0);
	c = catcache_load(catp, data, kr, &indexed, err, sizeof(err));
	ck_assert_msg(c != NULL, "%s", err);
	ck_assert_int_eq(indexed, 0);
	catalog_free(c);
	ck_assert_ptr_null(catcache_load("/nonexistent/catalog.json", dir, kr,
	    &indexed, err, sizeof(err)));
	ck_assert_msg(strstr(err, "/nonexistent/catalog.json: cannot open")
	    == err, "%s", err);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("catcache");
	TCase	*tc = tcase_create("mark");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_mark_then_index);
	tcase_add_test(tc, test_changed_is_seen);
	tcase_add_test(tc, test_invalid_still_fails);
	tcase_add_test(tc, test_tampered_not_trusted);
	tcase_add_test(tc, test_no_data_dir);
	suite_add_tcase(s, tc);
	return ck_run(s);
}
