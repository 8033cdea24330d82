#include "cs_build.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <check.h>

#include "config.h"
#include "log.h"
#include "ck_run.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/* The temp folder of the running test, as created and as realpath. */
#define DIRLEN	512
static char	 basedir[DIRLEN];	/* one per test case, see main */
static char	 tmpdir[DIRLEN];
static char	 realdir[PATH_MAX];
static char	 conf[DIRLEN + 32];	/* tmpdir/credstore.conf */

/* Per test: a fresh folder inside basedir. */
static void
setup(void)
{
	ck_assert_int_lt(snprintf(tmpdir, sizeof(tmpdir), "%s/t-XXXXXX",
	    basedir), (int)sizeof(tmpdir));
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	ck_assert_ptr_nonnull(realpath(tmpdir, realdir));
	ck_assert_uint_lt(strlen(realdir), DIRLEN);
	snprintf(conf, sizeof(conf), "%s/credstore.conf", tmpdir);
}

static void
rmtree(const char *dir)
{
	DIR		*d;
	struct dirent	*e;
	char		 p[PATH_MAX];
	struct stat	 st;

	if ((d = opendir(dir)) == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
			rmtree(p);
		else
			unlink(p);
	}
	closedir(d);
	rmdir(dir);
}

static void
teardown(void)
{
	rmtree(tmpdir);
}

/*
 * Around the whole test case, in the runner: a failed test skips its own
 * teardown, so basedir is what guarantees nothing is left in /tmp.
 */
