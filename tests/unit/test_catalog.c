#include "cs_build.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <json-c/json.h>

#include "catalog.h"
#include "pattern.h"
#include "ck_run.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
#define ERRLEN		512
/* 64 characters: the longest valid id */
#define A64 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

/*
 * Catalogs are written with single quotes to keep them readable here;
 * q() turns them into JSON.  No test text needs a literal single quote.
 */
static char *
q(const char *s)
{
	char	*d, *p;

	d = strdup(s);
	ck_assert_ptr_nonnull(d);
	for (p = d; *p != '\0'; p++)
		if (*p == '\'')
			*p = '"';
	return d;
}

static struct catalog *
parse_q(const char *text, char *err)
{
	char		*t = q(text);
	struct catalog	*c;

	err[0] = '\0';
	c = catalog_parse(t, strlen(t), "cat.json", err, ERRLEN);
	free(t);
	return c;
}

/* ------------------------------------------------------- a valid catalog */

static const char valid[] =
    "{'providers': ["
    " {'id': 'acme', 'name': 'Acme Cloud', 'authType': 'api_key',"
    "  'description': 'test provider',"
    "  'requiredFields': ['api_key', 'region'],"
    "  'optionalFields': ['org', 'note'],"
    "  'fields': {"
    "   'note': {'label': 'Note', 'secret': false},"
    "   'org': {'label': 'Organisation', 'secret': false,"
    "           'pattern': '^[a-z]+$', 'maxLength': 40},"
    "   'region': {'label': 'Region', 'secret': false,"
    "              'enum': ['us', 'eu', 'ap'], 'default': 'eu'},"
    "   'api_key': {'label': 'API key', 'secret': true}},"
    "  'validation': {'method': 'POST',"
    "   'url': 'https://{{region}}.acme.test/v1/check?org={{org}}',"
    "   'headers': {'X-Key': '{{api_key}}', 'Accept': 'application/json'},"
    "   'basicAuth': {'user': '{{org}}', 'password': '{{api_key}}'},"
    "   'body': {'key': '{{api_key}}', 'n': [1, '{{region}}'], 'z': null},"
    "   'validStatus': [200, 204], 'rejectStatus': [401, 403],"
    "   'expect': {'pointer': '/ok', 'equals': true}}},"
    " {'id': 'acme-oauth', 'name': 'Acme (OAuth)', 'authType': 'oauth2',"
    "  'requiredFields': [], 'optionalFields': [], 'fields': {}},"
    " {'id': 'plain_1', 'name': 'Plain', 'authType': 'saml'},"
    " {'id': 'nocheck', 'name': 'No check', 'authType': 'api_key',"
    "  'requiredFields': ['token'],"
    "  'fields': {'token': {'label': 'Token', 'secret': true,"
    "                       'maxLength': 4096}}}"
    "]}";

START_TEST(test_valid)
{
	char				 err[ERRLEN];
	struct catalog			*c;
	const struct cat_provider	*p;
	const struct cat_field		*f;
	const struct cat_check		*k;

	c = parse_q(valid, err);
	ck_assert_msg(c != NULL, "%s", err);
	ck_assert_uint_eq(c->nproviders, 4);

	p = &c->providers[0];
	ck_assert_str_eq(p->id, "acme");
	ck_assert_str_eq(p->name, "Acme Cloud");
	ck_assert_int_eq(p->auth, AUTH_API_KEY);
	ck_assert_str_eq(p->auth_name, "api_key");
	ck_assert_uint_eq(p->nfields, 4);
	ck_assert_uint_eq(p->nrequired, 2);
	/* required first, in listed order, then optional in listed order */
	ck_assert_str_eq(p->fields[0].name, "api_key");
	ck_assert_str_eq(p->fields[1].name, "region");
	ck_assert_str_eq(p->fields[2].name, "org");
	ck_assert_str_eq(p->fields[3].name, "note");
	ck_assert_int_eq(p->fields[0].required, 1);
	ck_assert_int_eq(p->fields[1].required, 1);
	ck_assert_int_eq(p->fields[2].required, 0);
	ck_assert_int_eq(p->fields[3].required, 0);

	f = &p->fields[0];
	ck_assert_str_eq(f->label, "API key");
	ck_assert_int_eq(f->secret, 1);
	ck_assert_ptr_null(f->enumv);
	ck_assert_ptr_null(f->def);
	ck_assert_ptr_null(f->pattern);
	ck_assert_uint_eq(f->max_len, 4096);

	f = &p->fields[1];
	ck_assert_str_eq(f->label, "Region");
	ck_assert_int_eq(f->secret, 0);
	ck_assert_uint_eq(f->nenum, 3);
	ck_assert_str_eq(f->enumv[0], "us");
	ck_assert_str_eq(f->enumv[1], "eu");
	ck_assert_str_eq(f->enumv[2], "ap");
	ck_assert_str_eq(f->def, "eu");

	f = &p->fields[2];
	ck_assert_str_eq(f->pattern, "^[a-z]+$");
	ck_assert_uint_eq(f->max_len, 40);
	ck_assert_int_eq(regexec(&f->re, "abc", 0, NULL, 0), 0);
	ck_assert_int_ne(regexec(&f->re, "ab1", 0, NULL, 0), 0);
	ck_assert_ptr_null(f->def);

	k = p->check;
	ck_assert_ptr_nonnull(k);
	ck_assert_str_eq(k->method, "POST");
	ck_assert_str_eq(k->url,
	    "https://{{region}}.acme.test/v1/check?org={{org}}");
	ck_assert_uint_eq(k->nheaders, 2);
	ck_assert_str_eq(k->headers[0].name, "X-Key");
	ck_assert_str_eq(k->headers[0].value, "{{api_key}}");
	ck_assert_str_eq(k->headers[1].name, "Accept");
	ck_assert_str_eq(k->headers[1].value, "application/json");
	ck_assert_str_eq(k->basic_user, "{{org}}");
	ck_assert_str_eq(k->basic_pass, "{{api_key}}");
	ck_assert_ptr_nonnull(k->body);
	ck_assert_str_eq(json_object_to_json_string_ext(k->body,
	    JSON_C_TO_STRING_PLAIN),
	    "{\"key\":\"{{api_key}}\",\"n\":[1,\"{{region}}\"],\"z\":null}");
	ck_assert_uint_eq(k->nvalid, 2);
	ck_assert_int_eq(k->valid[0], 200);
	ck_assert_int_eq(k->valid[1], 204);
	ck_assert_uint_eq(k->nreject, 2);
	ck_assert_int_eq(k->reject[0], 401);
	ck_assert_int_eq(k->reject[1], 403);
	ck_assert_str_eq(k->expect_pointer, "/ok");
	ck_assert_ptr_nonnull(k->expect_value);
	ck_assert(json_object_is_type(k->expect_value, json_type_boolean));
	ck_assert_int_eq(json_object_get_boolean(k->expect_value), 1);

	p = &c->providers[1];
	ck_assert_str_eq(p->id, "acme-oauth");
	ck_assert_int_eq(p->auth, AUTH_OAUTH2);
	ck_assert_str_eq(p->auth_name, "oauth2");
	ck_assert_uint_eq(p->nfields, 0);
	ck_assert_uint_eq(p->nrequired, 0);
	ck_assert_ptr_null(p->check);

	p = &c->providers[2];
	ck_assert_str_eq(p->id, "plain_1");
	ck_assert_int_eq(p->auth, AUTH_OTHER);
	ck_assert_str_eq(p->auth_name, "saml");
	ck_assert_uint_eq(p->nfields, 0);

	p = &c->providers[3];
	ck_assert_ptr_null(p->check);
	ck_assert_uint_eq(p->nrequired, 1);
	ck_assert_uint_eq(p->fields[0].max_len, 4096);
	catalog_free(c);
	catalog_free(NULL);
}
END_TEST

