#include "cs_build.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <check.h>

#include "catalog.h"
#include "credset.h"
#include "credsvc.h"
#include "crypto.h"
#include "log.h"
#include "store.h"
#include "ck_run.h"

/*
 * The credential service against a real store and keyring in a mkdtemp
 * folder, and a catalog whose provider has no validation block: the
 * probe answers "unverified" without the network.
 */

static const char catalog_json[] =
    "{\"providers\": [{\"id\": \"acme\", \"name\": \"Acme\","
    " \"authType\": \"api_key\", \"requiredFields\": [\"api_key\"],"
    " \"optionalFields\": [\"site\"], \"fields\": {"
    " \"api_key\": {\"label\": \"API key\", \"secret\": true},"
    " \"site\": {\"label\": \"Site\", \"secret\": false}}}]}";

static char			 dir[64];
static char			 krpath[128];
static struct keyring		*kr;
static struct store		*st;
static struct catalog		*cat;
static const struct cat_provider *prov;
static struct credsvc		 svc;
static const struct credsvc_actor who = { "t1", "alice", "127.0.0.1" };

static int
store_mac(const char *label, const void *p, size_t n,
    unsigned char out[STORE_MAC_LEN], void *arg)
{
	return crypto_mac(arg, label, p, n, out);
}

static void
setup(void)
{
	char	err[512], dbdir[128];

	snprintf(dir, sizeof(dir), "/tmp/test_credsvc.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(krpath, sizeof(krpath), "%s/keyring", dir);
	snprintf(dbdir, sizeof(dbdir), "%s/db", dir);
	ck_assert_msg(keyring_create(krpath, err, sizeof(err)) == 0, "%s", err);
	ck_assert_msg(keyring_load(krpath, &kr, err, sizeof(err)) == 0, "%s",
	    err);
	ck_assert_int_eq(mkdir(dbdir, 0700), 0);
	ck_assert_msg(store_open(dbdir, DUR_NOSYNC, &st, err,
	    sizeof(err)) == 0, "%s", err);
	store_set_mac(st, store_mac, kr);
	cat = catalog_parse(catalog_json, strlen(catalog_json), "cat.json",
	    err, sizeof(err));
	ck_assert_msg(cat != NULL, "%s", err);
	ck_assert_ptr_nonnull(prov = catalog_find(cat, "acme"));
	memset(&svc, 0, sizeof(svc));
	svc.st = st;
	svc.kr = kr;
	svc.po.timeout_ms = 1000;
}

static void
teardown(void)
{
	char cmd[128];

	store_close(st);
	keyring_free(kr);
	catalog_free(cat);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

static void
values(struct credset *cs, const char *key, const char *site)
{
	credset_init(cs);
	ck_assert_int_eq(credset_add(cs, "api_key", key, strlen(key)), 0);
	if (site != NULL)
		ck_assert_int_eq(credset_add(cs, "site", site, strlen(site)), 0);
}

/* Creates a credential with values (key, site); its id into id. */
static void
create(const char *key, const char *site, char id[CREDENTIAL_ID_LEN + 1])
{
	struct credset		cs;
	struct credsvc_new	n;

	values(&cs, key, site);
	credsvc_new_init(&n);
	ck_assert_int_eq(credsvc_create_prepare(&svc, &who, prov, &cs, "lbl",
	    &n), CSVC_OK);
	ck_assert_int_eq(n.pr.verdict, PROBE_UNVERIFIED);
	ck_assert_str_eq(n.rec.status, "unverified");
	ck_assert_int_eq(credsvc_create_commit(&svc, &who, &n, NULL, NULL),
	    CSVC_OK);
	memcpy(id, n.rec.id, CREDENTIAL_ID_LEN + 1);
	credsvc_new_free(&n);
	credset_free(&cs);
}

/* Opens the stored record and checks its values. */
static void
expect_values(const char *id, const char *key, const char *site)
{
	struct cred_rec	 r;
	struct credset	 cs;
	const char	*v;
	size_t		 len;

	ck_assert_int_eq(store_cred_get(st, who.tenant, "acme", id, &r),
	    STORE_OK);
	ck_assert_int_eq(credsvc_open(kr, NULL, &r, &cs), 0);
	ck_assert_ptr_nonnull(v = credset_get(&cs, "api_key", &len));
	ck_assert_uint_eq(len, strlen(key));
	ck_assert_mem_eq(v, key, len);
	v = credset_get(&cs, "site", &len);
	if (site == NULL)
		ck_assert_ptr_null(v);
	else {
		ck_assert_ptr_nonnull(v);
		ck_assert_str_eq(v, site);
	}
	credset_free(&cs);
	cred_rec_free(&r);
}

START_TEST(test_record_ad)
{
	static const char want[] = "credstore-record-v1\0t\0p\0crd_X";
	size_t	 len;
	char	*ad = credsvc_record_ad("t", "p", "crd_X", &len);

	ck_assert_ptr_nonnull(ad);
	ck_assert_uint_eq(len, sizeof(want) - 1);
	ck_assert_mem_eq(ad, want, len);
	free(ad);
}
END_TEST

START_TEST(test_create_open)
{
	char id[CREDENTIAL_ID_LEN + 1];

	create("k-123", "eu", id);
	expect_values(id, "k-123", "eu");
}
END_TEST

START_TEST(test_replace)
{
	struct credset		 cs;
	struct probe_result	 pr;
	struct credsvc_label	 l = { 1, "new" };
	struct cred_rec		 r;
	char			 id[CREDENTIAL_ID_LEN + 1];

	create("old-key", "us", id);
	values(&cs, "new-key", NULL);
	ck_assert_int_eq(credsvc_replace(&svc, &who, prov, id, &cs, &l, &pr),
	    CSVC_OK);
	credset_free(&cs);
	expect_values(id, "new-key", NULL);
	ck_assert_int_eq(store_cred_get(st, who.tenant, "acme", id, &r),
	    STORE_OK);
	ck_assert_str_eq(r.id, id);
	ck_assert_str_eq(r.label, "new");
	ck_assert_uint_eq(r.nfields, 1);
	ck_assert_str_eq(r.fields[0], "api_key");
	cred_rec_free(&r);
	/* an id that is not there: not found before anything else */
	values(&cs, "x", NULL);
	ck_assert_int_eq(credsvc_replace(&svc, &who, prov,
	    "crd_00000000000000000000000000", &cs, &l, &pr), CSVC_NOTFOUND);
	credset_free(&cs);
}
END_TEST

START_TEST(test_open_elsewhere)
{
	struct cred_rec	 r;
	struct credset	 cs;
	char		 id[CREDENTIAL_ID_LEN + 1], *keep;

	create("k", NULL, id);
	ck_assert_int_eq(store_cred_get(st, who.tenant, "acme", id, &r),
	    STORE_OK);
	keep = r.tenant;
	r.tenant = "t2";		/* the same ciphertext, another tenant */
	ck_assert_int_eq(credsvc_open(kr, NULL, &r, &cs), -1);
	r.tenant = keep;
	r.id[CREDENTIAL_ID_LEN - 1] ^= 1;	/* another record id */
	ck_assert_int_eq(credsvc_open(kr, NULL, &r, &cs), -1);
	r.id[CREDENTIAL_ID_LEN - 1] ^= 1;
	ck_assert_int_eq(credsvc_open(kr, NULL, &r, &cs), 0);
	credset_free(&cs);
	cred_rec_free(&r);
}
END_TEST

START_TEST(test_rewrap)
{
	struct cred_rec	 r;
	struct credset	 cs;
	char		 id[CREDENTIAL_ID_LEN + 1], err[512], old[CRYPTO_KEYID_MAX];

	create("rot", "eu", id);
	ck_assert_int_eq(store_cred_get(st, who.tenant, "acme", id, &r),
	    STORE_OK);
	ck_assert_int_eq(credsvc_rewrap(kr, &r), 0);	/* already active */
	memcpy(old, r.sealed.key_id, sizeof(old));
	ck_assert_msg(keyring_add_key(krpath, kr, err, sizeof(err)) == 0, "%s",
	    err);
	ck_assert_int_eq(credsvc_rewrap(kr, &r), 1);
	ck_assert_str_ne(r.sealed.key_id, old);
	ck_assert_str_eq(r.sealed.key_id, keyring_active(kr)->id);
	ck_assert_int_eq(credsvc_open(kr, NULL, &r, &cs), 0);
	ck_assert_str_eq(credset_get(&cs, "api_key", NULL), "rot");
	credset_free(&cs);
	cred_rec_free(&r);
}
END_TEST

/*
 * A process that has not seen a rotation yet (it looks at the keyring's
 * file once a second) opens a record that rotate-key already re-wrapped
 * under the new key: with the keyring file, not with what it loaded.
 * Without the file's path, or when the file does not load, it does not.
 */
START_TEST(test_open_before_reload)
{
	struct keyring	*stale;
	struct cred_rec	 r;
	struct credset	 cs;
	char		 id[CREDENTIAL_ID_LEN + 1], err[512], bad[160];

	create("late", NULL, id);
	ck_assert_msg(keyring_load(krpath, &stale, err, sizeof(err)) == 0,
	    "%s", err);
	ck_assert_msg(keyring_add_key(krpath, kr, err, sizeof(err)) == 0, "%s",
	    err);
	ck_assert_int_eq(store_cred_get(st, who.tenant, "acme", id, &r),
	    STORE_OK);
	ck_assert_int_eq(credsvc_rewrap(kr, &r), 1);
	ck_assert_ptr_null(keyring_find(stale, r.sealed.key_id));
	ck_assert_int_eq(credsvc_open(stale, NULL, &r, &cs), -1);
	snprintf(bad, sizeof(bad), "%s/none", dir);
	ck_assert_int_eq(credsvc_open(stale, bad, &r, &cs), -1);
	ck_assert_int_eq(credsvc_open(stale, krpath, &r, &cs), 0);
	ck_assert_str_eq(credset_get(&cs, "api_key", NULL), "late");
	credset_free(&cs);
	cred_rec_free(&r);
	keyring_free(stale);
}
END_TEST

START_TEST(test_retest_relabel_delete)
{
	struct probe_result	pr;
	struct credsvc_label	l = { 1, NULL };
	struct cred_rec		r;
	char			id[CREDENTIAL_ID_LEN + 1];

	create("k", NULL, id);
	ck_assert_int_eq(credsvc_retest(&svc, &who, prov, id, &pr), CSVC_OK);
	ck_assert_int_eq(pr.verdict, PROBE_UNVERIFIED);
	ck_assert_int_eq(credsvc_relabel(&svc, &who, "acme", id, &l), CSVC_OK);
	ck_assert_int_eq(store_cred_get(st, who.tenant, "acme", id, &r),
	    STORE_OK);
	ck_assert_ptr_null(r.label);
	/* the check's outcome was stored at the create and the re-test */
	ck_assert_str_eq(r.check, "unreachable:no_check");
	cred_rec_free(&r);
	ck_assert_int_eq(credsvc_delete(&svc, &who, "acme", id), CSVC_OK);
	ck_assert_int_eq(credsvc_delete(&svc, &who, "acme", id), CSVC_NOTFOUND);
}
END_TEST

/* A check's outcome as the record keeps it (SPEC section 2's "check"). */
START_TEST(test_check_text)
{
	static const struct {
		enum probe_verdict	 v;
		const char		*reason, *want;
	} rows[] = {
		{ PROBE_VALID, "", "validated" },
		{ PROBE_VALID, "ignored", "validated" },
		{ PROBE_REJECTED, "status_401", "rejected:status_401" },
		{ PROBE_REJECTED, "unexpected_answer",
		    "rejected:unexpected_answer" },
		{ PROBE_UNVERIFIED, "dns_error", "unreachable:dns_error" },
		{ PROBE_UNVERIFIED, "status_503", "unreachable:status_503" },
		{ PROBE_UNVERIFIED, "client_unavailable",
		    "unreachable:client_unavailable" },
		{ PROBE_UNVERIFIED, "", "unreachable:unknown" },
	};
	struct probe_result	pr;
	char			out[STORE_CHECK_MAX];
	size_t			i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		memset(&pr, 0, sizeof(pr));
		pr.verdict = rows[i].v;
		snprintf(pr.reason, sizeof(pr.reason), "%s", rows[i].reason);
		credsvc_check_text(&pr, out, sizeof(out));
		ck_assert_str_eq(out, rows[i].want);
	}
	/* the longest reason a probe_result holds fits a record's member */
	memset(&pr, 0, sizeof(pr));
	pr.verdict = PROBE_UNVERIFIED;
	memset(pr.reason, 'x', sizeof(pr.reason) - 1);
	credsvc_check_text(&pr, out, sizeof(out));
	ck_assert_uint_eq(strlen(out), strlen("unreachable:") +
	    sizeof(pr.reason) - 1);
	ck_assert_str_eq(credsvc_check_result(PROBE_VALID), "validated");
	ck_assert_str_eq(credsvc_check_result(PROBE_REJECTED), "rejected");
	ck_assert_str_eq(credsvc_check_result(PROBE_UNVERIFIED), "unreachable");
}
END_TEST

/* The change callback's allocator: the Nth call fails. */
static int	alloc_calls, alloc_fail_at;

static void *
failing_alloc(size_t n)
{
	if (++alloc_calls == alloc_fail_at)
		return NULL;
	return malloc(n);
}

/*
 * A replace whose change callback runs out of memory writes nothing and
 * says so: the ciphertext copy (1st), each field name (2nd, 3rd), the
 * label (4th).  Before the fix the first was "nothing to do" (a 200 with
 * the old metadata) and the others were dropped silently.
 */
START_TEST(test_replace_no_memory)
{
	struct credset		 cs;
	struct probe_result	 pr;
	struct credsvc_label	 l = { 1, "new label" };
	struct cred_rec		 r;
	char			 id[CREDENTIAL_ID_LEN + 1];

	create("old-key", "us", id);
	values(&cs, "new-key", "eu");
	svc.alloc = failing_alloc;
	alloc_calls = 0;
	alloc_fail_at = _i;
	ck_assert_int_eq(credsvc_replace(&svc, &who, prov, id, &cs, &l, &pr),
	    CSVC_INTERNAL);
	ck_assert_int_eq(alloc_calls, _i);
	credset_free(&cs);
	expect_values(id, "old-key", "us");
	ck_assert_int_eq(store_cred_get(st, who.tenant, "acme", id, &r),
	    STORE_OK);
	ck_assert_str_eq(r.label, "lbl");
	ck_assert_uint_eq(r.nfields, 2);
	cred_rec_free(&r);
	/* the same change with memory: written */
	alloc_fail_at = 0;
	values(&cs, "new-key", "eu");
	ck_assert_int_eq(credsvc_replace(&svc, &who, prov, id, &cs, &l, &pr),
	    CSVC_OK);
	credset_free(&cs);
	expect_values(id, "new-key", "eu");
}
END_TEST

static Suite *
credsvc_suite(void)
{
	Suite	*s = suite_create("credsvc");
	TCase	*tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_record_ad);
	tcase_add_test(tc, test_create_open);
	tcase_add_test(tc, test_replace);
	tcase_add_test(tc, test_open_elsewhere);
	tcase_add_test(tc, test_rewrap);
	tcase_add_test(tc, test_open_before_reload);
	tcase_add_test(tc, test_retest_relabel_delete);
	tcase_add_test(tc, test_check_text);
	tcase_add_loop_test(tc, test_replace_no_memory, 1, 5);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	log_set_level(LOG_LVL_WARN);
	return ck_run(credsvc_suite());
}