static void
base_setup(void)
{
	snprintf(basedir, sizeof(basedir), "/tmp/cs-test-config-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(basedir));
}

static void
base_teardown(void)
{
	rmtree(basedir);
}

static void
write_file(const char *path, const char *text)
{
	FILE *f;

	f = fopen(path, "w");
	ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
	ck_assert_uint_eq(fwrite(text, 1, strlen(text), f), strlen(text));
	ck_assert_int_eq(fclose(f), 0);
}

/* Writes text to the test's config file and loads it. */
static int
load(const char *text, struct config *c, char *err, size_t errlen)
{
	write_file(conf, text);
	err[0] = '\0';
	return config_load(conf, c, err, errlen);
}

/* realdir + "/" + rel */
static const char *
in_dir(const char *rel)
{
	static char p[PATH_MAX];

	ck_assert_int_lt(snprintf(p, sizeof(p), "%s/%s", realdir, rel),
	    (int)sizeof(p));
	return p;
}

/* err holds "CONF:LINE:" and, when given, what. */
static void
assert_err_at(const char *err, unsigned line, const char *what)
{
	char want[PATH_MAX + 32];

	snprintf(want, sizeof(want), "%s:%u:", conf, line);
	ck_assert_msg(strncmp(err, want, strlen(want)) == 0,
	    "error \"%s\" does not start with \"%s\"", err, want);
	if (what != NULL)
		ck_assert_msg(strstr(err, what) != NULL,
		    "error \"%s\" does not mention \"%s\"", err, what);
}

#define MINIMAL	"data_dir = data\nkeyring = keyring\n"

START_TEST(test_defaults)
{
	struct config	 c;
	char		 err[CONFIG_ERRLEN];

	ck_assert_msg(load(MINIMAL, &c, err, sizeof(err)) == 0, "%s", err);
	ck_assert_str_eq(c.path, conf);
	ck_assert_str_eq(c.data_dir, in_dir("data"));
	ck_assert_str_eq(c.keyring, in_dir("keyring"));
#ifdef CS_DATADIR
	ck_assert_str_eq(c.catalog, CS_DATADIR "/credstore/catalog.json");
#else
	ck_assert_ptr_nonnull(c.catalog);
#endif
	ck_assert_ptr_null(c.jwt_secret_file);
	ck_assert_ptr_null(c.jwt_jwks_file);
	ck_assert_ptr_null(c.jwt_issuer);
	ck_assert_ptr_null(c.jwt_audience);
	ck_assert_int_eq(c.jwt_leeway, 60);
	ck_assert_str_eq(c.jwt_role_claim, "role");
	ck_assert_str_eq(c.admin_role, "admin");
	ck_assert_str_eq(c.tenant_claim, "org_id");
	ck_assert_int_eq(c.probe_timeout_ms, 5000);
	ck_assert_ptr_null(c.probe_origin_override);
	ck_assert_int_eq(c.max_body_bytes, 65536);
	ck_assert_int_eq(c.tenant_checks_in_flight, 2);
	ck_assert_int_eq(c.fcgi_threads, 16);
	ck_assert_int_eq(c.tenant_rate_limit, 1000);
	ck_assert_int_eq(c.tenant_rate_burst, 2000);
	ck_assert_int_eq(c.durability, DUR_SYNC);
	ck_assert_int_eq(c.log_level, LOG_LVL_INFO);
	ck_assert_int_eq(c.log_target, LOG_TO_STDERR);
	ck_assert_int_eq(c.log_facility, LOG_AUTHPRIV);
	ck_assert_str_eq(c.proxy_role, "proxy");
	ck_assert_int_eq(c.proxy_timeout_ms, 30000);
	ck_assert_int_eq(c.proxy_max_body_bytes, 1048576);
	ck_assert_int_eq(c.proxy_max_response_bytes, 4194304);
	config_free(&c);
	ck_assert_ptr_null(c.data_dir);
	ck_assert_ptr_null(c.path);
	config_free(&c);	/* twice is harmless */
	config_free(NULL);
}
END_TEST

START_TEST(test_every_key)
{
	struct config	 c;
	char		 err[CONFIG_ERRLEN];
	static const char text[] =
	    "# every key, with assorted spacing\r\n"
	    "data_dir=/var/lib/credstore\n"
	    "  keyring   =   keys/keyring.bin   \n"
	    "\tcatalog\t=\tetc/catalog.json\t\n"
	    "jwt_secret_file = secret.bin\r\n"
	    "jwt_jwks_file = /etc/credstore/jwks.json\n"
	    "jwt_issuer = https://issuer.example\n"
	    "jwt_audience = aud=credstore\n"
	    "jwt_leeway = 0\n"
	    "jwt_role_claim = https://example.com/roles\n"
	    "admin_role = owner\n"
	    "tenant_claim = tenant:id\n"
	    "probe_timeout_ms = 100\n"
	    "probe_origin_override = http://127.0.0.1:8080\n"
	    "max_body_bytes = 1024\n"
	    "tenant_checks_in_flight = 14\n"
	    "tenant_rate_limit = 0\n"
	    "tenant_rate_burst = 1\n"
	    "durability = write_nosync\n"
	    "log_level = debug\n";

	ck_assert_msg(load(text, &c, err, sizeof(err)) == 0, "%s", err);
	ck_assert_str_eq(c.data_dir, "/var/lib/credstore");
	ck_assert_str_eq(c.keyring, in_dir("keys/keyring.bin"));
	ck_assert_str_eq(c.catalog, in_dir("etc/catalog.json"));
	ck_assert_str_eq(c.jwt_secret_file, in_dir("secret.bin"));
	ck_assert_str_eq(c.jwt_jwks_file, "/etc/credstore/jwks.json");
	ck_assert_str_eq(c.jwt_issuer, "https://issuer.example");
	ck_assert_str_eq(c.jwt_audience, "aud=credstore");
	ck_assert_int_eq(c.jwt_leeway, 0);
	ck_assert_str_eq(c.jwt_role_claim, "https://example.com/roles");
	ck_assert_str_eq(c.admin_role, "owner");
	ck_assert_str_eq(c.tenant_claim, "tenant:id");
	ck_assert_int_eq(c.probe_timeout_ms, 100);
	ck_assert_str_eq(c.probe_origin_override, "http://127.0.0.1:8080");
	ck_assert_int_eq(c.max_body_bytes, 1024);
	ck_assert_int_eq(c.tenant_checks_in_flight, 14);
	ck_assert_int_eq(c.tenant_rate_limit, 0);
	ck_assert_int_eq(c.tenant_rate_burst, 1);
	ck_assert_int_eq(c.durability, DUR_WRITE_NOSYNC);
	ck_assert_int_eq(c.log_level, LOG_LVL_DEBUG);
	config_free(&c);
}
END_TEST

/*
 * One key set to one value, on line 3 of a file that otherwise holds the
 * required keys.  ok: loads and `check` says the value landed; else the
 * error names the file, line 3 and the key.
 */
#define C64 \
    "a234567890123456789012345678901234567890123456789012345678901234"

enum vcheck { V_NONE, V_LEEWAY, V_TIMEOUT, V_BODY, V_DUR, V_LOG, V_ORIGIN,
    V_ROLE, V_TENANT, V_ADMIN, V_ISSUER, V_CHECKS, V_RATE, V_BURST,
    V_TARGET, V_FACILITY, V_PROXY_ROLE, V_PROXY_TIMEOUT, V_PROXY_BODY,
    V_PROXY_ANSWER, V_THREADS };

static const struct {
	const char	*key;
	const char	*value;
	int		 ok;
	enum vcheck	 check;
	long		 num;
	const char	*str;
} vals[] = {
	{ "jwt_leeway", "0", 1, V_LEEWAY, 0, NULL },
	{ "jwt_leeway", "3600", 1, V_LEEWAY, 3600, NULL },
	{ "jwt_leeway", "3601", 0, V_NONE, 0, NULL },
	{ "jwt_leeway", "-1", 0, V_NONE, 0, NULL },
	{ "jwt_leeway", "abc", 0, V_NONE, 0, NULL },
	{ "jwt_leeway", "10s", 0, V_NONE, 0, NULL },
	{ "jwt_leeway", "", 0, V_NONE, 0, NULL },
	{ "probe_timeout_ms", "100", 1, V_TIMEOUT, 100, NULL },
	{ "probe_timeout_ms", "120000", 1, V_TIMEOUT, 120000, NULL },
	{ "probe_timeout_ms", "99", 0, V_NONE, 0, NULL },
	{ "probe_timeout_ms", "120001", 0, V_NONE, 0, NULL },
	{ "probe_timeout_ms", "abc", 0, V_NONE, 0, NULL },
	{ "probe_timeout_ms", "5000.5", 0, V_NONE, 0, NULL },
	{ "proxy_role", "svc-proxy", 1, V_PROXY_ROLE, 0, "svc-proxy" },
	{ "proxy_role", "", 0, V_NONE, 0, NULL },
	{ "proxy_timeout_ms", "100", 1, V_PROXY_TIMEOUT, 100, NULL },
	{ "proxy_timeout_ms", "600000", 1, V_PROXY_TIMEOUT, 600000, NULL },
	{ "proxy_timeout_ms", "99", 0, V_NONE, 0, NULL },
	{ "proxy_timeout_ms", "600001", 0, V_NONE, 0, NULL },
	{ "proxy_max_body_bytes", "1024", 1, V_PROXY_BODY, 1024, NULL },
	{ "proxy_max_body_bytes", "67108864", 1, V_PROXY_BODY, 67108864, NULL },
	{ "proxy_max_body_bytes", "1023", 0, V_NONE, 0, NULL },
	{ "proxy_max_body_bytes", "67108865", 0, V_NONE, 0, NULL },
	{ "proxy_max_response_bytes", "1024", 1, V_PROXY_ANSWER, 1024, NULL },
	{ "proxy_max_response_bytes", "268435456", 1, V_PROXY_ANSWER,
	    268435456, NULL },
	{ "proxy_max_response_bytes", "268435457", 0, V_NONE, 0, NULL },
	{ "proxy_max_response_bytes", "-1", 0, V_NONE, 0, NULL },
	{ "max_body_bytes", "1024", 1, V_BODY, 1024, NULL },
	{ "max_body_bytes", "16777216", 1, V_BODY, 16777216, NULL },
	{ "max_body_bytes", "16777217", 0, V_NONE, 0, NULL },
	{ "max_body_bytes", "99999999999999999999", 0, V_NONE, 0, NULL },
	{ "max_body_bytes", "1023", 0, V_NONE, 0, NULL },
	{ "max_body_bytes", "1e6", 0, V_NONE, 0, NULL },
	{ "max_body_bytes", "0x10000", 0, V_NONE, 0, NULL },
	{ "durability", "sync", 1, V_DUR, DUR_SYNC, NULL },
	{ "durability", "write_nosync", 1, V_DUR, DUR_WRITE_NOSYNC, NULL },
	{ "durability", "nosync", 1, V_DUR, DUR_NOSYNC, NULL },
	{ "durability", "fast", 0, V_NONE, 0, NULL },
	{ "durability", "SYNC", 0, V_NONE, 0, NULL },
	{ "durability", "", 0, V_NONE, 0, NULL },
	{ "log_level", "error", 1, V_LOG, LOG_LVL_ERROR, NULL },
	{ "log_level", "warn", 1, V_LOG, LOG_LVL_WARN, NULL },
	{ "log_level", "info", 1, V_LOG, LOG_LVL_INFO, NULL },
	{ "log_level", "debug", 1, V_LOG, LOG_LVL_DEBUG, NULL },
	{ "log_level", "verbose", 0, V_NONE, 0, NULL },
	{ "log_level", "", 0, V_NONE, 0, NULL },
	{ "log_target", "stderr", 1, V_TARGET, LOG_TO_STDERR, NULL },
	{ "log_target", "syslog", 1, V_TARGET, LOG_TO_SYSLOG, NULL },
	{ "log_target", "file", 0, V_NONE, 0, NULL },
	{ "log_target", "Syslog", 0, V_NONE, 0, NULL },
	{ "log_target", "", 0, V_NONE, 0, NULL },
	{ "log_facility", "authpriv", 1, V_FACILITY, LOG_AUTHPRIV, NULL },
	{ "log_facility", "daemon", 1, V_FACILITY, LOG_DAEMON, NULL },
	{ "log_facility", "user", 1, V_FACILITY, LOG_USER, NULL },
	{ "log_facility", "local0", 1, V_FACILITY, LOG_LOCAL0, NULL },
	{ "log_facility", "local7", 1, V_FACILITY, LOG_LOCAL7, NULL },
	{ "log_facility", "local8", 0, V_NONE, 0, NULL },
	{ "log_facility", "kern", 0, V_NONE, 0, NULL },
	{ "log_facility", "", 0, V_NONE, 0, NULL },
	{ "probe_origin_override", "https://mock.test", 1, V_ORIGIN, 0,
	    "https://mock.test" },
	{ "probe_origin_override", "http://[::1]:9000", 1, V_ORIGIN, 0,
	    "http://[::1]:9000" },
	{ "probe_origin_override", "http://127.0.0.1:8080/x", 0, V_NONE, 0,
	    NULL },
	{ "probe_origin_override", "http://127.0.0.1:8080/", 0, V_NONE, 0,
	    NULL },
	{ "probe_origin_override", "http://h?x=1", 0, V_NONE, 0, NULL },
	{ "probe_origin_override", "http://user@h", 0, V_NONE, 0, NULL },
	{ "probe_origin_override", "ftp://h", 0, V_NONE, 0, NULL },
	{ "probe_origin_override", "http://", 0, V_NONE, 0, NULL },
	{ "probe_origin_override", "127.0.0.1:8080", 0, V_NONE, 0, NULL },
	{ "probe_origin_override", "http://h:abc", 0, V_NONE, 0, NULL },
	{ "probe_origin_override", "http://h:70000", 0, V_NONE, 0, NULL },
	{ "probe_origin_override", "http://:8080", 0, V_NONE, 0, NULL },
	{ "probe_origin_override", "http://127.0.0.1:8080", 1, V_ORIGIN, 0,
	    "http://127.0.0.1:8080" },
	{ "jwt_role_claim", "roles", 1, V_ROLE, 0, "roles" },
	{ "jwt_role_claim", "realm_access.roles", 1, V_ROLE, 0,
	    "realm_access.roles" },
	{ "jwt_role_claim", "a b", 0, V_NONE, 0, NULL },
	{ "jwt_role_claim", "r\xc3\xb4le", 0, V_NONE, 0, NULL },
	{ "jwt_role_claim", C64, 1, V_ROLE, 0, C64 },
	{ "jwt_role_claim",
	    C64 "5", 0, V_NONE, 0, NULL },
	{ "tenant_claim", "org", 1, V_TENANT, 0, "org" },
	{ "tenant_claim", "org\"id", 0, V_NONE, 0, NULL },
	{ "tenant_claim", "", 0, V_NONE, 0, NULL },
	{ "tenant_checks_in_flight", "1", 1, V_CHECKS, 1, NULL },
	{ "tenant_checks_in_flight", "0", 0, V_NONE, 0, NULL },
	{ "tenant_checks_in_flight", "15", 0, V_NONE, 0, NULL },
	{ "fcgi_threads", "1", 1, V_THREADS, 1, NULL },
	{ "fcgi_threads", "256", 1, V_THREADS, 256, NULL },
	{ "fcgi_threads", "0", 0, V_NONE, 0, NULL },
	{ "fcgi_threads", "257", 0, V_NONE, 0, NULL },
	{ "fcgi_threads", "-4", 0, V_NONE, 0, NULL },
	{ "fcgi_threads", "8x", 0, V_NONE, 0, NULL },
	{ "fcgi_threads", "", 0, V_NONE, 0, NULL },
	{ "tenant_rate_limit", "1000000", 1, V_RATE, 1000000, NULL },
	{ "tenant_rate_limit", "1000001", 0, V_NONE, 0, NULL },
	{ "tenant_rate_limit", "-1", 0, V_NONE, 0, NULL },
	{ "tenant_rate_burst", "1000000", 1, V_BURST, 1000000, NULL },
	{ "tenant_rate_burst", "0", 0, V_NONE, 0, NULL },
	{ "admin_role", "Credential Admin", 1, V_ADMIN, 0, "Credential Admin" },
	{ "admin_role", "", 0, V_NONE, 0, NULL },
	{ "jwt_issuer", "https://iss", 1, V_ISSUER, 0, "https://iss" },
	{ "jwt_issuer", "bad\x01issuer", 0, V_NONE, 0, NULL },
	{ "jwt_issuer", "bad\x7fissuer", 0, V_NONE, 0, NULL },
	{ "jwt_issuer", "bad\xc3(issuer", 0, V_NONE, 0, NULL },
	{ "data_dir", "", 0, V_NONE, 0, NULL },
	{ "catalog", "", 0, V_NONE, 0, NULL },
};

START_TEST(test_values)
{
	struct config	 c;
	char		 err[CONFIG_ERRLEN], text[1024];
	const char	*dd, *kr;
	int		 rc;

	dd = strcmp(vals[_i].key, "data_dir") == 0 ? "" : "data_dir = d\n";
	kr = strcmp(vals[_i].key, "keyring") == 0 ? "" : "keyring = k\n";
	snprintf(text, sizeof(text), "# line 1\n\n%s = %s\n%s%s",
	    vals[_i].key, vals[_i].value, dd, kr);
	rc = load(text, &c, err, sizeof(err));
	if (!vals[_i].ok) {
		if (rc == 0)
			config_free(&c);	/* no leak under CK_FORK=no */
		ck_assert_msg(rc == -1, "%s = \"%s\" accepted", vals[_i].key,
		    vals[_i].value);
		assert_err_at(err, 3, vals[_i].key);
		/* the error leaves nothing allocated behind */
		ck_assert_ptr_null(c.path);
		ck_assert_ptr_null(c.data_dir);
		return;
	}
	ck_assert_msg(rc == 0, "%s = \"%s\": %s", vals[_i].key,
	    vals[_i].value, err);
	switch (vals[_i].check) {
	case V_LEEWAY:
		ck_assert_int_eq(c.jwt_leeway, vals[_i].num);
		break;
	case V_TIMEOUT:
		ck_assert_int_eq(c.probe_timeout_ms, vals[_i].num);
		break;
	case V_CHECKS:
		ck_assert_int_eq(c.tenant_checks_in_flight, vals[_i].num);
		break;
	case V_THREADS:
		ck_assert_int_eq(c.fcgi_threads, vals[_i].num);
		break;
	case V_RATE:
		ck_assert_int_eq(c.tenant_rate_limit, vals[_i].num);
		break;
	case V_BURST:
		ck_assert_int_eq(c.tenant_rate_burst, vals[_i].num);
		break;
	case V_BODY:
		ck_assert_int_eq(c.max_body_bytes, vals[_i].num);
		break;
	case V_DUR:
		ck_assert_int_eq(c.durability, vals[_i].num);
		break;
	case V_LOG:
		ck_assert_int_eq(c.log_level, vals[_i].num);
		break;
	case V_TARGET:
		ck_assert_int_eq(c.log_target, vals[_i].num);
		break;
	case V_FACILITY:
		ck_assert_int_eq(c.log_facility, vals[_i].num);
		break;
	case V_ORIGIN:
		ck_assert_str_eq(c.probe_origin_override, vals[_i].str);
		break;
	case V_ROLE:
		ck_assert_str_eq(c.jwt_role_claim, vals[_i].str);
		break;
	case V_TENANT:
		ck_assert_str_eq(c.tenant_claim, vals[_i].str);
		break;
	case V_ADMIN:
		ck_assert_str_eq(c.admin_role, vals[_i].str);
		break;
	case V_ISSUER:
		ck_assert_str_eq(c.jwt_issuer, vals[_i].str);
		break;
	case V_PROXY_ROLE:
		ck_assert_str_eq(c.proxy_role, vals[_i].str);
		break;
	case V_PROXY_TIMEOUT:
		ck_assert_int_eq(c.proxy_timeout_ms, vals[_i].num);
		break;
	case V_PROXY_BODY:
		ck_assert_int_eq(c.proxy_max_body_bytes, vals[_i].num);
		break;
	case V_PROXY_ANSWER:
		ck_assert_int_eq(c.proxy_max_response_bytes, vals[_i].num);
		break;
	case V_NONE:
		ck_abort_msg("table row %d has no check", _i);
		break;
	}
	config_free(&c);
}
END_TEST

/* Structural errors: the text, the line it must name and a word of it. */
static const struct {
	const char	*text;
	unsigned	 line;
	const char	*what;
} serr[] = {
	{ MINIMAL "bogus = 1\n", 3, "unknown key" },
	{ MINIMAL "bogus = 1\n", 3, "bogus" },
	{ "# c\n" MINIMAL "\n\nData_dir = x\n", 6, "unknown key" },
	{ MINIMAL "data dir = x\n", 3, "unknown key" },
	{ MINIMAL "= value\n", 3, "unknown key" },
	{ "data_dir = a\nkeyring = k\ndata_dir = b\n", 3, "data_dir" },
	{ "data_dir = a\nkeyring = k\n\n# x\njwt_leeway = 1\njwt_leeway = 1\n",
	    6, "jwt_leeway" },
	{ "data_dir = a\njust some words\nkeyring = k\n", 2, NULL },
	{ "data_dir = a\nkeyring = k\njwt_leeway 60\n", 3, NULL },
	{ "data_dir = a\nkeyring = k\n[section]\n", 3, NULL },
};

START_TEST(test_structure)
{
	struct config	 c;
	char		 err[CONFIG_ERRLEN];

	ck_assert_int_eq(load(serr[_i].text, &c, err, sizeof(err)), -1);
	assert_err_at(err, serr[_i].line, serr[_i].what);
	ck_assert_ptr_null(c.data_dir);
}
END_TEST

START_TEST(test_unknown_key_message)
{
	struct config	 c;
	char		 err[CONFIG_ERRLEN], want[PATH_MAX + 32];

	ck_assert_int_eq(load(MINIMAL "colour = blue\n", &c, err, sizeof(err)),
	    -1);
	snprintf(want, sizeof(want), "%s:3: unknown key", conf);
	ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "%s", err);
	ck_assert_ptr_nonnull(strstr(err, "colour"));
}
END_TEST

