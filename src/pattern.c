#include "cs_build.h"

#include <stdio.h>
#include <string.h>

#include "pattern.h"

struct pscan {
	const char	*p;		/* next byte */
	const char	*why;
	int		 depth;
};

static unsigned long	 alt(struct pscan *);

/* Saturating arithmetic: every size past the limit is the limit + 1. */
static unsigned long
cap(unsigned long n)
{
	return n > PATTERN_MAX_SIZE ? PATTERN_MAX_SIZE + 1 : n;
}

/* A bracket expression from its '[': one atom. */
static void
bracket(struct pscan *s)
{
	s->p++;
	if (*s->p == '^')
		s->p++;
	if (*s->p == ']')		/* a leading ']' is literal */
		s->p++;
	while (*s->p != '\0' && *s->p != ']') {
		if (s->p[0] == '[' && (s->p[1] == ':' || s->p[1] == '.' ||
		    s->p[1] == '=')) {
			char	 end = s->p[1];
			const char *q = s->p + 2;

			while (*q != '\0' && !(q[0] == end && q[1] == ']'))
				q++;
			s->p = *q != '\0' ? q + 2 : q;
			continue;
		}
		s->p++;
	}
	if (*s->p == ']')
		s->p++;
}

/* {m}, {m,} or {m,n} at s->p: the number of copies glibc makes, or 0. */
static unsigned long
braces(struct pscan *s)
{
	unsigned long	 m = 0, n;
	const char	*q = s->p + 1;
	int		 digits = 0;

	while (*q >= '0' && *q <= '9' && m <= PATTERN_MAX_REPEAT) {
		m = m * 10 + (unsigned long)(*q++ - '0');
		digits++;
	}
	if (digits == 0 || m > PATTERN_MAX_REPEAT)
		return 0;
	n = m;
	if (*q == ',') {
		q++;
		if (*q == '}')
			n = m + 1;	/* {m,}: m copies and a star */
		else {
			n = 0;
			digits = 0;
			while (*q >= '0' && *q <= '9' && n <= PATTERN_MAX_REPEAT) {
				n = n * 10 + (unsigned long)(*q++ - '0');
				digits++;
			}
			if (digits == 0 || n > PATTERN_MAX_REPEAT || n < m)
				return 0;
		}
	}
	if (*q != '}')
		return 0;
	s->p = q + 1;
	return n > 0 ? n : 1;
}

/* One atom and the repetitions after it: its expanded size, or 0. */
static unsigned long
piece(struct pscan *s)
{
	unsigned long	 size, times;
	int		 repeats = 0;

	switch (*s->p) {
	case '(':
		if (++s->depth > PATTERN_MAX_DEPTH) {
			s->why = "groups nested too deep";
			return 0;
		}
		s->p++;
		if ((size = alt(s)) == 0)
			return 0;
		if (*s->p == ')')
			s->p++;
		s->depth--;
		break;
	case '[':
		bracket(s);
		size = 1;
		break;
	case '\\':
		s->p += s->p[1] != '\0' ? 2 : 1;
		size = 1;
		break;
	default:
		s->p++;
		size = 1;
		break;
	}
	for (;;) {
		if (*s->p == '*' || *s->p == '+' || *s->p == '?') {
			s->p++;
			times = 2;
		} else if (*s->p == '{') {
			if ((times = braces(s)) == 0) {
				s->why = "a repetition count over 255 or malformed";
				return 0;
			}
			times++;
		} else
			break;
		if (repeats++ > 0) {
			s->why = "a repetition of a repetition";
			return 0;
		}
		size = cap(size * times);
	}
	if (size > PATTERN_MAX_SIZE) {
		s->why = "too large once its repetitions are expanded";
		return 0;
	}
	return size;
}

/* Alternatives up to ')' or the end: the sum of their sizes, or 0. */
static unsigned long
alt(struct pscan *s)
{
	unsigned long	 size = 1, one;

	while (*s->p != '\0' && *s->p != ')') {
		if (*s->p == '|' || *s->p == '^' || *s->p == '$') {
			s->p++;
			continue;
		}
		if ((one = piece(s)) == 0)
			return 0;
		if ((size = cap(size + one)) > PATTERN_MAX_SIZE) {
			s->why = "too large once its repetitions are expanded";
			return 0;
		}
	}
	return size;
}

int
pattern_check(const char *re, char *why, size_t whylen)
{
	struct pscan	 s;

	memset(&s, 0, sizeof(s));
	if (strlen(re) > PATTERN_MAX_LEN) {
		snprintf(why, whylen, "longer than %d bytes", PATTERN_MAX_LEN);
		return -1;
	}
	s.p = re;
	while (*s.p != '\0') {
		if (alt(&s) == 0) {
			snprintf(why, whylen, "%s", s.why ? s.why : "too large");
			return -1;
		}
		if (*s.p == ')')	/* unbalanced: regcomp will say so */
			s.p++;
	}
	return 0;
}
