#include "cs_build.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

/*
 * libFuzzer harness for config_load.  config_load reads a file, so every
 * input is written to one path per process, /tmp/credstore-fuzz-PID.conf,
 * which is removed at exit.  The file stays open and is rewritten in place
 * (pwrite, then ftruncate): opening it with O_TRUNC for every input costs
 * milliseconds on ext4 and would make this harness 100 times slower.
 */

static char	path[64];
static int	fd = -1;

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
remove_file(void)
{
	if (fd != -1)
		(void)close(fd);
	if (path[0] != '\0')
		(void)unlink(path);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (snprintf(path, sizeof(path), "/tmp/credstore-fuzz-%ld.conf",
	    (long)getpid()) >= (int)sizeof(path))
		abort();
	if ((fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) ==
	    -1)
		abort();
	atexit(remove_file);
	return 0;
}

static int
is_abs(const char *p)
{
	return p == NULL || p[0] == '/';
}

/* What config.h promises about a loaded configuration. */
static void
check_config(const struct config *c)
{
	if (c->path == NULL || strcmp(c->path, path) != 0)
		abort();
	if (c->data_dir == NULL || c->keyring == NULL || c->catalog == NULL ||
	    c->jwt_role_claim == NULL || c->admin_role == NULL ||
	    c->tenant_claim == NULL)
		abort();
	/* relative paths are resolved against the file's folder */
	if (!is_abs(c->data_dir) || !is_abs(c->keyring) ||
	    !is_abs(c->catalog) || !is_abs(c->jwt_secret_file) ||
	    !is_abs(c->jwt_jwks_file))
		abort();
	if (c->jwt_leeway < 0 || c->jwt_leeway > 3600 ||
	    c->probe_timeout_ms < 100 || c->probe_timeout_ms > 120000 ||
	    c->max_body_bytes < 1024 || c->max_body_bytes > 16L * 1024 * 1024)
		abort();
	if ((unsigned)c->durability >= DUR__MAX ||
	    (unsigned)c->log_level >= LOG_LVL__MAX)
		abort();
	if (c->probe_origin_override != NULL &&
	    strncmp(c->probe_origin_override, "http://", 7) != 0 &&
	    strncmp(c->probe_origin_override, "https://", 8) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config	 c;
	char		 err[CONFIG_ERRLEN];

	if ((size > 0 && pwrite(fd, data, size, 0) != (ssize_t)size) ||
	    ftruncate(fd, (off_t)size) == -1)
		abort();
	err[0] = '\0';
	if (config_load(path, &c, err, sizeof(err)) == 0) {
		check_config(&c);
		config_free(&c);
	} else {
		/* "FILE:LINE: what is wrong", and *cfg freed already */
		if (strncmp(err, path, strlen(path)) != 0 ||
		    memchr(err, '\0', sizeof(err)) == NULL)
			abort();
		if (c.path != NULL || c.data_dir != NULL || c.keyring != NULL)
			abort();
	}
	return 0;
}
