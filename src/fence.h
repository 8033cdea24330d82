/*
 * fence: which addresses an outbound request made on a tenant's behalf
 * (a provider check, a proxied call) may connect to (SPEC section 9).
 * Refused: every block of the IANA IPv4 and IPv6 Special-Purpose Address
 * Registries that is not globally reachable, documentation and
 * benchmarking ranges, multicast, IPv6 forms that carry an IPv4 address
 * (mapped, compatible, SIIT, NAT64, 6to4, Teredo) whenever the embedded
 * IPv4 address is refused, and the addresses of this host's own
 * interfaces.  Callers check the address they are about to connect to
 * (libcurl's open-socket callback), so what was checked is what is used.
 */
#ifndef CS_FENCE_H
#define CS_FENCE_H

struct sockaddr;

/* 1 when sa must not be connected to (any family but IPv4/IPv6 too). */
int	 fence_refused(const struct sockaddr *sa);

#endif
