/*
 * End-to-end tests of asymmetric tokens (issue #3): the real
 * credstore.fcgi behind a real lighttpd with two FastCGI processes,
 * configured with a JWKS beside the HS secret.  Keys, the JWKS and every
 * token come from tests/unit/jwks_vectors.sh (the openssl command), with
 * exp an hour from now.  The JWKS file is changed under the running
 * server to show that keys are added and removed without a restart.
 */
#include "cs_build.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <check.h>
#include <json-c/json.h>

#include "harness.h"

static struct h_env E;
static char vdir[256];		/* the vectors */
static char live[300];		/* the jwt_jwks_file of the server */

#define JSON		"application/json"
#define SENTRY		"/v1/integrations/sentry/credentials"
#define BODY		"{\"credentials\":{\"auth_token\":\"tok-e2e-jwks\"}}"
#define CHALLENGE	"Bearer realm=\"credstore\", error=\"invalid_token\""

/* A file of the vectors, malloc'd. */
static char *
vec(const char *name)
{
	char	 path[PATH_MAX], *s;
	size_t	 n;

	snprintf(path, sizeof(path), "%s/%s", vdir, name);
	ck_assert_msg((s = h_slurp(path, &n)) != NULL, "%s: cannot read", path);
	return s;
}

static char *
token(const char *name)
{
	char path[128];

	snprintf(path, sizeof(path), "tok/%s.jwt", name);
	return vec(path);
}

/* Replaces the live JWKS: by rename (a new inode) or rewritten in place. */
static void
put_jwks(const char *content, int in_place)
{
	char	 tmp[400];
	FILE	*f;

	snprintf(tmp, sizeof(tmp), "%s.new", live);
	f = fopen(in_place ? live : tmp, "w");
	ck_assert(f != NULL);
	ck_assert(fwrite(content, 1, strlen(content), f) == strlen(content));
	ck_assert(fclose(f) == 0);
	if (!in_place)
		ck_assert_int_eq(rename(tmp, live), 0);
}

static void
put_jwks_file(const char *name, int in_place)
{
	char *s = vec(name);

	put_jwks(s, in_place);
	free(s);
}

/*
 * A process looks at the file at most once a second, at its next
 * request: once the clock has moved past the second of the change,
 * every request is answered with the new keys.
 */
static void
past_this_second(void)
{
	usleep(1100 * 1000);
}

static long
status_of(const char *method, const char *tok)
{
	struct h_resp	r;
	long		s;

	ck_assert_int_eq(h_req(&E, method, SENTRY, tok,
	    strcmp(method, "POST") == 0 ? JSON : NULL,
	    strcmp(method, "POST") == 0 ? BODY : NULL, NULL, &r), 0);
	s = r.status;
	h_resp_free(&r);
	return s;
}

/* n requests in a row, every one answered with want. */
static void
expect_n(const char *name, long want, int n)
{
	char	*tok = token(name);
	long	 got;
	int	 i;

	for (i = 0; i < n; i++) {
		got = status_of("GET", tok);
		ck_assert_msg(got == want, "%s, request %d: %ld, want %ld",
		    name, i, got, want);
	}
	free(tok);
}

static size_t
count_records(void)
{
	char	*out = NULL;
	size_t	 n;

	ck_assert_int_eq(h_admin(&E, &out, "list", "--tenant", "acme", NULL),
	    0);
	n = h_lines(out);
	free(out);
	return n;
}

START_TEST(healthz_ok)
{
	struct h_resp r;

	ck_assert_int_eq(h_req(&E, "GET", "/healthz", NULL, NULL, NULL, NULL,
	    &r), 0);
	ck_assert_int_eq(r.status, 200);
	h_resp_free(&r);
}
END_TEST

