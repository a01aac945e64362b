/* Running code inside another network namespace without moving the caller.
 *
 * A network namespace is a per-thread attribute: vs_netns_run() starts a
 * short-lived thread, setns()es it into the target namespace, runs the
 * function there and joins it. Sockets, tap fds and sysctl writes made on
 * that thread stay bound to the target namespace after it exits; the
 * calling thread's namespace is never changed. */
#ifndef VS_NET_NETNS_H
#define VS_NET_NETNS_H

#include <stdbool.h>

struct vs_err;

/* Opens a network namespace by path ("/run/netns/NAME", "/proc/PID/ns/net")
 * or by bare name (looked up under /run/netns). Returns 0 or -errno; on
 * success *out_fd owns an O_CLOEXEC fd. */
int vs_netns_open(const char *name, int *out_fd, struct vs_err **err);

/* Runs fn(arg) with the network namespace netns_fd (-1: the caller's own,
 * fn runs directly). Returns fn's result, or -errno when the thread could
 * not be started or could not enter the namespace. */
int vs_netns_run(int netns_fd, int (*fn)(void *arg), void *arg);

/* Writes value to /proc/sys/<key> (key like "net/ipv4/ip_forward") as seen
 * from netns_fd. If old is not NULL it receives the previous first byte
 * ('0'/'1'). Returns 0 or -errno with *err filled. */
int vs_netns_sysctl_set(int netns_fd, const char *key, const char *value, char *old,
			struct vs_err **err);

/* Enables IPv4 forwarding in netns_fd if it is off. *changed (optional)
 * tells whether this call turned it on. Returns 0 or -errno. */
int vs_netns_forwarding_enable(int netns_fd, bool *changed, struct vs_err **err);

#endif