/* A check without headers, body, basicAuth, rejectStatus or expect. */
START_TEST(test_minimal_check)
{
	char				 err[ERRLEN];
	struct catalog			*c;
	const struct cat_check		*k;

	c = parse_q("{'providers': [{'id': 'm', 'name': 'M',"
	    " 'authType': 'api_key', 'requiredFields': ['t'],"
	    " 'fields': {'t': {'label': 'T', 'secret': true}},"
	    " 'validation': {'method': 'GET', 'url': 'https://m.test/{{t}}',"
	    "  'validStatus': [200]}}]}", err);
	ck_assert_msg(c != NULL, "%s", err);
	k = c->providers[0].check;
	ck_assert_ptr_nonnull(k);
	ck_assert_str_eq(k->method, "GET");
	ck_assert_uint_eq(k->nheaders, 0);
	ck_assert_ptr_null(k->basic_user);
	ck_assert_ptr_null(k->basic_pass);
	ck_assert_ptr_null(k->body);
	ck_assert_uint_eq(k->nvalid, 1);
	ck_assert_uint_eq(k->nreject, 0);
	ck_assert_ptr_null(k->expect_pointer);
	ck_assert_ptr_null(k->expect_value);
	catalog_free(c);
}
END_TEST

/* ------------------------------------------------------ catalogs refused */

/* Index 0 of every error catalog: a provider that is fine on its own. */
#define GOOD \
    "{'id': 'good', 'name': 'Good', 'authType': 'api_key'," \
    " 'requiredFields': ['t'], 'fields': {'t': {'label': 'T', 'secret': true}}}"

/* Pieces of a provider `bad` with one required field t. */
#define BAD_HEAD \
    "{'id': 'bad', 'name': 'Bad', 'authType': 'api_key'," \
    " 'requiredFields': ['t'],"
#define T_FIELD	"'t': {'label': 'T', 'secret': true}"
/* A provider `bad` with fields {t, EXTRA-FIELDS} and a validation block. */
#define BAD_CHECK(optional, fields, check) \
    BAD_HEAD " 'optionalFields': [" optional "], 'fields': {" T_FIELD fields \
    "}, 'validation': {" check "}}"
#define GET_OK	"'method': 'GET', 'validStatus': [200]"

