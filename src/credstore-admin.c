/*
 * credstore-admin: the operators' command-line tool (SPEC section 7):
 * main, the table of commands and the small commands (init, token, list,
 * backup, audit, upgrade); the key commands are admin_keys.c's, verify
 * admin_verify.c's, revalidate admin_revalidate.c's, what they share
 * admin.c's.  Exit 0 on success, 1 on
 * failure, 2 on bad usage; errors are one line on stderr.  Works on the
 * same configuration, keyring and Berkeley DB environment as the web
 * binary, concurrently with it.
 */
#include "cs_build.h"

#include <errno.h>
#include <stdint.h>
#include <fcntl.h>
#include <getopt.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>
#include <json-c/json.h>

#include "admin.h"
#include "config.h"
#include "credmeta.h"
#include "crypto.h"
#include "jwt.h"
#include "log.h"
#include "repl.h"
#include "store.h"
#include "util.h"
#include "validate.h"

/* mkdir -p with mode for the directories it creates. */
static int
mkdirs(const char *path, mode_t mode)
{
	char	*p, *s;
	int	 rc = 0;

	if ((p = strdup(path)) == NULL)
		return -1;
	for (s = p + 1; *s != '\0'; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, mode) == -1 && errno != EEXIST)
			rc = -1;
		*s = '/';
	}
	if (rc == 0 && mkdir(p, mode) == -1 && errno != EEXIST)
		rc = -1;
	free(p);
	return rc;
}

/* init --user: who the files belong to (set 0: the caller) */
struct owner {
	int	set;
	uid_t	uid;
	gid_t	gid;
};

/* "permission denied on PATH", else "PATH: WHAT: reason", in err */
static void
path_error(char *err, size_t errlen, const char *path, const char *what)
{
	if (errno == EACCES || errno == EPERM || errno == EROFS)
		snprintf(err, errlen, "permission denied on %s (%s): %s", path,
		    what, errstr(errno));
	else
		snprintf(err, errlen, "%s: %s: %s", path, what, errstr(errno));
}

static int
create_secret(const char *path, const struct owner *o, char *err,
    size_t errlen)
{
	unsigned char	 s[48];
	int		 fd;
	ssize_t		 w;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) == -1) {
		path_error(err, errlen, path, "cannot create the JWT secret");
		return -1;
	}
	if (o->set && fchown(fd, o->uid, o->gid) == -1) {
		path_error(err, errlen, path, "cannot give it to the user");
		close(fd);
		unlink(path);
		return -1;
	}
	if (gnutls_rnd(GNUTLS_RND_KEY, s, sizeof(s)) != 0) {
		close(fd);
		unlink(path);
		snprintf(err, errlen, "random generator failed");
		return -1;
	}
	w = write(fd, s, sizeof(s));
	secure_wipe(s, sizeof(s));
	if (w != (ssize_t)sizeof(s) || fsync(fd) == -1) {
		close(fd);
		unlink(path);
		snprintf(err, errlen, "%s: write failed", path);
		return -1;
	}
	close(fd);
	return 0;
}

/* init's options: --user USER (the files' owner, with USER's group) */
static int
init_options(int argc, char **argv, struct owner *o)
{
	static const struct option opts[] = {
		{ "user", required_argument, NULL, 'u' },
		{ NULL, 0, NULL, 0 },
	};
	struct passwd	 pwbuf, *pw;
	char		 pwtext[4096];
	int		 ch;

	memset(o, 0, sizeof(*o));
	optind = 1;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch != 'u') {
			admin_usage();
			return EX_USAGE;
		}
		if (getpwnam_r(optarg, &pwbuf, pwtext, sizeof(pwtext),
		    &pw) != 0 || pw == NULL)
			return admin_fail("init: no user '%.64s'", optarg);
		o->set = 1;
		o->uid = pw->pw_uid;
		o->gid = pw->pw_gid;
	}
	if (optind != argc) {
		admin_usage();
		return EX_USAGE;
	}
	return -1;
}

/*
 * init [--user USER]: data_dir, keyring and JWT secret created when
 * missing (never replaced), then the storage.  With --user, data_dir and
 * what init creates belong to USER and USER's group, and the storage's
 * files too (admin_open_store acts as data_dir's owner).
 */