/* The store endpoint takes RS256 and ES256 tokens (and the others). */
START_TEST(store_with_asymmetric_tokens)
{
	static const char *const good[] = {
		"rs256", "es256", "ps256", "es384", "eddsa", "rs256_nokid",
	};
	struct h_resp		 r;
	struct json_object	*o, *v;
	size_t			 i, before = count_records();
	char			*tok;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		tok = token(good[i]);
		ck_assert_int_eq(h_req(&E, "POST", SENTRY, tok, JSON, BODY, NULL,
		    &r), 0);
		ck_assert_msg(r.status == 201, "%s: %ld %s", good[i], r.status,
		    r.body);
		o = h_json(&r);
		ck_assert_ptr_nonnull(o);
		ck_assert(json_object_object_get_ex(o, "status", &v));
		ck_assert_str_eq(json_object_get_string(v), "unverified");
		json_object_put(o);
		h_resp_free(&r);
		free(tok);
		ck_assert_uint_eq(count_records(), before + i + 1);
	}
	/* the stores are the tenant's: the HS token of the same tenant sees them */
	ck_assert_int_eq(h_req(&E, "GET", SENTRY, E.tok_reader, NULL, NULL,
	    NULL, &r), 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert(strstr(r.body, "\"credentialId\"") != NULL);
	h_resp_free(&r);
	/* roles come from the token: a viewer reads, cannot store */
	tok = token("es256_viewer");
	ck_assert_int_eq(status_of("GET", tok), 200);
	ck_assert_int_eq(status_of("POST", tok), 403);
	free(tok);
	ck_assert_uint_eq(count_records(), before + 6);
}
END_TEST

/* Every attack token of the vectors: 401 with the invalid_token challenge. */
START_TEST(attack_tokens_401)
{
	/*
	 * All of tok/ that must fail, but trail_space: lighttpd trims the
	 * space off the header value before credstore sees it.
	 */
	static const char *const bad[] = {
		"none_empty", "alg_none", "alg_None", "alg_NONE", "alg_nOnE",
		"alg_es512", "alg_es256k", "alg_rs256_lower",
		"hs256_pem", "hs256_jwks", "hs256_n", "hs512_ed",
		"crit", "jku", "x5u", "x5c", "jwk", "jwk_kid",
		"typ_jose", "typ_jws", "typ_dpop",
		"rs256_kid_unknown", "rs256_new", "ps256_nokid",
		"rs256_kid_rsa2", "rs256_kid_enc", "es256_kid_ec384",
		"es384_kid_ec256", "eddsa_kid_rsa1", "rs256_wrong_key",
		"rs256_as_ps256", "rs384_as_rs256", "ps256_saltmax",
		"ps256_salt0",
		"noncanon_sig", "padded_sig", "padded_hdr", "trail_dot",
		"trail_part", "trail_hdr_json", "trail_claims_json",
		"rs256_sig_zero_prefix", "rs256_sig_short", "es256_der",
		"es256_sig_63", "es256_sig_65", "eddsa_sig_63",
		"es256_rs_zero", "es256_r_zero", "es256_s_zero",
		"es256_r_order", "es256_s_order", "es256_r_max", "es256_s_max",
		"es384_r_order",
		"dup_hdr_alg", "dup_hdr_kid", "dup_claim_exp",
		"dup_claim_tenant",
		"exp_string", "exp_null", "exp_bool", "rs256_expired",
		"es256_wrong_iss",
	};
	struct h_resp	 r;
	size_t		 i, before = count_records();
	char		*tok;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		tok = token(bad[i]);
		ck_assert_int_eq(h_req(&E, "POST", SENTRY, tok, JSON, BODY, NULL,
		    &r), 0);
		ck_assert_msg(r.status == 401, "%s: %ld %s", bad[i], r.status,
		    r.body);
		ck_assert_str_eq(h_errcode(&r), "unauthorized");
		ck_assert_msg(h_header(&r, "WWW-Authenticate") != NULL &&
		    strcmp(h_header(&r, "WWW-Authenticate"), CHALLENGE) == 0,
		    "%s: challenge %s", bad[i],
		    h_header(&r, "WWW-Authenticate"));
		h_resp_free(&r);
		free(tok);
	}
	ck_assert_uint_eq(count_records(), before);
	/* the HS256 tokens of credstore-admin still work beside the JWKS */
	ck_assert_int_eq(status_of("GET", E.tok_admin), 200);
}
END_TEST

/* A key added to the file is accepted without a restart. */
START_TEST(reload_key_added)
{
	expect_n("rs256_new", 401, 2);
	put_jwks_file("jwks_added.json", 0);
	past_this_second();
	expect_n("rs256_new", 200, 8);
	expect_n("rs256", 200, 4);
	ck_assert(h_grep_tree(E.dir, "re-read: 6 usable keys"));
}
END_TEST