static const struct {
	const char	*bad;	/* provider 1 */
	int		 named;	/* 1: the error names "(bad)" */
	const char	*what;
} perr[] = {
	/* the proxy block (SPEC section 10) */
#define PXP	"{'id': 'bad', 'name': 'B', 'authType': 'api_key'," \
	" 'requiredFields': ['k', 'h'], 'fields': {'k': {'label': 'K'," \
	" 'secret': true}, 'h': {'label': 'H', 'secret': false}}, 'proxy': "
#define PXA	"'allow': [{'methods': ['GET'], 'path': '/v1/'}]"
	{ PXP "[]}", 1, "proxy must be an object" },
	{ PXP "{'baseUrl': 'https://a.test', 'headers': {'X': '{{k}}'}, "
	    PXA ", 'colour': 1}}", 1, "proxy: unknown key 'colour'" },
	{ PXP "{'baseUrl': 'http://a.test', 'headers': {'X': '{{k}}'}, " PXA
	    "}}", 1, "proxy.baseUrl must be https" },
	{ PXP "{'baseUrl': 'https://a.test/', 'headers': {'X': '{{k}}'}, " PXA
	    "}}", 1, "proxy.baseUrl must be https" },
	{ PXP "{'baseUrl': 'https://a.test?x=1', 'headers': {'X': '{{k}}'}, "
	    PXA "}}", 1, "proxy.baseUrl must be https" },
	{ PXP "{'baseUrl': 'https://a.test/x/../y', 'headers': {'X': '{{k}}'}, "
	    PXA "}}", 1, "proxy.baseUrl has no host or a bad path" },
	{ PXP "{'baseUrl': 'https://{{h}}.test', 'headers': {'X': '{{k}}'}, "
	    PXA "}}", 1, "field 'h' is used in the host name" },
	{ PXP "{'baseUrl': 'https://a.test', 'headers': {'X': '{{nope}}'}, "
	    PXA "}}", 1, "placeholder {{nope}} names no field" },
	{ PXP "{'baseUrl': 'https://a.test', " PXA "}}", 1,
	    "proxy needs headers, basicAuth or query" },
	{ PXP "{'baseUrl': 'https://a.test', 'headers': {'X Y': '{{k}}'}, "
	    PXA "}}", 1, "proxy.headers: bad member" },
	{ PXP "{'baseUrl': 'https://a.test', 'query': {'a&b': '{{k}}'}, "
	    PXA "}}", 1, "proxy.query: bad member" },
	{ PXP "{'baseUrl': 'https://a.test', 'basicAuth': {'user': 'u'}, "
	    PXA "}}", 1, "'password' is required" },
	{ PXP "{'baseUrl': 'https://a.test', 'headers': {'X': '{{k}}'}}}", 1,
	    "proxy.allow must be an array" },
	{ PXP "{'baseUrl': 'https://a.test', 'headers': {'X': '{{k}}'}, "
	    "'allow': []}}", 1, "proxy.allow must be an array" },
	{ PXP "{'baseUrl': 'https://a.test', 'headers': {'X': '{{k}}'}, "
	    "'allow': [{'methods': ['TRACE'], 'path': '/'}]}}", 1,
	    "proxy.allow[0].methods[0]" },
	{ PXP "{'baseUrl': 'https://a.test', 'headers': {'X': '{{k}}'}, "
	    "'allow': [{'methods': ['GET', 'GET'], 'path': '/'}]}}", 1,
	    "proxy.allow[0].methods[1]" },
	{ PXP "{'baseUrl': 'https://a.test', 'headers': {'X': '{{k}}'}, "
	    "'allow': [{'methods': [], 'path': '/'}]}}", 1,
	    "proxy.allow[0] must be" },
	{ PXP "{'baseUrl': 'https://a.test', 'headers': {'X': '{{k}}'}, "
	    "'allow': [{'methods': ['GET'], 'path': 'v1/'}]}}", 1,
	    "proxy.allow[0].path" },
	{ PXP "{'baseUrl': 'https://a.test', 'headers': {'X': '{{k}}'}, "
	    "'allow': [{'methods': ['GET'], 'path': '/a/../b'}]}}", 1,
	    "proxy.allow[0].path" },
	{ PXP "{'baseUrl': 'https://a.test', 'headers': {'X': '{{k}}'}, "
	    "'allow': [{'methods': ['GET'], 'path': '/a//b'}]}}", 1,
	    "proxy.allow[0].path" },
	{ PXP "{'baseUrl': 'https://a.test', 'headers': {'X': '{{k}}'}, "
	    "'allow': [{'methods': ['GET'], 'path': '/a%2fb'}]}}", 1,
	    "proxy.allow[0].path" },
	{ PXP "{'baseUrl': 'https://a.test', 'headers': {'X': '{{k}}'}, " PXA
	    ", 'forwardHeaders': ['Authorization']}}", 1,
	    "proxy.forwardHeaders[0]" },
	{ PXP "{'baseUrl': 'https://a.test', 'headers': {'X': '{{k}}'}, " PXA
	    ", 'forwardHeaders': ['X-Forwarded-Host']}}", 1,
	    "proxy.forwardHeaders[0]" },
	{ PXP "{'baseUrl': 'https://a.test', 'headers': {'X': '{{k}}'}, " PXA
	    ", 'forwardHeaders': ['Accept', 'cookie']}}", 1,
	    "proxy.forwardHeaders[1]" },
	{ PXP "{'baseUrl': 'https://a.test', 'headers': {'X': '{{k}}'}, " PXA
	    ", 'forwardHeaders': ['x']}}", 1,
	    "a header the credential sets" },
	/* ids */
	{ "{'id': 'Bad', 'name': 'B', 'authType': 'oauth2'}", 0,
	    "id must match" },
	{ "{'id': 'bAD', 'name': 'B', 'authType': 'oauth2'}", 0,
	    "id must match" },
	{ "{'id': '-bad', 'name': 'B', 'authType': 'oauth2'}", 0,
	    "id must match" },
	{ "{'id': 'bad.x', 'name': 'B', 'authType': 'oauth2'}", 0,
	    "id must match" },
	{ "{'id': 'bad x', 'name': 'B', 'authType': 'oauth2'}", 0,
	    "id must match" },
	{ "{'id': '" A64 "a',"
	    " 'name': 'B', 'authType': 'oauth2'}", 0, "'id'" },
	{ "{'id': '', 'name': 'B', 'authType': 'oauth2'}", 0, "'id'" },
	{ "{'id': 5, 'name': 'B', 'authType': 'oauth2'}", 0, "'id'" },
	{ "{'name': 'B', 'authType': 'oauth2'}", 0, "'id' is required" },
	{ "5", 0, "must be an object" },
	/* provider keys */
	{ "{'id': 'bad', 'name': 'B', 'authType': 'oauth2', 'colour': 'red'}",
	    1, "unknown key 'colour'" },
	{ "{'id': 'bad', 'authType': 'oauth2'}", 1, "'name' is required" },
	{ "{'id': 'bad', 'name': 'B'}", 1, "'authType' is required" },
	{ "{'id': 'bad', 'name': '', 'authType': 'oauth2'}", 1, "'name'" },
	{ "{'id': 'bad', 'name': 'B', 'authType': 'oauth2', 'fields': []}",
	    1, "'fields' must be an object" },
	/* api_key needs required fields */
	{ "{'id': 'bad', 'name': 'B', 'authType': 'api_key'}", 1,
	    "'requiredFields' is required" },
	{ "{'id': 'bad', 'name': 'B', 'authType': 'api_key',"
	    " 'requiredFields': [], 'fields': {}}", 1,
	    "at least one required field" },
	{ "{'id': 'bad', 'name': 'B', 'authType': 'api_key',"
	    " 'requiredFields': [], 'optionalFields': ['o'],"
	    " 'fields': {'o': {'label': 'O', 'secret': false}}}", 1,
	    "at least one required field" },
	{ "{'id': 'bad', 'name': 'B', 'authType': 'api_key',"
	    " 'requiredFields': 't', 'fields': {" T_FIELD "}}", 1,
	    "'requiredFields' must be an array" },
	/* field lists and entries */
	{ BAD_HEAD " 'fields': {}}", 1, "field 't' has no entry in 'fields'" },
	{ BAD_HEAD " 'optionalFields': ['u'], 'fields': {" T_FIELD "}}", 1,
	    "field 'u' has no entry in 'fields'" },
	{ BAD_HEAD " 'fields': {" T_FIELD ", 'extra': {'label': 'E',"
	    " 'secret': false}}}", 1, "fields.extra is in neither" },
	{ BAD_HEAD " 'optionalFields': ['t'], 'fields': {" T_FIELD "}}", 1,
	    "field 't' is listed twice" },
	{ "{'id': 'bad', 'name': 'B', 'authType': 'api_key',"
	    " 'requiredFields': ['t-x'], 'fields': {'t-x': {'label': 'T',"
	    " 'secret': true}}}", 1, "requiredFields[0] must be a field name" },
	{ BAD_HEAD " 'fields': {'t': {'label': 'T', 'secret': true,"
	    " 'hidden': true}}}", 1, "fields.t: unknown key 'hidden'" },
	{ BAD_HEAD " 'fields': {'t': {'secret': true}}}", 1,
	    "'label' is required" },
	{ BAD_HEAD " 'fields': {'t': {'label': 'T'}}}", 1,
	    "fields.t.secret must be true or false" },
	{ BAD_HEAD " 'fields': {'t': {'label': 'T', 'secret': 'yes'}}}", 1,
	    "fields.t.secret must be true or false" },
	{ BAD_HEAD " 'fields': {'t': 'T'}}", 1, "fields.t must be an object" },
	{ BAD_HEAD " 'fields': {'t': {'label': 'T', 'secret': true,"
	    " 'maxLength': 0}}}", 1, "fields.t.maxLength" },
	{ BAD_HEAD " 'fields': {'t': {'label': 'T', 'secret': true,"
	    " 'maxLength': 4097}}}", 1, "fields.t.maxLength" },
	{ BAD_HEAD " 'fields': {'t': {'label': 'T', 'secret': true,"
	    " 'enum': []}}}", 1, "fields.t.enum must be a non-empty array" },
	{ BAD_HEAD " 'fields': {'t': {'label': 'T', 'secret': true,"
	    " 'enum': ['a', 1]}}}", 1, "fields.t.enum[1]" },
	{ BAD_HEAD " 'fields': {'t': {'label': 'T', 'secret': false,"
	    " 'enum': ['a', 'b'], 'default': 'c'}}}", 1,
	    "fields.t.default is not in its enum" },
	{ BAD_HEAD " 'fields': {'t': {'label': 'T', 'secret': false,"
	    " 'enum': ['a', 'b'], 'default': 'A'}}}", 1,
	    "fields.t.default is not in its enum" },
	{ BAD_HEAD " 'fields': {'t': {'label': 'T', 'secret': false,"
	    " 'pattern': '([a-z'}}}", 1, "fields.t.pattern: " },
	{ BAD_HEAD " 'fields': {'t': {'label': 'T', 'secret': false,"
	    " 'pattern': 'a{2,1}'}}}", 1, "fields.t.pattern: " },
	/* what could make regcomp allocate gigabytes (issue 12, finding 13) */
	{ BAD_HEAD " 'fields': {'t': {'label': 'T', 'secret': true,"
	    " 'pattern': '{0,62}++++++++++++'}}}", 1,
	    "fields.t.pattern: a repetition of a repetition" },
	{ BAD_HEAD " 'fields': {'t': {'label': 'T', 'secret': true,"
	    " 'pattern': '((a{0,62}){0,62}){0,62}'}}}", 1,
	    "fields.t.pattern: too large once its repetitions are expanded" },
	{ BAD_HEAD " 'fields': {'t': {'label': 'T', 'secret': true,"
	    " 'pattern': 'a{256}'}}}", 1,
	    "fields.t.pattern: a repetition count over 255 or malformed" },
	{ BAD_HEAD " 'fields': {'t': {'label': 'T', 'secret': false,"
	    " 'pattern': '^[a-z]+$', 'default': 'A1'}}}", 1,
	    "fields.t.default does not match its pattern" },
	{ BAD_HEAD " 'fields': {'t': {'label': 'T', 'secret': false,"
	    " 'maxLength': 3, 'default': 'abcd'}}}", 1, "fields.t.default" },
	/* placeholders */
	{ BAD_CHECK("", "", GET_OK ", 'url': 'https://b.test/{{nope}}'"), 1,
	    "placeholder {{nope}} names no field" },
	{ BAD_CHECK("", "", GET_OK ", 'url': 'https://b.test/x',"
	    " 'headers': {'X-Key': '{{T}}'}"), 1,
	    "placeholder {{T}} names no field" },
	{ BAD_CHECK("", "", GET_OK ", 'url': 'https://b.test/x',"
	    " 'basicAuth': {'user': '{{t}}', 'password': '{{pw}}'}"), 1,
	    "placeholder {{pw}} names no field" },
	{ BAD_CHECK("", "", GET_OK ", 'url': 'https://b.test/x',"
	    " 'body': {'a': ['{{t}}', {'b': '{{nope}}'}]}"), 1,
	    "placeholder {{nope}} names no field" },
	{ BAD_CHECK("", "", GET_OK ", 'url': 'https://b.test/{{}}'"), 1,
	    "bad placeholder" },
	/* fields in the host name need an enum or a pattern */
	{ BAD_CHECK("'host'", ", 'host': {'label': 'H', 'secret': false}",
	    GET_OK ", 'url': 'https://{{host}}/x'"), 1,
	    "field 'host' is used in the host name" },
	{ BAD_CHECK("'host'", ", 'host': {'label': 'H', 'secret': false}",
	    GET_OK ", 'url': 'https://api.{{host}}.example.com/x'"), 1,
	    "field 'host' is used in the host name" },
	{ BAD_CHECK("'host'", ", 'host': {'label': 'H', 'secret': false}",
	    GET_OK ", 'url': 'https://api.example.com:{{host}}/x'"), 1,
	    "field 'host' is used in the host name" },
	{ BAD_CHECK("'host'", ", 'host': {'label': 'H', 'secret': false}",
	    GET_OK ", 'url': 'https://{{host}}'"), 1,
	    "field 'host' is used in the host name" },
	{ BAD_CHECK("'host'", ", 'host': {'label': 'H', 'secret': false}",
	    GET_OK ", 'url': 'https://{{host}}?q=1'"), 1,
	    "field 'host' is used in the host name" },
	{ BAD_CHECK("", "", GET_OK ", 'url': 'https://{{t}}.b.test/x'"), 1,
	    "field 't' is used in the host name" },
	/* url */
	{ BAD_CHECK("", "", GET_OK ", 'url': 'http://b.test/x'"), 1,
	    "must start with https://" },
	{ BAD_CHECK("", "", GET_OK ", 'url': 'HTTPS://b.test/x'"), 1,
	    "must start with https://" },
	{ BAD_CHECK("", "", GET_OK ", 'url': 'ftp://b.test/x'"), 1,
	    "must start with https://" },
	{ BAD_CHECK("", "", GET_OK ", 'url': '//b.test/x'"), 1,
	    "must start with https://" },
	{ BAD_CHECK("", "", GET_OK ", 'url': 'https:///x'"), 1,
	    "has no host" },
	{ BAD_CHECK("", "", GET_OK), 1, "'url' is required" },
	/* method and keys of the check */
	{ BAD_CHECK("", "", "'method': 'DELETE', 'url': 'https://b.test/',"
	    " 'validStatus': [200]"), 1, "validation.method 'DELETE'" },
	{ BAD_CHECK("", "", "'method': 'get', 'url': 'https://b.test/',"
	    " 'validStatus': [200]"), 1, "validation.method 'get'" },
	{ BAD_CHECK("", "", "'url': 'https://b.test/', 'validStatus': [200]"),
	    1, "'method' is required" },
	{ BAD_CHECK("", "", GET_OK ", 'url': 'https://b.test/',"
	    " 'followRedirects': true"), 1,
	    "validation: unknown key 'followRedirects'" },
	{ BAD_HEAD " 'fields': {" T_FIELD "}, 'validation': []}", 1,
	    "validation must be an object" },
	{ BAD_CHECK("", "", GET_OK ", 'url': 'https://b.test/',"
	    " 'headers': ['X']"), 1, "validation.headers must be an object" },
	{ BAD_CHECK("", "", GET_OK ", 'url': 'https://b.test/',"
	    " 'headers': {'X Key': 'v'}"), 1, "bad header 'X Key'" },
	{ BAD_CHECK("", "", GET_OK ", 'url': 'https://b.test/',"
	    " 'headers': {'X:Key': 'v'}"), 1, "bad header 'X:Key'" },
	{ BAD_CHECK("", "", GET_OK ", 'url': 'https://b.test/',"
	    " 'headers': {'X-Key': 5}"), 1, "bad header 'X-Key'" },
	{ BAD_CHECK("", "", GET_OK ", 'url': 'https://b.test/',"
	    " 'headers': {'X-Key': 'a\\r\\nInjected: 1'}"), 1,
	    "bad header 'X-Key'" },
	{ BAD_CHECK("", "", GET_OK ", 'url': 'https://b.test/',"
	    " 'basicAuth': {'user': '{{t}}', 'password': 'p', 'x': 1}"), 1,
	    "validation.basicAuth must be {user, password}" },
	{ BAD_CHECK("", "", GET_OK ", 'url': 'https://b.test/',"
	    " 'basicAuth': {'user': '{{t}}'}"), 1, "'password' is required" },
	/* statuses */
	{ BAD_CHECK("", "", "'method': 'GET', 'url': 'https://b.test/',"
	    " 'validStatus': [99]"), 1,
	    "validation.validStatus[0] must be an HTTP status" },
	{ BAD_CHECK("", "", "'method': 'GET', 'url': 'https://b.test/',"
	    " 'validStatus': [200, 600]"), 1,
	    "validation.validStatus[1] must be an HTTP status" },
	{ BAD_CHECK("", "", GET_OK ", 'url': 'https://b.test/',"
	    " 'rejectStatus': [401, 600]"), 1,
	    "validation.rejectStatus[1] must be an HTTP status" },
	{ BAD_CHECK("", "", GET_OK ", 'url': 'https://b.test/',"
	    " 'rejectStatus': [99]"), 1,
	    "validation.rejectStatus[0] must be an HTTP status" },
	{ BAD_CHECK("", "", "'method': 'GET', 'url': 'https://b.test/',"
	    " 'validStatus': ['200']"), 1,
	    "validation.validStatus[0] must be an HTTP status" },
	{ BAD_CHECK("", "", "'method': 'GET', 'url': 'https://b.test/',"
	    " 'validStatus': [200.5]"), 1,
	    "validation.validStatus[0] must be an HTTP status" },
	{ BAD_CHECK("", "", "'method': 'GET', 'url': 'https://b.test/'"), 1,
	    "validation.validStatus must be an array" },
	{ BAD_CHECK("", "", "'method': 'GET', 'url': 'https://b.test/',"
	    " 'validStatus': 200"), 1,
	    "validation.validStatus must be an array" },
	{ BAD_CHECK("", "", GET_OK ", 'url': 'https://b.test/',"
	    " 'rejectStatus': 401"), 1,
	    "validation.rejectStatus must be an array" },
	{ BAD_CHECK("", "", "'method': 'GET', 'url': 'https://b.test/',"
	    " 'validStatus': [200, 401], 'rejectStatus': [403, 401]"), 1,
	    "status 401 is both valid and rejected" },
	/* expect */
	{ BAD_CHECK("", "", GET_OK ", 'url': 'https://b.test/',"
	    " 'expect': {'pointer': 'ok', 'equals': true}"), 1,
	    "validation.expect.pointer must start with '/'" },
	{ BAD_CHECK("", "", GET_OK ", 'url': 'https://b.test/',"
	    " 'expect': {'pointer': '/ok'}"), 1,
	    "validation.expect must be {pointer, equals}" },
	{ BAD_CHECK("", "", GET_OK ", 'url': 'https://b.test/',"
	    " 'expect': {'pointer': '/ok', 'equals': 1, 'not': 2}"), 1,
	    "validation.expect must be {pointer, equals}" },
	{ BAD_CHECK("", "", GET_OK ", 'url': 'https://b.test/',"
	    " 'expect': {'equals': true}"), 1, "'pointer' is required" },
	{ BAD_CHECK("", "", GET_OK ", 'url': 'https://b.test/',"
	    " 'expect': '/ok'"), 1,
	    "validation.expect must be {pointer, equals}" },
	/* the same id twice */
	{ GOOD, 0, NULL },
};