static int
cmd_init(struct config *cfg, int argc, char **argv)
{
	struct keyring	*kr;
	struct store	*st;
	struct owner	 o;
	char		 err[512];
	struct stat	 sb;
	int		 rc;

	if ((rc = init_options(argc, argv, &o)) != -1)
		return rc;
	if (mkdirs(cfg->data_dir, 0700) == -1 ||
	    (o.set && chown(cfg->data_dir, o.uid, o.gid) == -1)) {
		path_error(err, sizeof(err), cfg->data_dir, "data_dir");
		return admin_fail("%s", err);
	}
	if (stat(cfg->keyring, &sb) == -1) {
		if (errno != ENOENT) {
			path_error(err, sizeof(err), cfg->keyring, "keyring");
			return admin_fail("%s", err);
		}
		if (keyring_create(cfg->keyring, err, sizeof(err)) == -1)
			return admin_fail("%s", err);
		if (o.set && chown(cfg->keyring, o.uid, o.gid) == -1) {
			path_error(err, sizeof(err), cfg->keyring, "keyring");
			(void)unlink(cfg->keyring);
			return admin_fail("%s", err);
		}
		printf("created keyring %s\n", cfg->keyring);
	}
	if (keyring_load(cfg->keyring, &kr, err, sizeof(err)) == -1)
		return admin_fail("%s", err);
	keyring_free(kr);
	if (cfg->jwt_secret_file != NULL &&
	    stat(cfg->jwt_secret_file, &sb) == -1) {
		if (errno != ENOENT) {
			path_error(err, sizeof(err), cfg->jwt_secret_file,
			    "jwt_secret_file");
			return admin_fail("%s", err);
		}
		if (create_secret(cfg->jwt_secret_file, &o, err,
		    sizeof(err)) == -1)
			return admin_fail("%s", err);
		printf("created JWT secret %s\n", cfg->jwt_secret_file);
	}
	/* a replicated site's databases come from its master (repl-serve) */
	if (cfg->repl_self == NULL) {
		if (admin_open_store(cfg, &st) == -1)
			return EX_FAIL;
		admin_close_store(st);
	}
	printf("ready: data_dir %s\n", cfg->data_dir);
	return EX_OK;
}

static int
cmd_token(struct config *cfg, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "sub", required_argument, NULL, 's' },
		{ "tenant", required_argument, NULL, 't' },
		{ "role", required_argument, NULL, 'r' },
		{ "ttl", required_argument, NULL, 'l' },
		{ NULL, 0, NULL, 0 },
	};
	const char		*sub = NULL, *tenant = NULL;
	struct json_object	*claims, *roles;
	unsigned char		*secret;
	size_t			 slen;
	long			 ttl = 3600;
	char			 err[512], *tok;
	int			 ch, nroles = 0;
	time_t			 now = time(NULL);

	roles = json_object_new_array();
	optind = 1;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 's':
			sub = optarg;
			break;
		case 't':
			tenant = optarg;
			break;
		case 'r':
			json_object_array_add(roles, json_object_new_string(optarg));
			nroles++;
			break;
		case 'l':
			if (parse_long(optarg, 1, 366L * 86400, &ttl) == -1) {
				json_object_put(roles);
				fprintf(stderr, "%s: --ttl must be 1-31622400 seconds\n",
				    admin_progname);
				return EX_USAGE;
			}
			break;
		default:
			json_object_put(roles);
			admin_usage();
			return EX_USAGE;
		}
	}
	if (sub == NULL || tenant == NULL || optind != argc) {
		json_object_put(roles);
		fprintf(stderr, "%s: token needs --sub and --tenant\n",
		    admin_progname);
		return EX_USAGE;
	}
	if (cfg->jwt_secret_file == NULL) {
		json_object_put(roles);
		return admin_fail("%s: jwt_secret_file is not set", cfg->path);
	}
	if (jwt_secret_load(cfg->jwt_secret_file, &secret, &slen, NULL, err,
	    sizeof(err)) == -1) {
		json_object_put(roles);
		return admin_fail("%s", err);
	}
	claims = json_object_new_object();
	json_object_object_add(claims, "sub", json_object_new_string(sub));
	json_object_object_add(claims, cfg->tenant_claim,
	    json_object_new_string(tenant));
	if (nroles == 1) {
		json_object_object_add(claims, cfg->jwt_role_claim,
		    json_object_get(json_object_array_get_idx(roles, 0)));
		json_object_put(roles);
	} else
		json_object_object_add(claims, cfg->jwt_role_claim, roles);
	if (cfg->jwt_issuer != NULL)
		json_object_object_add(claims, "iss",
		    json_object_new_string(cfg->jwt_issuer));
	if (cfg->jwt_audience != NULL)
		json_object_object_add(claims, "aud",
		    json_object_new_string(cfg->jwt_audience));
	json_object_object_add(claims, "iat", json_object_new_int64(now));
	json_object_object_add(claims, "exp", json_object_new_int64(now + ttl));
	tok = jwt_sign_hs256(secret, slen, json_object_to_json_string_ext(claims,
	    JSON_C_TO_STRING_PLAIN));
	jwt_secret_free(secret);
	json_object_put(claims);
	if (tok == NULL)
		return admin_fail("cannot sign the token");
	printf("%s\n", tok);
	free(tok);
	return EX_OK;
}