/* A key removed from the file (rewritten in place) stops being accepted. */
START_TEST(reload_key_removed)
{
	put_jwks_file("jwks_rotated.json", 1);
	past_this_second();
	expect_n("rs256", 401, 8);
	expect_n("rs256_new", 200, 4);
	expect_n("es256", 200, 2);
}
END_TEST

/* A broken file does not take the keys away; fixing it is enough. */
START_TEST(reload_malformed_keeps_keys)
{
	put_jwks("{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"x\","
	    "\"x\":\"AAAA\",\"y\":\"AAAA\"}]}", 0);
	past_this_second();
	expect_n("rs256_new", 200, 6);
	expect_n("rs256", 401, 2);
	ck_assert(h_grep_tree(E.dir, "jwks: keeping the 5 keys loaded "
	    "before: "));
	ck_assert(h_grep_tree(E.dir, "keys[0] (kid \"x\"): EC coordinates "
	    "must be 32 bytes each, not 3 and 3"));
	/* gone altogether: still the old keys */
	ck_assert_int_eq(unlink(live), 0);
	past_this_second();
	expect_n("rs256_new", 200, 4);
	/* the first set again */
	put_jwks_file("jwks.json", 0);
	past_this_second();
	expect_n("rs256", 200, 6);
	expect_n("rs256_new", 401, 4);
}
END_TEST

/* Writes the JWT secret file of the server by rename, with mode. */
static void
put_secret(const void *p, size_t n, mode_t mode)
{
	char	 path[700], tmp[710];
	int	 fd;

	snprintf(path, sizeof(path), "%s/jwt.secret", E.dir);
	snprintf(tmp, sizeof(tmp), "%s.new", path);
	ck_assert((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600)) != -1);
	ck_assert(write(fd, p, n) == (ssize_t)n);
	ck_assert_int_eq(fchmod(fd, mode), 0);
	ck_assert_int_eq(close(fd), 0);
	ck_assert_int_eq(rename(tmp, path), 0);
}

/*
 * A new JWT secret takes effect without a restart; one others may read is
 * no secret, so HS* tokens are refused until it is private again (issue
 * 12, finding 9).
 */
START_TEST(reload_hs_secret)
{
	char		 path[700], *old, *tok_new;
	unsigned char	 fresh[48];
	size_t		 oldlen;
	time_t		 now = time(NULL);
	char		 claims[256];

	snprintf(path, sizeof(path), "%s/jwt.secret", E.dir);
	ck_assert_ptr_nonnull(old = h_slurp(path, &oldlen));
	ck_assert_int_eq(status_of("GET", E.tok_admin), 200);
	memset(fresh, 'n', sizeof(fresh));
	put_secret(fresh, sizeof(fresh), 0600);
	past_this_second();
	snprintf(claims, sizeof(claims), "{\"sub\":\"carol\",\"org_id\":"
	    "\"acme\",\"role\":\"admin\",\"iss\":\"https://issuer.test\","
	    "\"aud\":\"credstore\",\"exp\":%lld}", (long long)now + 600);
	ck_assert_ptr_nonnull(tok_new = h_mint(&E, claims));
	for (int i = 0; i < 6; i++) {
		ck_assert_int_eq(status_of("GET", E.tok_admin), 401);
		ck_assert_int_eq(status_of("GET", tok_new), 200);
	}
	ck_assert(h_grep_tree(E.dir, "jwt: "));
	/* opened up to everyone: no HS* token at all */
	ck_assert_int_eq(chmod(path, 0644), 0);
	past_this_second();
	for (int i = 0; i < 6; i++)
		ck_assert_int_eq(status_of("GET", tok_new), 401);
	ck_assert(h_grep_tree(E.dir, "is unsafe for a secret"));
	/* the old secret back, private: the old tokens work again */
	put_secret(old, oldlen, 0600);
	past_this_second();
	for (int i = 0; i < 6; i++) {
		ck_assert_int_eq(status_of("GET", E.tok_admin), 200);
		ck_assert_int_eq(status_of("GET", tok_new), 401);
	}
	free(old);
	free(tok_new);
}
END_TEST