START_TEST(test_provider_errors)
{
	char		 err[ERRLEN], *text;
	size_t		 n;
	struct catalog	*c;
	const char	*want;
	int		 ok;

	n = strlen(perr[_i].bad) + sizeof(GOOD) + 64;
	text = malloc(n);
	ck_assert_ptr_nonnull(text);
	snprintf(text, n, "{'providers': [%s, %s]}", GOOD, perr[_i].bad);
	c = parse_q(text, err);
	free(text);
	ok = c != NULL;
	catalog_free(c);	/* no leak under CK_FORK=no */
	ck_assert_msg(!ok, "accepted: %s", perr[_i].bad);
	if (perr[_i].what == NULL) {
		/* duplicate id: named by the provider that repeats it */
		want = "cat.json: provider 1 (good): duplicate id";
		ck_assert_msg(strcmp(err, want) == 0, "\"%s\" != \"%s\"", err,
		    want);
		return;
	}
	want = perr[_i].named ? "cat.json: provider 1 (bad): " :
	    "cat.json: provider 1";
	ck_assert_msg(strncmp(err, want, strlen(want)) == 0,
	    "\"%s\" does not start with \"%s\"", err, want);
	ck_assert_msg(strstr(err, perr[_i].what) != NULL,
	    "\"%s\" does not mention \"%s\"", err, perr[_i].what);
}
END_TEST

/* Host placeholders constrained by an enum or a pattern are fine. */
static const char *const hostok[] = {
	BAD_CHECK("'host'", ", 'host': {'label': 'H', 'secret': false,"
	    " 'enum': ['a.test', 'b.test'], 'default': 'a.test'}",
	    GET_OK ", 'url': 'https://{{host}}/x'"),
	BAD_CHECK("'host'", ", 'host': {'label': 'H', 'secret': false,"
	    " 'pattern': '^[a-z0-9-]+$'}",
	    GET_OK ", 'url': 'https://api.{{host}}.example.com/x'"),
	BAD_CHECK("'host'", ", 'host': {'label': 'H', 'secret': false}",
	    GET_OK ", 'url': 'https://b.test/{{host}}?h={{host}}#{{t}}'"),
	BAD_CHECK("", "", GET_OK ", 'url': 'https://b.test/x',"
	    " 'headers': {'Authorization': 'Bearer {{t}}'},"
	    " 'basicAuth': {'user': 'u', 'password': '{{t}}'},"
	    " 'body': {'k': '{{t}}', 'n': 1}"),
};