/*
 * Set by SIGPIPE: the reader of stdout went away (list | head).  The
 * write then fails with EPIPE instead of killing the process, which
 * finishes cleanly: a process that dies with the environment open makes
 * the next one run recovery.
 */
static volatile sig_atomic_t stdout_gone;

static void
on_sigpipe(int sig)
{
	(void)sig;
	stdout_gone = 1;
}

static int
print_rec(const struct cred_rec *r, void *arg)
{
	struct json_object	*o;

	if (stdout_gone)
		return 1;
	if (arg != NULL && strcmp(r->provider, (const char *)arg) != 0)
		return 0;
	o = credmeta_json(r);
	json_object_object_add(o, "tenant", json_object_new_string(r->tenant));
	json_object_object_add(o, "keyId",
	    json_object_new_string(r->sealed.key_id));
	printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return 0;
}

static int
cmd_list(struct config *cfg, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "tenant", required_argument, NULL, 't' },
		{ "provider", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};
	const char	*tenant = NULL, *provider = NULL;
	struct keyring	*kr;
	struct store	*st;
	enum store_rc	 rc;
	int		 ch;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 't':
			tenant = optarg;
			break;
		case 'p':
			provider = optarg;
			break;
		default:
			admin_usage();
			return EX_USAGE;
		}
	}
	if (optind != argc || (provider != NULL &&
	    validate_scalar(VK_PROVIDER, provider, strlen(provider)) != NULL)) {
		admin_usage();
		return EX_USAGE;
	}
	/* the keyring keys the records' MACs */
	if (admin_open_all(cfg, &kr, &st) == -1)
		return EX_FAIL;
	/* without a tenant, a full walk filtered by provider in print_rec */
	rc = store_cred_list(st, tenant, tenant ? provider : NULL, NULL,
	    (size_t)-1, print_rec,
	    tenant ? NULL : (void *)(uintptr_t)provider);
	admin_close_store(st);
	keyring_free(kr);
	if (rc != STORE_OK)
		return admin_fail("list: %s", store_strerror(rc));
	return EX_OK;
}

/* Keeps the first log line's message (Berkeley DB's own reason). */
static void
keep_first_line(const char *line, size_t len, void *arg)
{
	char		*dst = arg;
	const char	*msg, *end = line + len;

	if (*dst != '\0')
		return;
	/* "TIME credstore[PID] LEVEL: message\n" */
	if ((msg = memchr(line, ']', len)) == NULL ||
	    (msg = memchr(msg, ':', (size_t)(end - msg))) == NULL)
		msg = line;
	else
		msg += 2;
	while (end > msg && (end[-1] == '\n' || end[-1] == ' '))
		end--;
	if (msg < end)
		snprintf(dst, 512, "%.*s", (int)(end - msg), msg);
}