START_TEST(test_required)
{
	struct config	 c;
	char		 err[CONFIG_ERRLEN];

	ck_assert_int_eq(load("keyring = k\n", &c, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, conf) == err, "%s", err);
	ck_assert_msg(strstr(err, "data_dir") != NULL, "%s", err);
	ck_assert_ptr_null(c.keyring);

	ck_assert_int_eq(load("data_dir = d\n", &c, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, conf) == err, "%s", err);
	ck_assert_msg(strstr(err, "keyring") != NULL, "%s", err);
	ck_assert_ptr_null(c.data_dir);

	ck_assert_int_eq(load("", &c, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, conf) == err, "%s", err);
	ck_assert_msg(strstr(err, "required") != NULL, "%s", err);

	ck_assert_int_eq(load("# only comments\n\n", &c, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "required") != NULL, "%s", err);
}
END_TEST

START_TEST(test_comments_blank)
{
	struct config	 c;
	char		 err[CONFIG_ERRLEN];
	static const char text[] =
	    "# credstore\n"
	    "\n"
	    "   \n"
	    "\t\n"
	    "   # indented comment\n"
	    "#data_dir = commented-out\n"
	    "#bogus_key = 1\n"
	    "\r\n"
	    "data_dir = d\r\n"
	    "# between\n"
	    "keyring = k\n"
	    "\n"
	    "# trailing comment without newline";

	ck_assert_msg(load(text, &c, err, sizeof(err)) == 0, "%s", err);
	ck_assert_str_eq(c.data_dir, in_dir("d"));
	ck_assert_str_eq(c.keyring, in_dir("k"));
	config_free(&c);

	/* last line without a newline still counts */
	ck_assert_msg(load("data_dir = d\nkeyring = k", &c, err,
	    sizeof(err)) == 0, "%s", err);
	ck_assert_str_eq(c.keyring, in_dir("k"));
	config_free(&c);
}
END_TEST