START_TEST(test_host_ok)
{
	char		 err[ERRLEN], text[2048];
	struct catalog	*c;

	snprintf(text, sizeof(text), "{'providers': [%s]}", hostok[_i]);
	c = parse_q(text, err);
	ck_assert_msg(c != NULL, "%s: %s", hostok[_i], err);
	ck_assert_ptr_nonnull(c->providers[0].check);
	catalog_free(c);
}
END_TEST

static const struct {
	const char	*text;
	const char	*what;
} terr[] = {
	{ "", "invalid JSON" },
	{ "{", "invalid JSON" },
	{ "{'providers': [", "invalid JSON" },
	{ "{'providers': []} x", "invalid JSON" },
	{ "{'providers': [], 'providers': []}", "invalid JSON" },
	{ "{'providers': [NaN]}", "invalid JSON" },
	{ "[]", "expected {\"providers\": [...]}" },
	{ "{}", "expected {\"providers\": [...]}" },
	{ "{'providers': {}}", "expected {\"providers\": [...]}" },
	{ "{'providers': null}", "expected {\"providers\": [...]}" },
	{ "{'providers': [], 'version': 1}",
	    "expected {\"providers\": [...]}" },
	{ "{'Providers': []}", "expected {\"providers\": [...]}" },
	{ "'providers'", "expected {\"providers\": [...]}" },
};

START_TEST(test_top_errors)
{
	char		 err[ERRLEN];
	struct catalog	*c;
	int		 ok;

	c = parse_q(terr[_i].text, err);
	ok = c != NULL;
	catalog_free(c);
	ck_assert_msg(!ok, "accepted: %s", terr[_i].text);
	ck_assert_msg(strncmp(err, "cat.json: ", 10) == 0, "%s", err);
	ck_assert_msg(strstr(err, terr[_i].what) != NULL,
	    "\"%s\" does not mention \"%s\"", err, terr[_i].what);
}
END_TEST

/* The index counts from 0 and points at the first bad provider. */
START_TEST(test_error_index)
{
	char		 err[ERRLEN];
	struct catalog	*c;

	c = parse_q("{'providers': [{'id': 'x'}]}", err);
	ck_assert_ptr_null(c);
	ck_assert_str_eq(err, "cat.json: provider 0 (x): 'name' is required");

	c = parse_q("{'providers': [" GOOD ","
	    " {'id': 'two', 'name': 'T', 'authType': 'oauth2'},"
	    " {'id': 'three', 'name': 'T', 'authType': 'oauth2', 'x': 1},"
	    " {'id': 'four', 'name': 'T', 'authType': 'oauth2', 'y': 1}]}",
	    err);
	ck_assert_ptr_null(c);
	ck_assert_str_eq(err, "cat.json: provider 2 (three): unknown key 'x'");
}
END_TEST

/* ------------------------------------------------------- lookup helpers */

START_TEST(test_find_field)
{
	char				 err[ERRLEN];
	struct catalog			*c;
	const struct cat_provider	*p;

	c = parse_q(valid, err);
	ck_assert_msg(c != NULL, "%s", err);
	ck_assert_ptr_eq(catalog_find(c, "acme"), &c->providers[0]);
	ck_assert_ptr_eq(catalog_find(c, "acme-oauth"), &c->providers[1]);
	ck_assert_ptr_eq(catalog_find(c, "nocheck"), &c->providers[3]);
	ck_assert_ptr_null(catalog_find(c, "ACME"));
	ck_assert_ptr_null(catalog_find(c, "acm"));
	ck_assert_ptr_null(catalog_find(c, "acme "));
	ck_assert_ptr_null(catalog_find(c, ""));
	p = catalog_find(c, "acme");
	ck_assert_ptr_eq(catalog_field(p, "api_key"), &p->fields[0]);
	ck_assert_ptr_eq(catalog_field(p, "region"), &p->fields[1]);
	ck_assert_ptr_eq(catalog_field(p, "note"), &p->fields[3]);
	ck_assert_ptr_null(catalog_field(p, "API_KEY"));
	ck_assert_ptr_null(catalog_field(p, "nope"));
	ck_assert_ptr_null(catalog_field(p, ""));
	ck_assert_ptr_null(catalog_field(&c->providers[1], "api_key"));
	catalog_free(c);
}
END_TEST

static const struct {
	const char	*id;
	int		 ok;
} ids[] = {
	{ "a", 1 },
	{ "0", 1 },
	{ "datadog", 1 },
	{ "splunk-oncall", 1 },
	{ "a_b-c9", 1 },
	{ "9lives", 1 },
	{ "a-", 1 },
	{ A64, 1 },
	{ A64 "a", 0 },
	{ "", 0 },
	{ "A", 0 },
	{ "dataDog", 0 },
	{ "-a", 0 },
	{ "_a", 0 },
	{ "a.b", 0 },
	{ "a b", 0 },
	{ "a/b", 0 },
	{ "a%2Fb", 0 },
	{ "..", 0 },
	{ "caf\xc3\xa9", 0 },
	{ "a\n", 0 },
};

START_TEST(test_valid_id)
{
	ck_assert_msg(catalog_valid_id(ids[_i].id) == ids[_i].ok,
	    "catalog_valid_id(\"%s\") != %d", ids[_i].id, ids[_i].ok);
}
END_TEST

START_TEST(test_next_placeholder)
{
	const char	*s, *name;
	size_t		 pos, start, nlen;

	s = "a{{b}}c{{de_f}}";
	pos = 0;
	ck_assert_int_eq(catalog_next_placeholder(s, &pos, &start, &name,
	    &nlen), 1);
	ck_assert_uint_eq(start, 1);
	ck_assert_uint_eq(nlen, 1);
	ck_assert_int_eq(strncmp(name, "b", nlen), 0);
	ck_assert_ptr_eq(name, s + 3);
	ck_assert_uint_eq(pos, 6);
	ck_assert_int_eq(catalog_next_placeholder(s, &pos, &start, &name,
	    &nlen), 1);
	ck_assert_uint_eq(start, 7);
	ck_assert_uint_eq(nlen, 4);
	ck_assert_int_eq(strncmp(name, "de_f", nlen), 0);
	ck_assert_uint_eq(pos, 15);
	ck_assert_int_eq(catalog_next_placeholder(s, &pos, &start, &name,
	    &nlen), 0);

	pos = 0;
	ck_assert_int_eq(catalog_next_placeholder("no placeholders", &pos,
	    &start, &name, &nlen), 0);
	pos = 0;
	ck_assert_int_eq(catalog_next_placeholder("open {{x", &pos, &start,
	    &name, &nlen), 0);
	pos = 0;
	ck_assert_int_eq(catalog_next_placeholder("}} {x} {{", &pos, &start,
	    &name, &nlen), 0);
	pos = 0;
	s = "{{}}";
	ck_assert_int_eq(catalog_next_placeholder(s, &pos, &start, &name,
	    &nlen), 1);
	ck_assert_uint_eq(start, 0);
	ck_assert_uint_eq(nlen, 0);
	ck_assert_uint_eq(pos, 4);
	/* starting past the first one finds the second */
	s = "{{a}}{{b}}";
	pos = 1;
	ck_assert_int_eq(catalog_next_placeholder(s, &pos, &start, &name,
	    &nlen), 1);
	ck_assert_uint_eq(start, 5);
	ck_assert_int_eq(name[0], 'b');
	ck_assert_uint_eq(pos, 10);
}
END_TEST

static void
assert_str_array(struct json_object *a, const char *const *want, size_t n)
{
	size_t i;

	ck_assert_ptr_nonnull(a);
	ck_assert(json_object_is_type(a, json_type_array));
	ck_assert_uint_eq(json_object_array_length(a), n);
	for (i = 0; i < n; i++)
		ck_assert_str_eq(json_object_get_string(
		    json_object_array_get_idx(a, i)), want[i]);
}

static struct json_object *
member(struct json_object *o, const char *k)
{
	struct json_object *v = NULL;

	ck_assert_msg(json_object_object_get_ex(o, k, &v), "no \"%s\"", k);
	return v;
}

