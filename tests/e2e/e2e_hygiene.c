/*
 * Secret hygiene (issue #7): after a request has finished, the FastCGI
 * process holds no credential value and no token in its memory.  The one
 * FastCGI process is dumped with gcore (gdb) and the dump searched for
 * the values and the JWT; every hit is printed with the mapping it lies
 * in and the bytes around it, which usually tell whose buffer it is.
 * The logs, at debug level, hold no value and no token either.  Nor does
 * the dump hold a keyring key or the JWT secret: those live in memory
 * that core dumps leave out.
 */
#include "cs_build.h"

#include <elf.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <gnutls/gnutls.h>
#include <json-c/json.h>

#include "harness.h"

#define JSON	"application/json"
#define FORM	"application/x-www-form-urlencoded"
#define DD	"/v1/integrations/datadog/credentials"

static struct h_env E;

/* Recognisable values, unique to this run. */
static char v_api[64], v_app[64], v_tok[64], v_form[64], v_put[64];
static char *tok_form;		/* a token sent in a form body */
static char id_dd[64];

static void
random_hex(char *out, size_t n)
{
	unsigned char	b[16];
	int		fd;
	size_t		i;

	ck_assert_int_ge(fd = open("/dev/urandom", O_RDONLY), 0);
	ck_assert_int_eq(read(fd, b, sizeof(b)), (ssize_t)sizeof(b));
	close(fd);
	for (i = 0; i < sizeof(b) && 2 * i + 2 < n; i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
}

static void
make_value(char *v, size_t n, const char *prefix)
{
	char hex[40];

	random_hex(hex, sizeof(hex));
	snprintf(v, n, "%s%s", prefix, hex);
}

/* The requests whose traces are looked for. */
static void
send_secrets(void)
{
	struct h_resp		 r;
	struct json_object	*o;
	char			 body[1024], path[300], route[512];

	make_value(v_api, sizeof(v_api), "HYGapi");
	make_value(v_app, sizeof(v_app), "HYGapp");
	make_value(v_tok, sizeof(v_tok), "HYGtok");
	make_value(v_form, sizeof(v_form), "HYGfrm");
	make_value(v_put, sizeof(v_put), "HYGput");
	ck_assert_int_eq(h_admin(&E, &tok_form, "token", "--sub", "hygiene",
	    "--tenant", "acme", "--role", "admin", NULL), 0);
	tok_form[strcspn(tok_form, "\n")] = '\0';

	/* JSON, checked against the provider: the values go out in headers */
	snprintf(route, sizeof(route), "{\"path\":\"/api/v2/validate_keys\","
	    "\"match\":{\"header\":\"DD-API-KEY\",\"equals\":\"%s\"},"
	    "\"status\":200,\"body\":\"{}\"}", v_api);
	ck_assert_int_eq(h_mock_route(&E, route), 0);
	snprintf(body, sizeof(body), "{\"credentials\":{\"api_key\":\"%s\","
	    "\"application_key\":\"%s\"},\"label\":\"hygiene\"}", v_api,
	    v_app);
	ck_assert_int_eq(h_req(&E, "POST", DD, E.tok_admin, JSON, body, NULL,
	    &r), 0);
	ck_assert_int_eq(r.status, 201);
	o = h_json(&r);
	ck_assert_str_eq(json_object_get_string(json_object_object_get(o,
	    "status")), "validated");
	snprintf(id_dd, sizeof(id_dd), "%s", json_object_get_string(
	    json_object_object_get(o, "credentialId")));
	json_object_put(o);
	h_resp_free(&r);

	/* a form with its token in the body (RFC 6750 2.2), no check */
	snprintf(body, sizeof(body), "credentials[auth_token]=%s"
	    "&access_token=%s", v_tok, tok_form);
	ck_assert_int_eq(h_req(&E, "POST",
	    "/v1/integrations/sentry/credentials", NULL, FORM, body, NULL,
	    &r), 0);
	ck_assert_int_eq(r.status, 201);
	h_resp_free(&r);

	/* a rejected store: the values were parsed, nothing was kept */
	snprintf(body, sizeof(body), "{\"credentials\":{\"api_key\":\"%s\","
	    "\"application_key\":\"%s\"},\"nope\":1}", v_form, v_form);
	ck_assert_int_eq(h_req(&E, "POST", DD, E.tok_admin, JSON, body, NULL,
	    &r), 0);
	ck_assert_int_eq(r.status, 400);
	h_resp_free(&r);

	/* new values for the first record: decrypted, checked, sealed */
	snprintf(route, sizeof(route), "{\"path\":\"/api/v2/validate_keys\","
	    "\"match\":{\"header\":\"DD-API-KEY\",\"equals\":\"%s\"},"
	    "\"status\":200,\"body\":\"{}\"}", v_put);
	ck_assert_int_eq(h_mock_route(&E, route), 0);
	snprintf(path, sizeof(path), "%s/%s", DD, id_dd);
	snprintf(body, sizeof(body), "{\"credentials\":{\"api_key\":\"%s\","
	    "\"application_key\":\"%s\"}}", v_put, v_put);
	ck_assert_int_eq(h_req(&E, "PUT", path, E.tok_admin, JSON, body, NULL,
	    &r), 0);
	ck_assert_int_eq(r.status, 200);
	h_resp_free(&r);
	snprintf(path, sizeof(path), "%s/%s/validate", DD, id_dd);
	ck_assert_int_eq(h_req(&E, "POST", path, E.tok_admin, NULL, NULL, NULL,
	    &r), 0);
	ck_assert_int_eq(r.status, 200);
	h_resp_free(&r);

	/* and an ordinary request after them all */
	ck_assert_int_eq(h_req(&E, "GET", "/healthz", NULL, NULL, NULL, NULL,
	    &r), 0);
	ck_assert_int_eq(r.status, 200);
	h_resp_free(&r);
}

/* The virtual address of offset off of an ELF core, or 0. */
static unsigned long
core_vaddr(const char *core, size_t len, size_t off)
{
	const Elf64_Ehdr	*eh = (const Elf64_Ehdr *)core;
	const Elf64_Phdr	*ph;
	int			 i;

	if (len < sizeof(*eh) || memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 ||
	    eh->e_phoff + (size_t)eh->e_phnum * sizeof(*ph) > len)
		return 0;
	ph = (const Elf64_Phdr *)(core + eh->e_phoff);
	for (i = 0; i < eh->e_phnum; i++)
		if (ph[i].p_type == PT_LOAD && off >= ph[i].p_offset &&
		    off < ph[i].p_offset + ph[i].p_filesz)
			return ph[i].p_vaddr + (off - ph[i].p_offset);
	return 0;
}

/* The line of /proc/PID/maps (saved in maps) that holds va. */
static void
mapping_of(const char *maps, unsigned long va, char *out, size_t n)
{
	const char	*p = maps, *e;
	unsigned long	 lo, hi;

	snprintf(out, n, "?");
	while (p != NULL && *p != '\0') {
		e = strchr(p, '\n');
		if (sscanf(p, "%lx-%lx", &lo, &hi) == 2 && va >= lo &&
		    va < hi) {
			snprintf(out, n, "%.*s",
			    (int)(e ? e - p : (long)strlen(p)), p);
			return;
		}
		p = e ? e + 1 : NULL;
	}
}

/* Last occurrence of needle in b[0..n), or NULL. */
static const char *
last_of(const char *b, size_t n, const char *needle)
{
	const char	*p = NULL, *q = b;
	size_t		 nl = strlen(needle);

	while (q < b + n && (q = memmem(q, n - (size_t)(q - b), needle,
	    nl)) != NULL)
		p = q++;
	return p;
}

/* 1 when the 8 bytes before p are a FastCGI record header of type t. */
static int
fcgi_record(const char *core, const char *p, int t)
{
	return p - core >= 8 && p[-8] == 1 && p[-7] == t;
}

/*
 * What the bytes before a hit say about the buffer that holds it: the
 * framing of the raw FastCGI records libfcgi read from the socket, its
 * "NAME=value" parameter strings, or libcurl's assembled request.
 */
static const char *
guess(const char *core, size_t len, size_t off)
{
	size_t		 from = off > 1024 ? off - 1024 : 0;
	const char	*b = core + from, *q;
	size_t		 n = off - from;

	if ((n >= 12 && memcmp(core + off - 12, "DD-API-KEY: ", 12) == 0) ||
	    (n >= 20 && memcmp(core + off - 20, "DD-APPLICATION-KEY: ",
	    20) == 0))
		return memmem(b, n, " HTTP/1.1\r\n", 11) != NULL ?
		    "libcurl's assembled request (request line and headers)" :
		    "an outgoing header line";
	if (n >= 25 && memcmp(core + off - 25, "HTTP_AUTHORIZATIONBearer ",
	    25) == 0)
		return "a raw FCGI_PARAMS record (libfcgi's input buffer)";
	if (n >= 8 && memcmp(core + off - 8, "=Bearer ", 8) == 0)
		return "a NAME=value parameter string (libfcgi's params)";
	/* a body after its record header, or before the empty end record */
	q = last_of(b, n, "{\"credentials\":");
	if ((q != NULL && fcgi_record(core, q, 5)) || memmem(core + off,
	    len - off < 128 ? len - off : 128, "\"}}\x01\x05", 5) != NULL)
		return "a raw FCGI_STDIN record (libfcgi's input buffer)";
	if (q != NULL)
		return "a copy of the JSON body";
	if ((q = last_of(b, n, "credentials[")) != NULL)
		return "a copy of the form body";
	if (n >= 1 && core[off - 1] == '"')
		return "a JSON string";
	return "a bare copy";
}

/*
 * Counts the occurrences of needle in the core and prints each with its
 * address, mapping and the bytes before it.
 */
static size_t
report_bytes(const char *what, const void *needle, size_t nl,
    const char *core, size_t len, const char *maps, const char *whole)
{
	const char	*p = core, *q;
	size_t		 hits = 0, off, i, from;
	unsigned long	 va;
	char		 map[300], ctx[200];
	int		 c;

	while ((q = memmem(p, len - (size_t)(p - core), needle, nl)) != NULL) {
		off = (size_t)(q - core);
		p = q + 1;
		/* part of a whole token reported already */
		if (whole != NULL && off >= strlen(whole) - nl &&
		    memcmp(q - (strlen(whole) - nl), whole, strlen(whole)) == 0)
			continue;
		va = core_vaddr(core, len, off);
		mapping_of(maps, va, map, sizeof(map));
		from = off > 48 ? off - 48 : 0;
		for (i = from, c = 0; i < off + nl + 8 && i < len &&
		    c + 5 < (int)sizeof(ctx); i++) {
			unsigned char u = (unsigned char)core[i];

			if (u >= 0x20 && u < 0x7f && u != '\\')
				ctx[c++] = (char)u;
			else
				c += snprintf(ctx + c, sizeof(ctx) - (size_t)c,
				    "\\x%02x", u);
		}
		ctx[c] = '\0';
		fprintf(stderr, "hygiene: %s at core offset %#zx, address %#lx "
		    "[%s]: %s\n    bytes: %s\n", what, off, va, map,
		    guess(core, len, off), ctx);
		hits++;
	}
	return hits;
}

static size_t
report_hits(const char *what, const char *needle, const char *core,
    size_t len, const char *maps, const char *whole)
{
	return report_bytes(what, needle, strlen(needle), core, len, maps,
	    whole);
}

/*
 * Searches the core for every key of the keyring file (the MAC key and
 * each data-key-wrapping key, raw and as written in the file) and for the
 * JWT secret (issue 12, finding 10: they live in MADV_DONTDUMP memory).
 */
static size_t
report_keys(const char *core, size_t len, const char *maps)
{
	char		 path[700], *text, *line, *save, *b64, what[64];
	size_t		 tlen, hits = 0, nkeys = 0;
	gnutls_datum_t	 in, raw;

	snprintf(path, sizeof(path), "%s/keyring", E.dir);
	ck_assert_ptr_nonnull(text = h_slurp(path, &tlen));
	for (line = strtok_r(text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "mac ", 4) == 0)
			b64 = line + 4;
		else if (strncmp(line, "key ", 4) == 0 &&
		    (b64 = strrchr(line, ' ')) != NULL)
			b64++;
		else
			continue;
		in.data = (unsigned char *)b64;
		in.size = (unsigned)strlen(b64);
		ck_assert_int_eq(gnutls_base64_decode2(&in, &raw), 0);
		ck_assert_uint_eq(raw.size, 32);
		snprintf(what, sizeof(what), "keyring key %zu (raw)", nkeys);
		hits += report_bytes(what, raw.data, raw.size, core, len, maps,
		    NULL);
		snprintf(what, sizeof(what), "keyring key %zu (base64)", nkeys);
		hits += report_hits(what, b64, core, len, maps, NULL);
		gnutls_free(raw.data);
		nkeys++;
	}
	ck_assert_uint_ge(nkeys, 2);		/* the MAC key and one key */
	free(text);
	snprintf(path, sizeof(path), "%s/jwt.secret", E.dir);
	ck_assert_ptr_nonnull(text = h_slurp(path, &tlen));
	ck_assert_uint_ge(tlen, 32);
	/* its first 16 bytes are as telling as the whole */
	hits += report_bytes("JWT secret", text, 16, core, len, maps, NULL);
	free(text);
	return hits;
}

