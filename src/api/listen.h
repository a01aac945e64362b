/* Listening sockets for `vessel serve` (listen.c). */
#ifndef VS_API_LISTEN_H
#define VS_API_LISTEN_H

struct vs_err;

/* A unix socket at path, mode 0600. Returns the fd or -errno with *err. */
int vs_api_listen_unix(const char *path, struct vs_err **err);

/* A TCP socket on "HOST:PORT" ("[V6]:PORT"). Returns the fd or -errno. */
int vs_api_listen_tcp(const char *hostport, struct vs_err **err);

#endif