/*
 * Start-up: a malformed JWKS, or one without a usable key, leaves the
 * service at 503, and the log names the key and the fault.  Run as a CGI
 * program, which loads everything afresh for its one request.
 */
struct scase {
	const char	*jwks;
	const char	*log;	/* expected in the log */
};

static const struct scase scases[] = {
	{ "{\"keys\":[{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"kid\":\"ok\","
	    "\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"},"
	    "{\"kty\":\"RSA\",\"kid\":\"k2\",\"n\":\"AQAB\",\"e\":\"AQAB\"}]}",
	    "bad.json: keys[1] (kid \"k2\"): RSA modulus of 17 bits; 2048 to "
	    "8192 are allowed" },
	{ "{\"keys\":[{\"kty\":\"RSA\",\"use\":\"enc\"}]}",
	    "bad.json: no usable key (1 skipped): no token could be verified" },
	{ "{\"keys\":[]}",
	    "bad.json: \"keys\" is empty: no token could be verified" },
	{ "{\"keys\":[{\"kty\":\"oct\",\"k\":\"c2VjcmV0\"}]}",
	    "bad.json: keys[0]: a symmetric key (kty \"oct\") does not belong "
	    "in a JWKS" },
	{ "not json", "bad.json: not valid JSON: " },
};

START_TEST(startup_malformed_503)
{
	const struct scase	*c = &scases[_i];
	char			 conf[700], bad[700], out[700], cmd[16384];
	char			*tok;
	FILE			*f;

	snprintf(bad, sizeof(bad), "%s/bad.json", E.dir);
	f = fopen(bad, "w");
	ck_assert(f != NULL);
	fputs(c->jwks, f);
	fclose(f);
	snprintf(conf, sizeof(conf), "%s/bad-jwks.conf", E.dir);
	f = fopen(conf, "w");
	ck_assert(f != NULL);
	fprintf(f, "data_dir = data\nkeyring = keyring\n"
	    "jwt_secret_file = jwt.secret\njwt_jwks_file = bad.json\n"
	    "catalog = %s/etc/catalog.json\n", E.srcdir);
	fclose(f);
	snprintf(out, sizeof(out), "%s/cgi.out", E.dir);
	snprintf(cmd, sizeof(cmd), "env -i CREDSTORE_CONFIG=%s "
	    "REQUEST_METHOD=GET REQUEST_URI=/healthz %s >%s 2>%s.err "
	    "</dev/null", conf, E.fcgi, out, out);
	ck_assert_int_eq(system(cmd), 0);
	ck_assert(h_grep_file(out, "Status: 503"));
	snprintf(cmd, sizeof(cmd), "%s.err", out);
	ck_assert_msg(h_grep_file(cmd, c->log), "log lacks: %s", c->log);
	ck_assert(h_grep_file(cmd, "not ready: "));
	ck_assert(!h_grep_file(cmd, "Sanitizer") &&
	    !h_grep_file(cmd, "runtime error:"));

	/* a valid token gets 503 too, never 200 with some of the keys */
	tok = token("eddsa");
	snprintf(cmd, sizeof(cmd), "env -i CREDSTORE_CONFIG=%s "
	    "REQUEST_METHOD=GET REQUEST_URI=%s HTTP_AUTHORIZATION='Bearer %s' "
	    "%s >%s 2>/dev/null </dev/null", conf, SENTRY, tok, E.fcgi, out);
	free(tok);
	ck_assert_int_eq(system(cmd), 0);
	ck_assert(h_grep_file(out, "Status: 503"));

	/* fixed: the same configuration answers */
	snprintf(cmd, sizeof(cmd), "cp %s/jwks.json %s", vdir, bad);
	ck_assert_int_eq(system(cmd), 0);
	snprintf(cmd, sizeof(cmd), "env -i CREDSTORE_CONFIG=%s "
	    "REQUEST_METHOD=GET REQUEST_URI=/healthz %s >%s 2>/dev/null "
	    "</dev/null", conf, E.fcgi, out);
	ck_assert_int_eq(system(cmd), 0);
	ck_assert(h_grep_file(out, "Status: 200 OK"));
}
END_TEST