START_TEST(test_provider_json)
{
	char				 err[ERRLEN];
	struct catalog			*c;
	struct json_object		*o;
	static const char *const	 req[] = { "api_key", "region" };
	static const char *const	 opt[] = { "org", "note" };
	static const char *const	 keys[] = { "id", "name", "authType",
	    "requiredFields", "optionalFields", "hasValidation", "hasProxy" };
	size_t				 i;

	c = parse_q(valid, err);
	ck_assert_msg(c != NULL, "%s", err);
	o = catalog_provider_json(&c->providers[0]);
	ck_assert_ptr_nonnull(o);
	ck_assert_int_eq(json_object_object_length(o), (int)NELEM(keys));
	for (i = 0; i < NELEM(keys); i++)
		(void)member(o, keys[i]);
	ck_assert_str_eq(json_object_get_string(member(o, "id")), "acme");
	ck_assert_str_eq(json_object_get_string(member(o, "name")),
	    "Acme Cloud");
	ck_assert_str_eq(json_object_get_string(member(o, "authType")),
	    "api_key");
	assert_str_array(member(o, "requiredFields"), req, 2);
	assert_str_array(member(o, "optionalFields"), opt, 2);
	ck_assert(json_object_is_type(member(o, "hasValidation"),
	    json_type_boolean));
	ck_assert_int_eq(json_object_get_boolean(member(o, "hasValidation")),
	    1);
	/* nothing about secrets, labels, checks or URLs leaks out */
	ck_assert_ptr_null(strstr(json_object_to_json_string(o), "https"));
	ck_assert_ptr_null(strstr(json_object_to_json_string(o), "{{"));
	json_object_put(o);

	o = catalog_provider_json(&c->providers[1]);
	ck_assert_str_eq(json_object_get_string(member(o, "authType")),
	    "oauth2");
	assert_str_array(member(o, "requiredFields"), NULL, 0);
	assert_str_array(member(o, "optionalFields"), NULL, 0);
	ck_assert_int_eq(json_object_get_boolean(member(o, "hasValidation")),
	    0);
	json_object_put(o);

	o = catalog_provider_json(&c->providers[2]);
	ck_assert_str_eq(json_object_get_string(member(o, "authType")),
	    "saml");
	json_object_put(o);
	catalog_free(c);
}
END_TEST

/*
 * SPEC section 2: the field lists as the catalog file gives them, whatever
 * the authType (they once came out empty for anything but api_key).
 */
static const char non_api_key[] =
    "{'providers': ["
    " {'id': 'acme-oauth', 'name': 'Acme (OAuth)', 'authType': 'oauth2',"
    "  'requiredFields': ['client_id'], 'optionalFields': ['tenant'],"
    "  'fields': {'client_id': {'label': 'Client ID', 'secret': false},"
    "             'tenant': {'label': 'Tenant', 'secret': false}}},"
    " {'id': 'acme-saml', 'name': 'Acme (SAML)', 'authType': 'saml',"
    "  'requiredFields': ['entity_id', 'cert'],"
    "  'fields': {'entity_id': {'label': 'Entity', 'secret': false},"
    "             'cert': {'label': 'Certificate', 'secret': false}}},"
    " {'id': 'acme-none', 'name': 'Acme (none)', 'authType': 'oauth2',"
    "  'optionalFields': ['tenant'],"
    "  'fields': {'tenant': {'label': 'Tenant', 'secret': false}}}"
    "]}";

START_TEST(test_provider_json_any_auth)
{
	char				 err[ERRLEN];
	struct catalog			*c;
	struct json_object		*o;
	static const char *const	 oreq[] = { "client_id" };
	static const char *const	 oopt[] = { "tenant" };
	static const char *const	 sreq[] = { "entity_id", "cert" };

	c = parse_q(non_api_key, err);
	ck_assert_msg(c != NULL, "%s", err);
	ck_assert_uint_eq(c->nproviders, 3);

	ck_assert_int_eq(c->providers[0].auth, AUTH_OAUTH2);
	ck_assert_uint_eq(c->providers[0].nrequired, 1);
	ck_assert_int_eq(c->providers[0].fields[0].required, 1);
	ck_assert_int_eq(c->providers[0].fields[1].required, 0);
	o = catalog_provider_json(&c->providers[0]);
	assert_str_array(member(o, "requiredFields"), oreq, 1);
	assert_str_array(member(o, "optionalFields"), oopt, 1);
	json_object_put(o);

	ck_assert_int_eq(c->providers[1].auth, AUTH_OTHER);
	o = catalog_provider_json(&c->providers[1]);
	assert_str_array(member(o, "requiredFields"), sreq, 2);
	assert_str_array(member(o, "optionalFields"), NULL, 0);
	json_object_put(o);

	/* requiredFields may still be left out when the authType is not api_key */
	o = catalog_provider_json(&c->providers[2]);
	assert_str_array(member(o, "requiredFields"), NULL, 0);
	assert_str_array(member(o, "optionalFields"), oopt, 1);
	json_object_put(o);
	catalog_free(c);
}
END_TEST

/* ------------------------------------------------ the regcomp guard */

static const struct {
	const char	*re;
	const char	*why;	/* NULL: accepted */
} pats[] = {
	{ "^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z]([a-z0-9-]{0,61}"
	    "[a-z0-9])?$", NULL },
	{ "^[a-z0-9][a-z0-9-]{0,62}$", NULL },
	{ "^AC[0-9a-f]{32}$", NULL },
	{ "[]{}*+]+", NULL },		/* specials in brackets are literal */
	{ "[[:alnum:]_]{1,255}", NULL },
	{ "(ab|cd)*x{2,}", NULL },
	{ "\\{0,62}", NULL },		/* an escaped brace is literal */
	{ "a**", "a repetition of a repetition" },
	{ "a{2}+", "a repetition of a repetition" },
	{ "(a?)*?", "a repetition of a repetition" },
	{ "{0,62}++++", "a repetition of a repetition" },
	{ "a{0,256}", "a repetition count over 255 or malformed" },
	{ "a{99999999999999999999}", "a repetition count over 255 or malformed" },
	{ "((a{0,62}){0,62}){0,62}", "too large once its repetitions are expanded" },
	{ "(((((((((((((((((a)))))))))))))))))", "groups nested too deep" },
};

START_TEST(test_pattern_check)
{
	char	 why[128];
	int	 rc;

	why[0] = '\0';
	rc = pattern_check(pats[_i].re, why, sizeof(why));
	if (pats[_i].why == NULL)
		ck_assert_msg(rc == 0, "%s refused: %s", pats[_i].re, why);
	else {
		ck_assert_msg(rc == -1, "%s accepted", pats[_i].re);
		ck_assert_str_eq(why, pats[_i].why);
	}
}
END_TEST

START_TEST(test_pattern_check_length)
{
	char	 re[PATTERN_MAX_LEN + 2], why[128];

	memset(re, 'a', sizeof(re));
	re[PATTERN_MAX_LEN] = '\0';
	ck_assert_int_eq(pattern_check(re, why, sizeof(why)), 0);
	re[PATTERN_MAX_LEN] = 'a';
	re[PATTERN_MAX_LEN + 1] = '\0';
	ck_assert_int_eq(pattern_check(re, why, sizeof(why)), -1);
	ck_assert_str_eq(why, "longer than 512 bytes");
}
END_TEST

/* --------------------------------------------------- the shipped catalog */

static struct catalog *
load_bundled(char *err)
{
	const char	*top = getenv("top_srcdir");
	char		 path[PATH_MAX];

	if (top == NULL || *top == '\0') {
		/* run from the build tree's tests/unit without the harness */
		top = "../..";
		snprintf(path, sizeof(path), "%s/etc/catalog.json", top);
		ck_assert_msg(access(path, R_OK) == 0,
		    "top_srcdir is not set and %s is not readable: run with "
		    "top_srcdir=/path/to/source", path);
	}
	ck_assert_int_lt(snprintf(path, sizeof(path), "%s/etc/catalog.json",
	    top), (int)sizeof(path));
	return catalog_load(path, err, ERRLEN);
}

