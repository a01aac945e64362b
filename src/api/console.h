/* Consoles over WebSocket for `vessel serve` (http.c): a GET that asks to
 * upgrade gets 101 and a thread that relays between the WebSocket (ws.h
 * frames) and a console socket (a VMM's raw console, control.md), until
 * either side closes or the server stops. */
#ifndef VS_API_CONSOLE_H
#define VS_API_CONSOLE_H

#include <microhttpd.h>
#include <stdbool.h>

/* At most this many consoles at once (503 beyond). */
#define VS_API_CONSOLE_MAX 16

struct api_consoles;

/* One connection's console, kept by the caller for the connection's life. */
struct api_console_req {
	struct api_consoles *cs;
	int fd; /* the console socket; -1 once a relay has taken it */
	bool packets; /* a container's attach socket: keys go as VS_MON_IN packets */
};

int api_consoles_new(struct api_consoles **out);
/* True when c asks for a WebSocket (Upgrade: websocket, version 13, a key);
 * else *why says what is missing. */
bool api_console_wants_ws(struct MHD_Connection *c, const char **why);
/* Whether another console may open now (the limit). */
bool api_console_room(struct api_consoles *cs);
/* Answers 101 with the handshake; once the client has it, a relay thread
 * takes req->fd. A connection that fails before leaves req->fd to the
 * caller. */
enum MHD_Result api_console_upgrade(struct MHD_Connection *c, struct api_console_req *req);
/* Ends every relay (a close frame "going away") and waits for them; call
 * before MHD_stop_daemon. */
void api_consoles_stop(struct api_consoles *cs);
void api_consoles_free(struct api_consoles *cs);

#endif