/*
 * The same behind lighttpd: started with a malformed JWKS the service is
 * 503 and says why in the log; once the file is fixed it answers,
 * without a restart, and a token of the fixed set is accepted.
 */
START_TEST(startup_malformed_behind_lighttpd)
{
	struct h_resp	r;
	int		i;

	h_stop_server(&E);
	put_jwks("{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"tiny\",\"n\":\"AQAB\","
	    "\"e\":\"AQAB\"}]}", 0);
	ck_assert_int_eq(h_start_server(&E, 503), 503);
	ck_assert_int_eq(status_of("GET", E.tok_admin), 503);
	ck_assert(h_grep_tree(E.dir, "live.json: keys[0] (kid \"tiny\"): RSA "
	    "modulus of 17 bits; 2048 to 8192 are allowed"));
	put_jwks_file("jwks.json", 0);
	/* a process not ready tries again at most once a second */
	for (i = 0; i < 50; i++) {
		ck_assert_int_eq(h_req(&E, "GET", "/healthz", NULL, NULL, NULL,
		    NULL, &r), 0);
		if (r.status == 200)
			break;
		h_resp_free(&r);
		usleep(100 * 1000);
	}
	ck_assert_int_eq(r.status, 200);
	h_resp_free(&r);
	past_this_second();
	expect_n("rs256", 200, 6);
	expect_n("es256", 200, 2);
}
END_TEST

/* After a clean shutdown: no sanitizer report (sanitizer builds only). */
START_TEST(sanitizers_quiet)
{
	if (!h_sanitizer_build()) {
		fprintf(stderr, "SKIPPED: not a sanitizer build\n");
		return;
	}
	h_stop_server(&E);
	ck_assert_msg(!h_sanitizer_report(&E), "sanitizer report in %s",
	    E.errlog);
}
END_TEST

/* The vectors, with exp an hour from now, and the live JWKS. */
static void
make_vectors(void)
{
	const char	*top = getenv("top_srcdir");
	char		 cmd[2048];

	if (top == NULL) {
		fprintf(stderr, "top_srcdir must be set (run via make check)\n");
		exit(99);
	}
	snprintf(vdir, sizeof(vdir), "/tmp/credstore-e2e-jwks-XXXXXX");
	if (mkdtemp(vdir) == NULL) {
		fprintf(stderr, "mkdtemp: %s\n", strerror(errno));
		exit(99);
	}
	snprintf(cmd, sizeof(cmd), "sh '%s/tests/unit/jwks_vectors.sh' '%s' "
	    "%lld && cp '%s/jwks.json' '%s/live.json'", top, vdir,
	    (long long)time(NULL) + 3600, vdir, vdir);
	if (system(cmd) != 0) {
		fprintf(stderr, "%s: failed\n", cmd);
		exit(99);
	}
	snprintf(live, sizeof(live), "%s/live.json", vdir);
}

int
main(void)
{
	Suite		*s;
	TCase		*tc;
	SRunner		*sr;
	int		 failed;
	char		 extra[400], cmd[300];
	struct h_opts	 o = { .procs = 2 };

	signal(SIGPIPE, SIG_IGN);
	make_vectors();
	snprintf(extra, sizeof(extra), "jwt_jwks_file = %s\n", live);
	o.conf_extra = extra;
	h_setup(&E, &o);
	s = suite_create("e2e_jwks");
	tc = tcase_create("jwks");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, healthz_ok);
	tcase_add_test(tc, store_with_asymmetric_tokens);
	tcase_add_test(tc, attack_tokens_401);
	tcase_add_test(tc, reload_key_added);
	tcase_add_test(tc, reload_key_removed);
	tcase_add_test(tc, reload_malformed_keeps_keys);
	tcase_add_test(tc, reload_hs_secret);
	tcase_add_loop_test(tc, startup_malformed_503, 0,
	    (int)(sizeof(scases) / sizeof(scases[0])));
	tcase_add_test(tc, startup_malformed_behind_lighttpd);
	tcase_add_test(tc, sanitizers_quiet);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_NOFORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	h_teardown(&E);
	if (getenv("KEEP_E2E") == NULL) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", vdir);
		(void)system(cmd);
	}
	return failed == 0 ? 0 : 1;
}
