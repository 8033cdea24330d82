/*
 * pattern: a guard in front of regcomp(3) for the catalog's `pattern`
 * members (POSIX extended regular expressions).  glibc compiles a bounded
 * repetition by copying its operand, so nested or stacked repetitions
 * grow the compiled form multiplicatively: `a{0,62}++++...` made regcomp
 * allocate over 2 GB.  pattern_check refuses what could do that before
 * regcomp sees it.  No I/O, no allocation.
 */
#ifndef CS_PATTERN_H
#define CS_PATTERN_H

#include <stddef.h>

#define PATTERN_MAX_LEN		512	/* bytes */
#define PATTERN_MAX_DEPTH	16	/* nested groups */
#define PATTERN_MAX_REPEAT	255	/* n of {m,n} (RE_DUP_MAX) */
#define PATTERN_MAX_SIZE	20000	/* atoms after expanding repetitions */

/*
 * 0 when re is within the limits above and has no repetition applied to
 * a repetition (`a**`, `a{2}+`: undefined in POSIX EREs); -1 with the
 * reason in why otherwise.  Syntax errors the guard does not understand
 * are left to regcomp.
 */
int	 pattern_check(const char *re, char *why, size_t whylen);

#endif