START_TEST(test_bundled)
{
	char				 err[ERRLEN];
	struct catalog			*c;
	const struct cat_provider	*p;
	const struct cat_field		*f;
	static const char *const	 must[] = { "datadog", "pagerduty",
	    "github", "openai", "opsgenie", "slack" };
	size_t				 i, noauth = 0;

	c = load_bundled(err);
	ck_assert_msg(c != NULL, "bundled catalog: %s", err);
	ck_assert_uint_ge(c->nproviders, 25);
	for (i = 0; i < NELEM(must); i++) {
		p = catalog_find(c, must[i]);
		ck_assert_msg(p != NULL, "%s missing", must[i]);
		ck_assert_int_eq(p->auth, AUTH_API_KEY);
		ck_assert_uint_ge(p->nrequired, 1);
		ck_assert_msg(p->check != NULL, "%s has no check", must[i]);
	}
	p = catalog_find(c, "slack");
	ck_assert_ptr_nonnull(p->check->expect_pointer);
	ck_assert_str_eq(p->check->expect_pointer, "/ok");
	ck_assert(json_object_is_type(p->check->expect_value,
	    json_type_boolean));
	ck_assert_int_eq(json_object_get_boolean(p->check->expect_value), 1);

	p = catalog_find(c, "datadog");
	ck_assert_ptr_nonnull(catalog_field(p, "api_key"));
	ck_assert_ptr_nonnull(catalog_field(p, "application_key"));
	ck_assert_int_eq(catalog_field(p, "api_key")->secret, 1);
	f = catalog_field(p, "site");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(f->required, 0);
	ck_assert_ptr_nonnull(f->enumv);
	ck_assert_str_eq(f->def, "datadoghq.com");

	for (i = 0; i < c->nproviders; i++) {
		p = &c->providers[i];
		if (p->auth == AUTH_OAUTH2)
			noauth++;
		if (p->auth == AUTH_API_KEY)
			ck_assert_msg(p->nrequired >= 1, "%s", p->id);
	}
	ck_assert_uint_ge(noauth, 1);
	/* the proxy blocks of SPEC section 10 */
	for (i = 0, noauth = 0; i < c->nproviders; i++)
		if (c->providers[i].proxy != NULL)
			noauth++;
	ck_assert_msg(noauth >= 25, "%zu providers with a proxy", noauth);
	p = catalog_find(c, "datadog");
	ck_assert_ptr_nonnull(p->proxy);
	ck_assert_str_eq(p->proxy->base_url, "https://api.{{site}}");
	/* no block of its own: the validation block's two headers */
	ck_assert_uint_eq(p->proxy->nheaders, 2);
	ck_assert(catalog_proxy_allows(p->proxy, CAT_M_GET, "/api/v1/query",
	    13));
	ck_assert(!catalog_proxy_allows(p->proxy, CAT_M_DELETE,
	    "/api/v1/query", 13));
	catalog_free(c);
}
END_TEST

/* A proxy block: its own credential, the allow list, forwardHeaders. */
START_TEST(test_proxy_block)
{
	char				 err[ERRLEN];
	struct catalog			*c;
	const struct cat_proxy		*px;
	static const char		 text[] =
	    "{'providers': [{'id': 'p', 'name': 'P', 'authType': 'api_key',"
	    " 'requiredFields': ['k', 'site'], 'fields': {'k': {'label': 'K',"
	    " 'secret': true}, 'site': {'label': 'S', 'secret': false,"
	    " 'enum': ['a.test', 'b.test']}}, 'proxy': {'baseUrl':"
	    " 'https://api.{{site}}/v2', 'query': {'key': '{{k}}'},"
	    " 'basicAuth': {'user': 'u', 'password': '{{k}}'},"
	    " 'allow': [{'methods': ['GET', 'POST'], 'path': '/items/'},"
	    " {'methods': ['DELETE'], 'path': '/items/one'}],"
	    " 'forwardHeaders': ['X-Trace']}}]}";

	c = parse_q(text, err);
	ck_assert_msg(c != NULL, "%s", err);
	px = c->providers[0].proxy;
	ck_assert_ptr_nonnull(px);
	ck_assert_uint_eq(px->nquery, 1);
	ck_assert_str_eq(px->query[0].name, "key");
	ck_assert_str_eq(px->basic_user, "u");
	ck_assert_uint_eq(px->nfwd, 1);
	ck_assert(catalog_proxy_allows(px, CAT_M_GET, "/items/", 7));
	ck_assert(catalog_proxy_allows(px, CAT_M_HEAD, "/items/x", 8));
	ck_assert(catalog_proxy_allows(px, CAT_M_POST, "/items/x/y", 10));
	ck_assert(!catalog_proxy_allows(px, CAT_M_PUT, "/items/x", 8));
	ck_assert(!catalog_proxy_allows(px, CAT_M_GET, "/items", 6));
	ck_assert(!catalog_proxy_allows(px, CAT_M_GET, "/itemsx/", 8));
	ck_assert(catalog_proxy_allows(px, CAT_M_DELETE, "/items/one", 10));
	ck_assert(!catalog_proxy_allows(px, CAT_M_DELETE, "/items/one/", 11));
	ck_assert(!catalog_proxy_allows(px, CAT_M_DELETE, "/items/on", 9));
	ck_assert_uint_eq(catalog_method_bit("PATCH"), CAT_M_PATCH);
	ck_assert_uint_eq(catalog_method_bit("get"), 0);
	catalog_free(c);
}
END_TEST

START_TEST(test_load_errors)
{
	char		 err[ERRLEN];
	char		 path[] = "/tmp/cs-test-catalog-XXXXXX";
	struct catalog	*c;
	FILE		*f;
	int		 fd;
	size_t		 i;
	static char	 chunk[65536];

	c = catalog_load("/nonexistent/catalog.json", err, sizeof(err));
	ck_assert_ptr_null(c);
	ck_assert_msg(strncmp(err, "/nonexistent/catalog.json: ", 27) == 0,
	    "%s", err);

	/* errors in a file name the file */
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	f = fdopen(fd, "w");
	ck_assert_ptr_nonnull(f);
	fputs("{\"providers\": [{\"id\": \"x\", \"name\": \"X\", "
	    "\"authType\": \"api_key\"}]}", f);
	ck_assert_int_eq(fclose(f), 0);
	c = catalog_load(path, err, sizeof(err));
	ck_assert_ptr_null(c);
	ck_assert_msg(strncmp(err, path, strlen(path)) == 0, "%s", err);
	ck_assert_ptr_nonnull(strstr(err, ": provider 0 (x): "));

	/* over CATALOG_MAX_BYTES: refused before parsing */
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	memset(chunk, ' ', sizeof(chunk));
	for (i = 0; i <= CATALOG_MAX_BYTES / sizeof(chunk); i++)
		ck_assert_uint_eq(fwrite(chunk, 1, sizeof(chunk), f),
		    sizeof(chunk));
	ck_assert_int_eq(fclose(f), 0);
	c = catalog_load(path, err, sizeof(err));
	ck_assert_ptr_null(c);
	ck_assert_msg(strstr(err, "larger than") != NULL, "%s", err);

	/* empty file */
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fclose(f), 0);
	c = catalog_load(path, err, sizeof(err));
	ck_assert_ptr_null(c);
	ck_assert_msg(strstr(err, "invalid JSON") != NULL, "%s", err);
	unlink(path);
}
END_TEST

/* ------------------------------------------------- the indexed catalog */

/* The bundled catalog's text (malloc'd), read as the service reads it. */
static char *
bundled_text(size_t *len)
{
	const char	*top = getenv("top_srcdir");
	char		 path[PATH_MAX], err[ERRLEN];
	char		*t;

	if (top == NULL || *top == '\0')
		top = "../..";
	ck_assert_int_lt(snprintf(path, sizeof(path), "%s/etc/catalog.json",
	    top), (int)sizeof(path));
	t = catalog_read(path, len, err, sizeof(err));
	ck_assert_msg(t != NULL, "%s", err);
	return t;
}