START_TEST(test_missing_file)
{
	struct config	 c;
	char		 err[CONFIG_ERRLEN], path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/nope.conf", tmpdir);
	c.data_dir = (char *)"garbage";
	ck_assert_int_eq(config_load(path, &c, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, path) == err, "%s", err);
	ck_assert_ptr_null(c.data_dir);
}
END_TEST

/* A folder opens for reading but cannot be read: a read error. */
START_TEST(test_dir_as_file)
{
	struct config	 c;
	char		 err[CONFIG_ERRLEN];

	ck_assert_int_eq(config_load(tmpdir, &c, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, tmpdir) == err, "%s", err);
	ck_assert_ptr_null(c.path);
}
END_TEST

START_TEST(test_unreadable)
{
	struct config	 c;
	char		 err[CONFIG_ERRLEN];

	write_file(conf, MINIMAL);
	ck_assert_int_eq(chmod(conf, 0), 0);
	if (geteuid() == 0) {
		/* root reads anything; only check that it still loads */
		ck_assert_int_eq(config_load(conf, &c, err, sizeof(err)), 0);
		config_free(&c);
		return;
	}
	ck_assert_int_eq(config_load(conf, &c, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, conf) == err, "%s", err);
	ck_assert_msg(strstr(err, "ermission") != NULL, "%s", err);
}
END_TEST