/* backup DIR: one error line, with Berkeley DB's reason when it gave one */
static int
cmd_backup(struct config *cfg, int argc, char **argv)
{
	const char	*dir = argv[1];
	struct store	*st;
	char		 err[512], why[512] = "";
	enum store_rc	 rc;

	(void)argc;
	if (admin_open_store(cfg, &st) == -1)
		return EX_FAIL;
	log_set_sink(keep_first_line, why);
	admin_priv_root();	/* the backup is root's when root runs it */
	rc = store_backup(st, dir, err, sizeof(err));
	admin_priv_owner();
	log_set_sink(NULL, NULL);
	admin_close_store(st);
	if (rc != STORE_OK)
		return why[0] != '\0' ? admin_fail("%s (%s)", err, why) :
		    admin_fail("%s", err);
	printf("backup written to %s (the keyring is not in it: keep a copy "
	    "of %s apart)\n", dir, cfg->keyring);
	return EX_OK;
}

static int
print_audit(const char *json, void *arg)
{
	const char		*tenant = arg, *t;
	struct json_object	*o;

	if (stdout_gone)
		return 1;
	if (tenant != NULL) {
		o = json_tokener_parse(json);
		t = o ? json_object_get_string(json_object_object_get(o,
		    "tenant")) : NULL;
		if (t == NULL || strcmp(t, tenant) != 0) {
			json_object_put(o);
			return 0;
		}
		json_object_put(o);
	}
	printf("%s\n", json);
	return 0;
}

static int
cmd_audit(struct config *cfg, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "tenant", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	const char	*tenant = NULL;
	struct store	*st;
	enum store_rc	 rc;
	int		 ch;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch != 't') {
			admin_usage();
			return EX_USAGE;
		}
		tenant = optarg;
	}
	if (optind != argc) {
		admin_usage();
		return EX_USAGE;
	}
	if (admin_open_store(cfg, &st) == -1)
		return EX_FAIL;
	rc = store_audit_list(st, print_audit, (void *)(uintptr_t)tenant);
	admin_close_store(st);
	return rc == STORE_OK ? EX_OK : admin_fail("audit: %s",
	    store_strerror(rc));
}

/*
 * upgrade: every record an older credstore wrote in format 1 written
 * again in the current format (version 1, its MAC), in batches of
 * transactions, while the web processes run or not; a second run finds
 * nothing to do.  A record that is neither readable nor of format 1 is
 * counted failed and left as it is (verify names it).
 */
static int
cmd_upgrade(struct config *cfg, int argc, char **argv)
{
	struct keyring	*kr;
	struct store	*st;
	struct audit_ev	 ev;
	char		 count[64];
	size_t		 seen = 0, upgraded = 0, failed = 0;
	enum store_rc	 rc;

	(void)argc;
	(void)argv;
	if (admin_open_all(cfg, &kr, &st) == -1)
		return EX_FAIL;
	rc = store_cred_upgrade_all(st, &seen, &upgraded, &failed);
	admin_event(&ev, "store.upgrade", rc == STORE_OK && failed == 0 ?
	    "ok" : "failed");
	snprintf(count, sizeof(count), "upgraded=%zu,failed=%zu", upgraded,
	    failed);
	ev.cred_id = count;
	(void)store_audit_event(st, &ev);
	admin_close_store(st);
	keyring_free(kr);
	printf("records: %zu\nupgraded: %zu\nfailed: %zu\n", seen, upgraded,
	    failed);
	if (rc != STORE_OK)
		return admin_fail("upgrade: %s", store_strerror(rc));
	return failed == 0 ? EX_OK : EX_FAIL;
}

/* The commands, one row each. */
enum cmd {
	CMD_INIT = 0,
	CMD_TOKEN,
	CMD_LIST,
	CMD_VERIFY,
	CMD_KEYS,
	CMD_AUDIT,
	CMD_ROTATE,
	CMD_RETIRE,
	CMD_BACKUP,
	CMD_SHRED,
	CMD_UPGRADE,
	CMD_REVALIDATE,
	CMD_REPL_SERVE,
	CMD_REPL_STATUS,
	CMD__MAX
};

