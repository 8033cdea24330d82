#include "cs_build.h"

#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>

#include <ifaddrs.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "fence.h"

/* How a block is treated. */
enum fence_act {
	FA_REFUSE = 0,		/* never connected to */
	FA_V4_LAST,		/* IPv4 in the last 32 bits: fenced as that */
	FA_V4_6TO4,		/* 2002:AABB:CCDD::/48: bits 16-47 */
	FA_TEREDO,		/* server in bits 32-63, client ~bits 96-127 */
	FA__MAX
};

struct fence_row {
	unsigned char	 prefix[16];
	unsigned	 bits;
	enum fence_act	 act;
};

/* IPv4 blocks (RFC 6890 and the registry as of 2024), as 32-bit values. */
static const struct {
	uint32_t	 net;
	unsigned	 bits;
} v4_rows[] = {
	{ 0x00000000, 8 },	/* 0.0.0.0/8 "this network" */
	{ 0x0a000000, 8 },	/* 10/8 private */
	{ 0x64400000, 10 },	/* 100.64/10 shared address space */
	{ 0x7f000000, 8 },	/* 127/8 loopback */
	{ 0xa9fe0000, 16 },	/* 169.254/16 link local */
	{ 0xac100000, 12 },	/* 172.16/12 private */
	{ 0xc0000000, 24 },	/* 192.0.0/24 IETF protocol assignments */
	{ 0xc0000200, 24 },	/* 192.0.2/24 TEST-NET-1 */
	{ 0xc01fc400, 24 },	/* 192.31.196/24 AS112-v4 */
	{ 0xc034c100, 24 },	/* 192.52.193/24 AMT */
	{ 0xc0586300, 24 },	/* 192.88.99/24 6to4 relay anycast */
	{ 0xc0a80000, 16 },	/* 192.168/16 private */
	{ 0xc0af3000, 24 },	/* 192.175.48/24 AS112 direct delegation */
	{ 0xc6120000, 15 },	/* 198.18/15 benchmarking */
	{ 0xc6336400, 24 },	/* 198.51.100/24 TEST-NET-2 */
	{ 0xcb007100, 24 },	/* 203.0.113/24 TEST-NET-3 */
	{ 0xe0000000, 4 },	/* 224/4 multicast */
	{ 0xf0000000, 4 },	/* 240/4 reserved, and the broadcast address */
};

/* IPv6 blocks, most specific first where they overlap. */
static const struct fence_row v6_rows[] = {
	/* ::ffff:0:0/96 IPv4-mapped */
	{ { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff }, 96, FA_V4_LAST },
	/* ::ffff:0:0:0/96 SIIT (IPv4-translated) */
	{ { 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0 }, 96, FA_V4_LAST },
	/* 64:ff9b::/96 NAT64 well-known prefix */
	{ { 0, 0x64, 0xff, 0x9b }, 96, FA_V4_LAST },
	/* ::/96 IPv4-compatible (deprecated), :: and ::1 */
	{ { 0 }, 96, FA_REFUSE },
	/* 64:ff9b:1::/48 local-use NAT64 */
	{ { 0, 0x64, 0xff, 0x9b, 0, 1 }, 48, FA_REFUSE },
	/* 100::/64 discard-only */
	{ { 0x01, 0x00 }, 64, FA_REFUSE },
	/* 2001::/32 Teredo */
	{ { 0x20, 0x01, 0, 0 }, 32, FA_TEREDO },
	/* 2001:2::/48 benchmarking */
	{ { 0x20, 0x01, 0, 0x02 }, 48, FA_REFUSE },
	/* 2001:10::/28 ORCHID (deprecated) */
	{ { 0x20, 0x01, 0, 0x10 }, 28, FA_REFUSE },
	/* 2001::/23 IETF protocol assignments (the rest of it) */
	{ { 0x20, 0x01, 0 }, 23, FA_REFUSE },
	/* 2001:db8::/32 documentation */
	{ { 0x20, 0x01, 0x0d, 0xb8 }, 32, FA_REFUSE },
	/* 2002::/16 6to4 */
	{ { 0x20, 0x02 }, 16, FA_V4_6TO4 },
	/* 3fff::/20 documentation */
	{ { 0x3f, 0xff, 0x00 }, 20, FA_REFUSE },
	/* 5f00::/16 segment routing SIDs */
	{ { 0x5f, 0x00 }, 16, FA_REFUSE },
	/* fc00::/7 unique local */
	{ { 0xfc }, 7, FA_REFUSE },
	/* fe80::/10 link local, fec0::/10 site local (deprecated) */
	{ { 0xfe, 0x80 }, 9, FA_REFUSE },
	/* ff00::/8 multicast */
	{ { 0xff }, 8, FA_REFUSE },
};