/* a and b describe the same provider. */
static void
same_provider(const struct cat_provider *a, const struct cat_provider *b)
{
	size_t i;

	ck_assert_str_eq(a->id, b->id);
	ck_assert_str_eq(a->name, b->name);
	ck_assert_str_eq(a->auth_name, b->auth_name);
	ck_assert_int_eq(a->auth, b->auth);
	ck_assert_uint_eq(a->nfields, b->nfields);
	ck_assert_uint_eq(a->nrequired, b->nrequired);
	for (i = 0; i < a->nfields; i++) {
		ck_assert_str_eq(a->fields[i].name, b->fields[i].name);
		ck_assert_int_eq(a->fields[i].secret, b->fields[i].secret);
		ck_assert_uint_eq(a->fields[i].nenum, b->fields[i].nenum);
		ck_assert_uint_eq(a->fields[i].max_len, b->fields[i].max_len);
	}
	ck_assert_int_eq(a->check != NULL, b->check != NULL);
	if (a->check != NULL) {
		ck_assert_str_eq(a->check->url, b->check->url);
		ck_assert_uint_eq(a->check->nheaders, b->check->nheaders);
		ck_assert_uint_eq(a->check->nvalid, b->check->nvalid);
	}
	ck_assert_int_eq(a->proxy != NULL, b->proxy != NULL);
	if (a->proxy != NULL) {
		ck_assert_str_eq(a->proxy->base_url, b->proxy->base_url);
		ck_assert_uint_eq(a->proxy->nallow, b->proxy->nallow);
	}
}

/*
 * The bundled catalog indexed: each provider, found by id, is the one a
 * full parse gives; only the providers asked for are loaded; loading
 * them all gives the file's order.
 */
START_TEST(test_index_bundled)
{
	char				 err[ERRLEN], *t;
	size_t				 len, i, j;
	struct catalog			*full, *idx;
	const struct cat_provider	*p;

	t = bundled_text(&len);
	full = catalog_parse(t, len, "catalog.json", err, sizeof(err));
	ck_assert_msg(full != NULL, "%s", err);
	idx = catalog_index(t, len, "catalog.json", CATALOG_LAZY);
	ck_assert_ptr_nonnull(idx);
	ck_assert_ptr_nonnull(idx->lazy);
	ck_assert_uint_eq(idx->nproviders, full->nproviders);
	/* the last provider alone: nothing else is loaded */
	p = catalog_find(idx, full->providers[full->nproviders - 1].id);
	ck_assert_ptr_eq(p, &idx->providers[full->nproviders - 1]);
	for (j = 0; j + 1 < idx->nproviders; j++)
		ck_assert_ptr_null(idx->providers[j].id);
	ck_assert_ptr_null(catalog_find(idx, "no-such-provider"));
	ck_assert_ptr_null(catalog_find(idx, ""));
	for (i = 0; i < full->nproviders; i++) {
		p = catalog_find(idx, full->providers[i].id);
		ck_assert_msg(p != NULL, "%s", full->providers[i].id);
		same_provider(p, &full->providers[i]);
		ck_assert_ptr_eq(catalog_find(idx, p->id), p);
	}
	ck_assert_int_eq(catalog_load_all(idx), 0);
	for (i = 0; i < full->nproviders; i++)
		same_provider(&idx->providers[i], &full->providers[i]);
	ck_assert_int_eq(catalog_load_all(full), 0);	/* a no-op */
	catalog_free(idx);	/* t with it */
	catalog_free(full);
}
END_TEST

/*
 * Ids and keys written with escapes, strings holding quotes, brackets
 * and backslashes, nested values: the index finds every provider.
 */
START_TEST(test_index_escapes)
{
	static const char text[] =
	    "{ \"providers\" : [\n"
	    " {\"name\": \"Q \\\"}]{[\\\\\", \"\\u0069d\": \"first\","
	    "  \"authType\": \"oauth2\", \"fields\": {}},\n"
	    " {\"id\": \"\\u0061cme\", \"name\": \"Acme\", \"authType\": \"api_key\","
	    "  \"requiredFields\": [\"k\"], \"fields\": {\"k\": {\"label\": "
	    "  \"K [x] {y}\", \"secret\": true, \"enum\": [\"a\", \"b]\"]}}},\n"
	    " {\"authType\": \"api_key\", \"requiredFields\": [\"k\"],"
	    "  \"fields\": {\"k\": {\"label\": \"K\", \"secret\": false,"
	    "  \"maxLength\": 12}}, \"name\": \"Last\", \"id\": \"last\"}\n"
	    "] }\n";
	char				 err[ERRLEN];
	struct catalog			*full, *idx;
	const struct cat_provider	*p;

	full = catalog_parse(text, strlen(text), "e.json", err, sizeof(err));
	ck_assert_msg(full != NULL, "%s", err);
	idx = catalog_index(strdup(text), strlen(text), "e.json", 0);
	ck_assert_ptr_nonnull(idx);
	ck_assert_uint_eq(idx->nproviders, 3);
	p = catalog_find(idx, "last");
	ck_assert_ptr_eq(p, &idx->providers[2]);
	same_provider(p, catalog_find(full, "last"));
	/* its id is written with an escape: loaded to be known */
	p = catalog_find(idx, "acme");
	ck_assert_ptr_eq(p, &idx->providers[1]);
	same_provider(p, catalog_find(full, "acme"));
	ck_assert_str_eq(p->fields[0].enumv[1], "b]");
	p = catalog_find(idx, "first");
	ck_assert_ptr_eq(p, &idx->providers[0]);
	ck_assert_str_eq(p->name, "Q \"}]{[\\");
	ck_assert_ptr_null(catalog_find(idx, "acm"));
	catalog_free(idx);
	catalog_free(full);
}
END_TEST

/* Not the plain shape of a catalog: no index (the caller parses it). */
static const char *const noindex[] = {
	"", "[]", "{}", "{\"providers\": {}}", "{\"providers\": [1]}",
	"{\"providers\": []} x", "{\"providers\": [], \"x\": 1}",
	"{\"providers\": [{\"id\": \"a\"}", "{\"providers\": [{\"id\": \"a}]}",
	"{\"provider\\u0073\": []}", "{\"providers\": [{\"id\" \"a\"}]}",
	"{\"providers\": [{\"id\": \"a\",}]}", "{\"providers\": [{}, ]}",
};

START_TEST(test_index_shape)
{
	struct catalog	*c;
	char		*t = strdup(noindex[_i]);

	ck_assert_ptr_nonnull(t);
	c = catalog_index(t, strlen(t), "s.json", 0);
	ck_assert_msg(c == NULL, "indexed: %s", noindex[_i]);
	free(t);		/* still ours */
}
END_TEST

START_TEST(test_index_empty)
{
	struct catalog *c;

	c = catalog_index(strdup("{\"providers\":[]}"), 16, "e.json", 0);
	ck_assert_ptr_nonnull(c);
	ck_assert_uint_eq(c->nproviders, 0);
	ck_assert_ptr_null(catalog_find(c, "a"));
	ck_assert_int_eq(catalog_load_all(c), 0);
	catalog_free(c);
}
END_TEST

static Suite *
catalog_suite(void)
{
	Suite	*s = suite_create("catalog");
	TCase	*tc;

	tc = tcase_create("parse");
	tcase_add_test(tc, test_valid);
	tcase_add_test(tc, test_proxy_block);
	tcase_add_test(tc, test_minimal_check);
	tcase_add_loop_test(tc, test_provider_errors, 0, (int)NELEM(perr));
	tcase_add_loop_test(tc, test_host_ok, 0, (int)NELEM(hostok));
	tcase_add_loop_test(tc, test_top_errors, 0, (int)NELEM(terr));
	tcase_add_test(tc, test_error_index);
	suite_add_tcase(s, tc);

	tc = tcase_create("lookup");
	tcase_add_test(tc, test_find_field);
	tcase_add_loop_test(tc, test_valid_id, 0, (int)NELEM(ids));
	tcase_add_test(tc, test_next_placeholder);
	tcase_add_test(tc, test_provider_json);
	tcase_add_test(tc, test_provider_json_any_auth);
	tcase_add_loop_test(tc, test_pattern_check, 0, (int)NELEM(pats));
	tcase_add_test(tc, test_pattern_check_length);
	suite_add_tcase(s, tc);

	tc = tcase_create("files");
	tcase_add_test(tc, test_bundled);
	tcase_add_test(tc, test_load_errors);
	suite_add_tcase(s, tc);

	tc = tcase_create("index");
	tcase_add_test(tc, test_index_bundled);
	tcase_add_test(tc, test_index_escapes);
	tcase_add_loop_test(tc, test_index_shape, 0, (int)NELEM(noindex));
	tcase_add_test(tc, test_index_empty);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return ck_run(catalog_suite());
}
