/*
 * replfwd: the signature of a forwarded write (SPEC section 11).  A
 * request signed with the shared secret verifies, and changing anything
 * it covers (method, path, query, body, Authorization, Cookie, time,
 * client, site) or a time outside the 30 s window does not.
 */
#include "cs_build.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <check.h>

#include "config.h"
#include "http.h"
#include "replfwd.h"
#include "ck_run.h"

static char		 dir[64], secret[128];
static struct config	 cfg;

static void
setup(void)
{
	FILE *f;

	snprintf(dir, sizeof(dir), "/tmp/cs-test-replfwd-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(secret, sizeof(secret), "%s/repl.secret", dir);
	ck_assert_ptr_nonnull(f = fopen(secret, "w"));
	fputs("0123456789abcdef0123456789abcdef-shared", f);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_int_eq(chmod(secret, 0600), 0);
	memset(&cfg, 0, sizeof(cfg));
	cfg.repl_self = "127.0.0.1:7001";
	cfg.repl_secret_file = secret;
}

static void
teardown(void)
{
	unlink(secret);
	rmdir(dir);
}

/* The fields of a request; each row of the table changes one. */
struct fields {
	const char	*method, *path, *query, *body, *auth, *cookie;
	const char	*client, *site;
	long		 age;		/* seconds before now */
};

static const struct fields base = {
	"POST", "/v1/integrations/sentry/credentials", NULL,
	"{\"credentials\":{\"auth_token\":\"x\"}}", "Bearer abc", NULL,
	"192.0.2.7", "127.0.0.1:7002", 0,
};

static char	 envbuf[8][256];
static char	*envp[9];
static char	 bodybuf[256];

/* req as `signed_as` was signed, but carrying the fields of `sent`. */
static void
make(struct http_req *req, const struct fields *signed_as,
    const struct fields *sent, const char *sig_override)
{
	struct http_req	 sreq;
	char		 ts[24], sig[65];
	int		 n = 0;

	memset(&sreq, 0, sizeof(sreq));
	sreq.method_name = signed_as->method;
	sreq.path = (char *)(uintptr_t)signed_as->path;
	sreq.query = (char *)(uintptr_t)signed_as->query;
	sreq.body.data = (char *)(uintptr_t)signed_as->body;
	sreq.body.len = strlen(signed_as->body);
	sreq.authorization = signed_as->auth;
	sreq.cookie = signed_as->cookie;
	snprintf(ts, sizeof(ts), "%lld",
	    (long long)time(NULL) - signed_as->age);
	ck_assert_int_eq(replfwd_sign(&cfg, &sreq, ts, signed_as->client,
	    signed_as->site, sig), 0);
	ck_assert_uint_eq(strlen(sig), 64);

	memset(req, 0, sizeof(*req));
	req->method_name = sent->method;
	req->path = (char *)(uintptr_t)sent->path;
	req->query = (char *)(uintptr_t)sent->query;
	snprintf(bodybuf, sizeof(bodybuf), "%s", sent->body);
	req->body.data = bodybuf;
	req->body.len = strlen(bodybuf);
	req->authorization = sent->auth;
	req->cookie = sent->cookie;
	req->remote_addr = "127.0.0.1";
	snprintf(envbuf[n], sizeof(envbuf[n]), "HTTP_X_CREDSTORE_FORWARDED=%s",
	    sent->site);
	envp[n] = envbuf[n], n++;
	snprintf(envbuf[n], sizeof(envbuf[n]),
	    "HTTP_X_CREDSTORE_FORWARD_TIME=%lld",
	    (long long)time(NULL) - sent->age);
	envp[n] = envbuf[n], n++;
	snprintf(envbuf[n], sizeof(envbuf[n]),
	    "HTTP_X_CREDSTORE_FORWARD_CLIENT=%s", sent->client);
	envp[n] = envbuf[n], n++;
	snprintf(envbuf[n], sizeof(envbuf[n]), "HTTP_X_CREDSTORE_FORWARD_SIG=%s",
	    sig_override != NULL ? sig_override : sig);
	envp[n] = envbuf[n], n++;
	envp[n] = NULL;
	req->envp = envp;
}

START_TEST(test_good)
{
	struct http_req req;

	make(&req, &base, &base, NULL);
	ck_assert_int_eq(replfwd_is_forwarded(&req), 1);
	ck_assert_int_eq(replfwd_verify(&cfg, &req), 0);
	ck_assert_str_eq(req.remote_addr, "192.0.2.7");	/* the caller's */
}
END_TEST

/* Each row: what was sent differs from what was signed in one field. */
static struct fields
changed(int i)
{
	struct fields f = base;

	switch (i) {
	case 0: f.method = "PUT"; break;
	case 1: f.path = "/v1/integrations/github/credentials"; break;
	case 2: f.query = "x=1"; break;
	case 3: f.body = "{\"credentials\":{\"auth_token\":\"y\"}}"; break;
	case 4: f.auth = "Bearer abd"; break;
	case 5: f.auth = NULL; break;
	case 6: f.cookie = "cs_session=1"; break;
	case 7: f.client = "192.0.2.8"; break;
	case 8: f.site = "127.0.0.1:7003"; break;
	case 9: f.age = 1; break;
	default: break;
	}
	return f;
}

START_TEST(test_tampered)
{
	struct http_req	req;
	struct fields	f = changed(_i);

	make(&req, &base, &f, NULL);
	ck_assert_int_eq(replfwd_verify(&cfg, &req), -1);
	ck_assert_str_eq(req.remote_addr, "127.0.0.1");
}
END_TEST

/* Signed and sent alike, but too old or from the future, or a bad sig. */
START_TEST(test_window_and_form)
{
	struct http_req	req;
	struct fields	f = base;

	f.age = 29;
	make(&req, &f, &f, NULL);
	ck_assert_int_eq(replfwd_verify(&cfg, &req), 0);
	f.age = 31;
	make(&req, &f, &f, NULL);
	ck_assert_int_eq(replfwd_verify(&cfg, &req), -1);
	f.age = -31;
	make(&req, &f, &f, NULL);
	ck_assert_int_eq(replfwd_verify(&cfg, &req), -1);
	make(&req, &base, &base, "00");
	ck_assert_int_eq(replfwd_verify(&cfg, &req), -1);
	make(&req, &base, &base,
	    "0000000000000000000000000000000000000000000000000000000000000000");
	ck_assert_int_eq(replfwd_verify(&cfg, &req), -1);
	/* a single site verifies nothing */
	make(&req, &base, &base, NULL);
	cfg.repl_self = NULL;
	ck_assert_int_eq(replfwd_verify(&cfg, &req), -1);
	cfg.repl_self = "127.0.0.1:7001";
	/* not forwarded at all */
	memset(&req, 0, sizeof(req));
	envp[0] = NULL;
	req.envp = envp;
	ck_assert_int_eq(replfwd_is_forwarded(&req), 0);
	ck_assert_int_eq(replfwd_verify(&cfg, &req), -1);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("replfwd");
	TCase	*tc = tcase_create("sign");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_good);
	tcase_add_loop_test(tc, test_tampered, 0, 10);
	tcase_add_test(tc, test_window_and_form);
	suite_add_tcase(s, tc);
	return ck_run(s);
}