START_TEST(test_long_line)
{
	struct config	 c;
	char		 err[CONFIG_ERRLEN], *text;
	size_t		 n = 6000, l;

	text = malloc(n + 64);
	ck_assert_ptr_nonnull(text);
	snprintf(text, n + 64, "data_dir = d\nkeyring = k\njwt_issuer = ");
	l = strlen(text);
	memset(text + l, 'i', n);
	text[l + n] = '\0';
	ck_assert_int_eq(load(text, &c, err, sizeof(err)), -1);
	assert_err_at(err, 3, NULL);
	free(text);
}
END_TEST

/* Relative paths follow the file, not the working directory. */
START_TEST(test_relative_paths)
{
	struct config	 c;
	char		 err[CONFIG_ERRLEN], sub[PATH_MAX], path[PATH_MAX];
	char		 cwd[PATH_MAX], r[PATH_MAX];

	snprintf(sub, sizeof(sub), "%s/sub", tmpdir);
	ck_assert_int_eq(mkdir(sub, 0700), 0);
	snprintf(path, sizeof(path), "%s/sub/c.conf", tmpdir);
	write_file(path, "data_dir = data\nkeyring = keys/k\n");
	ck_assert_ptr_nonnull(getcwd(cwd, sizeof(cwd)));
	ck_assert_int_eq(chdir("/"), 0);
	ck_assert_msg(config_load(path, &c, err, sizeof(err)) == 0, "%s",
	    err);
	ck_assert_str_eq(c.data_dir, in_dir("sub/data"));
	ck_assert_str_eq(c.keyring, in_dir("sub/keys/k"));
	config_free(&c);

	/* a path given through "sub/.." and one with no folder at all */
	snprintf(path, sizeof(path), "%s/sub/../credstore.conf", tmpdir);
	write_file(conf, "data_dir = data\nkeyring = k\n");
	ck_assert_msg(config_load(path, &c, err, sizeof(err)) == 0, "%s",
	    err);
	ck_assert_msg(c.data_dir[0] == '/', "%s", c.data_dir);
	ck_assert_int_eq(mkdir(c.data_dir, 0700), 0);
	ck_assert_ptr_nonnull(realpath(c.data_dir, r));
	ck_assert_str_eq(r, in_dir("data"));
	config_free(&c);

	ck_assert_int_eq(chdir(tmpdir), 0);
	ck_assert_msg(config_load("credstore.conf", &c, err, sizeof(err)) == 0,
	    "%s", err);
	ck_assert_str_eq(c.path, "credstore.conf");
	ck_assert_str_eq(c.data_dir, in_dir("data"));
	ck_assert_int_eq(chdir("/"), 0);
	ck_assert_str_eq(c.keyring, in_dir("k"));	/* absolute already */
	config_free(&c);
	ck_assert_int_eq(chdir(cwd), 0);
}
END_TEST