START_TEST(core_holds_no_secret)
{
	pid_t		 pids[4];
	char		 cmd[2048], maps_path[700], core_path[700];
	char		 exe[PATH_MAX], want[PATH_MAX];
	char		*core, *maps, *sig;
	size_t		 len, mlen, hits = 0;
	int		 np;

	send_secrets();
	usleep(300000);		/* FCGX_Finish_r has run */
	np = h_fcgi_pids(&E, pids, 4);
	ck_assert_int_eq(np, 1);
	snprintf(maps_path, sizeof(maps_path), "/proc/%ld/maps", (long)pids[0]);
	ck_assert_ptr_nonnull(maps = h_slurp(maps_path, &mlen));
	/*
	 * Under a sanitizer (freed memory sits in a quarantine, and the dump
	 * holds terabytes of shadow) or valgrind (the process is valgrind)
	 * the dump says nothing about the real build: skipped, loudly.
	 */
	snprintf(cmd, sizeof(cmd), "/proc/%ld/exe", (long)pids[0]);
	if (strstr(maps, "libasan") != NULL || strstr(maps, "libtsan") != NULL ||
	    realpath(cmd, exe) == NULL ||
	    realpath(E.fcgi, want) == NULL || strcmp(exe, want) != 0) {
		fprintf(stderr, "hygiene: SKIPPED: the FastCGI process runs "
		    "under a sanitizer or valgrind\n");
		free(maps);
		return;
	}
	snprintf(core_path, sizeof(core_path), "%s/core", E.dir);
	snprintf(cmd, sizeof(cmd), "gcore -o %s %ld >%s/gcore.out 2>&1",
	    core_path, (long)pids[0], E.dir);
	ck_assert_msg(system(cmd) == 0, "gcore failed (is gdb installed?), "
	    "see %s/gcore.out", E.dir);
	snprintf(core_path, sizeof(core_path), "%s/core.%ld", E.dir,
	    (long)pids[0]);
	ck_assert_ptr_nonnull(core = h_slurp(core_path, &len));
	/* the dump is of the right process: its own log prefix is there */
	ck_assert(memmem(core, len, "credstore", 9) != NULL);

	hits += report_hits("api_key value", v_api, core, len, maps, NULL);
	hits += report_hits("application_key value", v_app, core, len, maps,
	    NULL);
	hits += report_hits("form value", v_tok, core, len, maps, NULL);
	hits += report_hits("rejected value", v_form, core, len, maps, NULL);
	hits += report_hits("PUT value", v_put, core, len, maps, NULL);
	hits += report_hits("header JWT", E.tok_admin, core, len, maps, NULL);
	hits += report_hits("form JWT", tok_form, core, len, maps, NULL);
	/* a token cut short is still a token: look for its signature too */
	sig = strrchr(E.tok_admin, '.') + 1;
	hits += report_hits("header JWT signature", sig, core, len, maps,
	    E.tok_admin);
	sig = strrchr(tok_form, '.') + 1;
	hits += report_hits("form JWT signature", sig, core, len, maps,
	    tok_form);
	hits += report_keys(core, len, maps);
	/* the search can succeed: the catalog is in the process */
	ck_assert(memmem(core, len, "validate_keys", 13) != NULL);
	unlink(core_path);
	free(core);
	free(maps);
	ck_assert_msg(hits == 0, "%zu secrets found in the FastCGI process "
	    "after the requests finished (see above)", hits);
}
END_TEST