static const struct cmd_row {
	const char	*name;
	int		 argc;	/* with the name; 0: the command checks */
	int		(*run)(struct config *, int argc, char **argv);
} cmds[CMD__MAX] = {
	[CMD_INIT] = { "init", 0, cmd_init },
	[CMD_TOKEN] = { "token", 0, cmd_token },
	[CMD_LIST] = { "list", 0, cmd_list },
	[CMD_VERIFY] = { "verify", 0, admin_cmd_verify },
	[CMD_KEYS] = { "keys", 1, admin_cmd_keys },
	[CMD_AUDIT] = { "audit", 0, cmd_audit },
	[CMD_ROTATE] = { "rotate-key", 1, admin_cmd_rotate },
	[CMD_RETIRE] = { "retire-key", 2, admin_cmd_retire },
	[CMD_BACKUP] = { "backup", 2, cmd_backup },
	[CMD_SHRED] = { "shred", 1, admin_cmd_shred },
	[CMD_UPGRADE] = { "upgrade", 1, cmd_upgrade },
	[CMD_REVALIDATE] = { "revalidate", 0, admin_cmd_revalidate },
	[CMD_REPL_SERVE] = { "repl-serve", 1, admin_cmd_repl_serve },
	[CMD_REPL_STATUS] = { "repl-status", 1, admin_cmd_repl_status },
};

/*
 * stdout flushed: a reader that went away ends the command quietly with
 * its own status; any other write error is one error line and EX_FAIL.
 */
static int
finish_stdout(int rc)
{
	if (fflush(stdout) == EOF && errno == EPIPE)
		stdout_gone = 1;
	if (stdout_gone)
		return rc;
	if (ferror(stdout))
		return admin_fail("standard output: write error");
	return rc;
}

/* The options before the command: -c, -h/--help, --version. */
static int
parse_options(int argc, char **argv, const char **cpath)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	while ((ch = getopt_long(argc, argv, "+c:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			*cpath = optarg;
			break;
		case 'h':
			admin_help();
			return EX_OK;
		case 'V':
			printf("%s %s\n", admin_progname, PACKAGE_VERSION);
			return EX_OK;
		default:
			admin_usage();
			return EX_USAGE;
		}
	}
	if (optind >= argc) {
		admin_usage();
		return EX_USAGE;
	}
	return -1;
}

static int
run(int argc, char **argv)
{
	const struct cmd_row	*c;
	const char		*cpath = NULL;
	struct config		 cfg;
	char			 err[CONFIG_ERRLEN];
	int			 rc;

	if ((rc = parse_options(argc, argv, &cpath)) != -1)
		return rc;
	argc -= optind;
	argv += optind;
	for (c = cmds; c < cmds + CMD__MAX; c++)
		if (strcmp(c->name, argv[0]) == 0)
			break;
	if (c == cmds + CMD__MAX) {
		fprintf(stderr, "%s: unknown command '%.32s'\n", admin_progname,
		    argv[0]);
		return EX_USAGE;
	}
	if (cpath == NULL)
		cpath = config_path_from_env();
	if (config_load(cpath, &cfg, err, sizeof(err)) == -1) {
		if (access(cpath, F_OK) == -1 && errno == ENOENT)
			return admin_fail("%s (no configuration file there: "
			    "give one with -c FILE or CREDSTORE_CONFIG; make "
			    "install puts an example at %s)", err,
			    config_default_path());
		return admin_fail("%s", err);
	}
	log_set_level(cfg.log_level < LOG_LVL_WARN ? cfg.log_level : LOG_LVL_WARN);
	if (repl_configure(&cfg, 0, err, sizeof(err)) == -1) {
		config_free(&cfg);
		return admin_fail("%s", err);
	}
	if (c->argc != 0 && argc != c->argc) {
		admin_usage();
		rc = EX_USAGE;
	} else
		rc = c->run(&cfg, argc, argv);
	config_free(&cfg);
	return rc;
}

int
main(int argc, char **argv)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigpipe;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGPIPE, &sa, NULL);
	log_set_level(LOG_LVL_WARN);
	return finish_stdout(run(argc, argv));
}