START_TEST(test_env_path)
{
	const char *def = config_default_path();

	ck_assert_ptr_nonnull(def);
#ifdef CS_SYSCONFDIR
	ck_assert_str_eq(def, CS_SYSCONFDIR "/credstore/credstore.conf");
#endif
	ck_assert_int_eq(setenv("CREDSTORE_CONFIG", "/srv/cs.conf", 1), 0);
	ck_assert_str_eq(config_path_from_env(), "/srv/cs.conf");
	ck_assert_int_eq(setenv("CREDSTORE_CONFIG", "", 1), 0);
	ck_assert_str_eq(config_path_from_env(), def);
	ck_assert_int_eq(unsetenv("CREDSTORE_CONFIG"), 0);
	ck_assert_str_eq(config_path_from_env(), def);
}
END_TEST

START_TEST(test_durability_name)
{
	ck_assert_str_eq(durability_name(DUR_SYNC), "sync");
	ck_assert_str_eq(durability_name(DUR_WRITE_NOSYNC), "write_nosync");
	ck_assert_str_eq(durability_name(DUR_NOSYNC), "nosync");
	ck_assert_ptr_nonnull(durability_name(DUR__MAX));
}
END_TEST

/* A truncated error buffer is still a terminated string. */
START_TEST(test_small_errbuf)
{
	struct config	 c;
	char		 err[16];

	memset(err, 'X', sizeof(err));
	ck_assert_int_eq(load(MINIMAL "bogus = 1\n", &c, err, sizeof(err)),
	    -1);
	ck_assert_ptr_nonnull(memchr(err, '\0', sizeof(err)));
}
END_TEST