/* Debug-level logs: no value, no token. */
START_TEST(debug_logs_clean)
{
	char		 path[700];
	const char	*needles[9];
	size_t		 i;

	ck_assert_ptr_nonnull(tok_form);	/* the secrets were sent */
	needles[0] = v_api;
	needles[1] = v_app;
	needles[2] = v_tok;
	needles[3] = v_form;
	needles[4] = v_put;
	needles[5] = E.tok_admin;
	needles[6] = tok_form;
	needles[7] = strrchr(E.tok_admin, '.') + 1;
	needles[8] = strrchr(tok_form, '.') + 1;
	h_stop_server(&E);		/* the processes have said all */
	snprintf(path, sizeof(path), "%s/www/error.log", E.dir);
	for (i = 0; i < sizeof(needles) / sizeof(needles[0]); i++) {
		ck_assert_msg(!h_grep_file(E.errlog, needles[i]),
		    "secret %zu in %s", i, E.errlog);
		ck_assert_msg(!h_grep_file(path, needles[i]),
		    "secret %zu in %s", i, path);
		ck_assert_msg(!h_grep_tree(E.data_dir, needles[i]),
		    "secret %zu in clear under %s", i, E.data_dir);
	}
	/* the log is at debug level and has the requests */
	ck_assert(h_grep_file(E.errlog, "debug: shutting down"));
	ck_assert(h_grep_file(E.errlog, "stored credential crd_"));
}
END_TEST

int
main(void)
{
	Suite		*s;
	TCase		*tc;
	SRunner		*sr;
	int		 failed;
	struct h_opts	 o = { .conf_extra = "", .procs = 1 };

	signal(SIGPIPE, SIG_IGN);
	h_setup(&E, &o);
	s = suite_create("e2e_hygiene");
	tc = tcase_create("hygiene");
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, core_holds_no_secret);
	tcase_add_test(tc, debug_logs_clean);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_NOFORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	h_teardown(&E);
	free(tok_form);
	return failed == 0 ? 0 : 1;
}
