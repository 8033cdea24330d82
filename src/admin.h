/*
 * admin: what the commands of credstore-admin share (SPEC section 7):
 * the one-line error and the usage text, opening the keyring and the
 * storage with the server's MACs, and the audit event of an operator's
 * action.  The commands live in credstore-admin.c (main, the dispatch
 * table, the small commands), admin_keys.c (keys, rotate-key,
 * retire-key, shred), admin_verify.c (verify) and admin_revalidate.c
 * (revalidate).  A command returns an
 * exit status; what it opens it closes.
 */
#ifndef CS_ADMIN_H
#define CS_ADMIN_H

#include "config.h"
#include "crypto.h"
#include "store.h"

#define EX_OK		0
#define EX_FAIL		1
#define EX_USAGE	2

/* The name the tool's messages start with. */
extern const char	 admin_progname[];

/* The usage text on stderr (bad usage). */
void		 admin_usage(void);
/* The usage text, the options and the exit codes on stdout (--help). */
void		 admin_help(void);
/* "credstore-admin: " and the message on stderr; returns EX_FAIL. */
int		 admin_fail(const char *fmt, ...)
		    __attribute__((format(printf, 1, 2)));

/*
 * Opens the storage of cfg: 0, or -1 with the error printed.  Run as
 * root on a data_dir owned by another user, the process then acts as that
 * user (effective ids) until admin_close_store, so that files the storage
 * creates stay the server's.
 */
int		 admin_open_store(struct config *, struct store **);
/* Checkpoints (the files alone are then consistent) and closes. */
void		 admin_close_store(struct store *);
/* Between the two: back to root for a while, and again data_dir's owner. */
void		 admin_priv_root(void);
void		 admin_priv_owner(void);
/*
 * The keyring and the storage, with the records' MACs and the audit
 * chain keyed as the server keys them: 0 (keyring_free, and
 * admin_close_store), or -1 with the error printed and nothing open.
 */
int		 admin_open_all(struct config *, struct keyring **,
		    struct store **);
/* Keys st's MACs with kr's MAC key, as the server does (app.c). */
void		 admin_set_mac(struct store *, struct keyring *);

/* An operator's audit event (subject: the sudo or login user). */
void		 admin_event(struct audit_ev *, const char *action,
		    const char *outcome);

/* The commands split out of credstore-admin.c (argv[0] is the name). */
int		 admin_cmd_keys(struct config *, int argc, char **argv);
int		 admin_cmd_rotate(struct config *, int argc, char **argv);
int		 admin_cmd_retire(struct config *, int argc, char **argv);
int		 admin_cmd_shred(struct config *, int argc, char **argv);
int		 admin_cmd_verify(struct config *, int argc, char **argv);
int		 admin_cmd_revalidate(struct config *, int argc, char **argv);
/* admin_repl.c */
int		 admin_cmd_repl_serve(struct config *, int argc, char **argv);
int		 admin_cmd_repl_status(struct config *, int argc, char **argv);
/*
 * The peers of the group whose repl-serve has not reported a keyring
 * holding kr's active key (the same key: id and fingerprint), comma-
 * separated in out: their number.
 */
size_t		 admin_repl_sites_without(struct config *, struct store *,
		    const struct keyring *kr, char *out, size_t len);
/* 1 when st's site is the master now. */
int		 admin_repl_is_master(struct store *);

#endif