/*
 * The replication keys (SPEC section 11): one value per row on top of a
 * valid replication configuration; ok or the error mentions `what`.
 */
#define REPL_OK	"repl_self = 127.0.0.1:7001\n" \
    "repl_peers = 127.0.0.1:7002, [::1]:7003\n" \
    "repl_forward_url = http://127.0.0.1:8001/cs\n" \
    "repl_secret_file = rsecret\n"

static const struct {
	const char	*extra;		/* appended; replaces a key of REPL_OK */
	const char	*skip;		/* the key of REPL_OK it replaces */
	const char	*what;		/* NULL: loads */
} rvals[] = {
	{ "", NULL, NULL },
	{ "repl_priority = 0\n", NULL, NULL },
	{ "repl_priority = 1000000\n", NULL, NULL },
	{ "repl_priority = 1000001\n", NULL, "repl_priority" },
	{ "repl_priority = -1\n", NULL, "repl_priority" },
	{ "repl_ack_policy = all\n", NULL, NULL },
	{ "repl_ack_policy = one\n", NULL, NULL },
	{ "repl_ack_policy = none\n", NULL, NULL },
	{ "repl_ack_policy = majority\n", NULL, "quorum, all, one or none" },
	{ "repl_ack_policy = QUORUM\n", NULL, "quorum, all, one or none" },
	{ "repl_ack_timeout_ms = 10\n", NULL, NULL },
	{ "repl_ack_timeout_ms = 9\n", NULL, "repl_ack_timeout_ms" },
	{ "repl_ack_timeout_ms = 600001\n", NULL, "repl_ack_timeout_ms" },
	{ "repl_self = host-a.example:1\n", "repl_self", NULL },
	{ "repl_self = 127.0.0.1\n", "repl_self", "expected host:port" },
	{ "repl_self = 127.0.0.1:0\n", "repl_self", "expected host:port" },
	{ "repl_self = 127.0.0.1:65536\n", "repl_self", "expected host:port" },
	{ "repl_self = :7001\n", "repl_self", "expected host:port" },
	{ "repl_self = a b:7001\n", "repl_self", "expected host:port" },
	{ "repl_self = [::1:7001\n", "repl_self", "expected host:port" },
	{ "repl_self = 127.0.0.1:7002\n", "repl_self", "names this site" },
	{ "repl_peers = a:1,b:2,c:3,d:4\n", "repl_peers", NULL },
	{ "repl_peers = a:1,b:2,c:3,d:4,e:5\n", "repl_peers", "at most 4" },
	{ "repl_peers = a:1,,b:2\n", "repl_peers", "host:port, host:port" },
	{ "repl_peers = a:1,b:2,a:1\n", "repl_peers", "one site twice" },
	{ "", "repl_peers", "repl_peers is required" },
	{ "", "repl_forward_url", "repl_forward_url is required" },
	{ "", "repl_secret_file", "repl_secret_file is required" },
	{ "repl_forward_url = https://h:1\n", "repl_forward_url", NULL },
	{ "repl_forward_url = ftp://h\n", "repl_forward_url", "http(s)://" },
	{ "repl_forward_url = http://h/x?y\n", "repl_forward_url", "http(s)://" },
	{ "repl_secret_file = short\n", "repl_secret_file", "32 to 4096" },
	{ "repl_secret_file = open\n", "repl_secret_file", "readable by others" },
	{ "repl_secret_file = none\n", "repl_secret_file", "cannot be read" },
};