static int
v4_refused(uint32_t a)
{
	size_t	 i;

	for (i = 0; i < sizeof(v4_rows) / sizeof(v4_rows[0]); i++)
		if ((a >> (32 - v4_rows[i].bits)) ==
		    (v4_rows[i].net >> (32 - v4_rows[i].bits)))
			return 1;
	return 0;
}

static uint32_t
v4_at(const unsigned char *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
	    (uint32_t)b[2] << 8 | b[3];
}

static int
prefix_match(const unsigned char *a, const unsigned char *p, unsigned bits)
{
	unsigned	 whole = bits / 8, rest = bits % 8;

	if (memcmp(a, p, whole) != 0)
		return 0;
	return rest == 0 ||
	    ((a[whole] ^ p[whole]) & (0xff << (8 - rest)) & 0xff) == 0;
}

static int
v6_refused(const unsigned char *b)
{
	size_t	 i;

	for (i = 0; i < sizeof(v6_rows) / sizeof(v6_rows[0]); i++) {
		if (!prefix_match(b, v6_rows[i].prefix, v6_rows[i].bits))
			continue;
		switch (v6_rows[i].act) {
		case FA_V4_LAST:
			return v4_refused(v4_at(b + 12));
		case FA_V4_6TO4:
			return v4_refused(v4_at(b + 2));
		case FA_TEREDO:
			return v4_refused(v4_at(b + 4)) ||
			    v4_refused(~v4_at(b + 12));
		default:
			return 1;
		}
	}
	return 0;
}

/*
 * This host's own addresses, from getifaddrs, read again at most every
 * FENCE_IF_TTL seconds (interfaces come and go).  Guarded for threads.
 */
#define FENCE_IF_MAX	64
#define FENCE_IF_TTL	10

static pthread_mutex_t	 if_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	int		 family;
	unsigned char	 a[16];
}			 if_addrs[FENCE_IF_MAX];
static size_t		 if_n;
static time_t		 if_read;

static void
if_refresh(time_t now)
{
	struct ifaddrs	*ifa, *p;

	if_n = 0;
	if_read = now;
	if (getifaddrs(&ifa) == -1)
		return;
	for (p = ifa; p != NULL && if_n < FENCE_IF_MAX; p = p->ifa_next) {
		if (p->ifa_addr == NULL)
			continue;
		if (p->ifa_addr->sa_family == AF_INET) {
			const struct sockaddr_in *s =
			    (const struct sockaddr_in *)(const void *)p->ifa_addr;

			if_addrs[if_n].family = AF_INET;
			memcpy(if_addrs[if_n++].a, &s->sin_addr, 4);
		} else if (p->ifa_addr->sa_family == AF_INET6) {
			const struct sockaddr_in6 *s = (const struct
			    sockaddr_in6 *)(const void *)p->ifa_addr;

			if_addrs[if_n].family = AF_INET6;
			memcpy(if_addrs[if_n++].a, &s->sin6_addr, 16);
		}
	}
	freeifaddrs(ifa);
}

static int
own_address(int family, const unsigned char *a)
{
	time_t	 now = time(NULL);
	size_t	 i;
	int	 hit = 0;

	pthread_mutex_lock(&if_lock);
	if (if_read == 0 || now - if_read >= FENCE_IF_TTL || now < if_read)
		if_refresh(now);
	for (i = 0; i < if_n && !hit; i++)
		hit = if_addrs[i].family == family &&
		    memcmp(if_addrs[i].a, a, family == AF_INET ? 4 : 16) == 0;
	pthread_mutex_unlock(&if_lock);
	return hit;
}

int
fence_refused(const struct sockaddr *sa)
{
	const unsigned char	*b;

	if (sa->sa_family == AF_INET) {
		b = (const unsigned char *)&((const struct sockaddr_in *)
		    (const void *)sa)->sin_addr;
		return v4_refused(v4_at(b)) || own_address(AF_INET, b);
	}
	if (sa->sa_family != AF_INET6)
		return 1;
	b = ((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr.s6_addr;
	return v6_refused(b) || own_address(AF_INET6, b);
}