static void
write_mode(const char *rel, size_t n, mode_t mode)
{
	char	 buf[64];
	FILE	*f;

	memset(buf, 'k', sizeof(buf));
	f = fopen(in_dir(rel), "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(buf, 1, n, f), n);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_int_eq(chmod(in_dir(rel), mode), 0);
}

START_TEST(test_repl)
{
	struct config	 c;
	char		 err[CONFIG_ERRLEN], text[2048], *p;
	const char	*l, *e;
	size_t		 n = 0;

	write_mode("rsecret", 32, 0640);
	write_mode("short", 31, 0600);
	write_mode("open", 40, 0604);
	n = (size_t)snprintf(text, sizeof(text), MINIMAL);
	for (l = REPL_OK; *l != '\0'; l = e + 1) {
		e = strchr(l, '\n');
		if (rvals[_i].skip == NULL ||
		    strncmp(l, rvals[_i].skip, strlen(rvals[_i].skip)) != 0 ||
		    l[strlen(rvals[_i].skip)] != ' ')
			n += (size_t)snprintf(text + n, sizeof(text) - n, "%.*s",
			    (int)(e - l + 1), l);
	}
	snprintf(text + n, sizeof(text) - n, "%s", rvals[_i].extra);
	if (rvals[_i].what == NULL) {
		ck_assert_msg(load(text, &c, err, sizeof(err)) == 0, "%s", err);
		ck_assert_ptr_nonnull(c.repl_self);
		ck_assert_ptr_nonnull(c.repl_peers);
		ck_assert_str_eq(c.repl_secret_file, in_dir("rsecret"));
		config_free(&c);
		return;
	}
	ck_assert_int_eq(load(text, &c, err, sizeof(err)), -1);
	ck_assert_msg((p = strstr(err, rvals[_i].what)) != NULL,
	    "row %d: \"%s\" does not mention \"%s\"", _i, err, rvals[_i].what);
	ck_assert_msg(strncmp(err, conf, strlen(conf)) == 0, "%s", err);
}
END_TEST

/* Without repl_self: a single site, the defaults of the other keys. */
START_TEST(test_repl_defaults)
{
	struct config	 c;
	char		 err[CONFIG_ERRLEN];
	char		 host[REPL_HOSTLEN];
	unsigned	 port = 0;

	ck_assert_msg(load(MINIMAL, &c, err, sizeof(err)) == 0, "%s", err);
	ck_assert_ptr_null(c.repl_self);
	ck_assert_int_eq(c.repl_priority, 100);
	ck_assert_int_eq(c.repl_ack_policy, REPL_ACK_QUORUM);
	ck_assert_int_eq(c.repl_ack_timeout_ms, 2000);
	config_free(&c);
	ck_assert_msg(load(MINIMAL "repl_peers = a:1\nrepl_priority = 0\n",
	    &c, err, sizeof(err)) == 0, "%s", err);
	ck_assert_ptr_null(c.repl_self);
	ck_assert_str_eq(c.repl_peers, "a:1");
	config_free(&c);
	ck_assert_int_eq(config_hostport(" [::1]:7 ", 9, host, &port), 0);
	ck_assert_str_eq(host, "::1");
	ck_assert_uint_eq(port, 7);
	ck_assert_int_eq(config_hostport("h:70", 2, host, &port), -1);
	ck_assert_str_eq(repl_ack_name(REPL_ACK_ONE), "one");
	ck_assert_str_eq(repl_ack_name(REPL_ACK__MAX), "?");
}
END_TEST

static Suite *
config_suite(void)
{
	Suite	*s = suite_create("config");
	TCase	*tc;

	tc = tcase_create("load");
	tcase_add_unchecked_fixture(tc, base_setup, base_teardown);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_every_key);
	tcase_add_loop_test(tc, test_values, 0, (int)NELEM(vals));
	tcase_add_loop_test(tc, test_structure, 0, (int)NELEM(serr));
	tcase_add_test(tc, test_unknown_key_message);
	tcase_add_test(tc, test_required);
	tcase_add_test(tc, test_comments_blank);
	tcase_add_test(tc, test_missing_file);
	tcase_add_test(tc, test_dir_as_file);
	tcase_add_test(tc, test_unreadable);
	tcase_add_test(tc, test_long_line);
	tcase_add_test(tc, test_relative_paths);
	tcase_add_test(tc, test_small_errbuf);
	tcase_add_loop_test(tc, test_repl, 0, (int)NELEM(rvals));
	tcase_add_test(tc, test_repl_defaults);
	suite_add_tcase(s, tc);

	tc = tcase_create("misc");
	tcase_add_test(tc, test_env_path);
	tcase_add_test(tc, test_durability_name);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return ck_run(config_suite());
}
