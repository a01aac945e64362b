/* WebSocket consoles (console.h). One thread per console: poll on the
 * WebSocket, the console socket and the server's stop pipe; console bytes
 * go out as binary frames, text and binary frames come in as keyboard
 * bytes, except a text frame that is a control message (a resize, ws.h),
 * pings get pongs, a close gets a close. The thread calls nothing of
 * the service layer (the fd was opened on MHD's thread).
 *
 * Map: the relay thread; the upgrade; start-up and shutdown. */
#include "api/console.h"
#include "api/auth.h"
#include "api/ws.h"
#include "svc/ctr-mon-io.h"
#include "common/log.h"
#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define FRAME_MAX (64u << 10) /* a client frame's payload: keyboard input */
#define IN_MAX (FRAME_MAX + 14) /* one whole frame fits */
#define OUT_CHUNK 16384 /* console bytes per frame */

struct api_consoles {
	pthread_mutex_t lock;
	pthread_cond_t gone;
	unsigned n; /* relays running */
	int stop[2]; /* a pipe: readable once the server stops */
	bool stopping;
};

struct relay {
	struct api_consoles *cs;
	MHD_socket sock;
	struct MHD_UpgradeResponseHandle *urh;
	int fd; /* the console */
	bool packets; /* keys as VS_MON_IN packets (a container's attach socket) */
	uint8_t in[IN_MAX]; /* WebSocket bytes not parsed yet */
	size_t nin;
};

static bool send_all(int sock, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = send(sock, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		p += n;
		len -= (size_t)n;
	}
	return true;
}

static bool send_frame(struct relay *r, unsigned op, const void *data, size_t len)
{
	uint8_t hdr[VS_WS_HEADER_MAX];
	size_t h = vs_ws_header(hdr, op, len);

	return send_all(r->sock, hdr, h) && send_all(r->sock, data, len);
}

/* A close frame with code and a reason (at most 123 bytes, §5.5.1). */
static void send_close_why(struct relay *r, unsigned code, const char *why)
{
	uint8_t body[125] = { (uint8_t)(code >> 8), (uint8_t)code };
	size_t n = why ? VS_MIN(strlen(why), sizeof(body) - 2) : 0;

	memcpy(body + 2, why ? why : "", n);
	send_frame(r, VS_WS_CLOSE, body, 2 + n);
}

static void send_close(struct relay *r, unsigned code)
{
	send_close_why(r, code, NULL);
}

static bool write_all(int fd, const uint8_t *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		p += n;
		len -= (size_t)n;
	}
	return true;
}

/* Keys to the console: as they are, or in attach packets (ctr-mon-io.h). */
static bool keys(struct relay *r, const uint8_t *p, size_t len)
{
	uint8_t pkt[VS_MON_PKT_MAX];

	if (!r->packets)
		return write_all(r->fd, p, len);
	while (len) {
		size_t n = VS_MIN(len, sizeof(pkt) - 1);

		pkt[0] = VS_MON_IN;
		memcpy(pkt + 1, p, n);
		if (send(r->fd, pkt, n + 1, MSG_NOSIGNAL) != (ssize_t)(n + 1))
			return false;
		p += n;
		len -= n;
	}
	return true;
}

/* A resize to the container's pty: the monitor's window-size packet, as
 * `vessel attach` sends on SIGWINCH (ctr-mon-io.h). A serial console has
 * no window size: a VM's console ignores it. */
static bool resize(struct relay *r, unsigned cols, unsigned rows)
{
	uint8_t pkt[1 + sizeof(struct winsize)] = { VS_MON_WINSZ };
	struct winsize ws = { .ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols };

	if (!r->packets)
		return true;
	memcpy(pkt + 1, &ws, sizeof(ws));
	return send(r->fd, pkt, sizeof(pkt), MSG_NOSIGNAL) == (ssize_t)sizeof(pkt);
}

/* A text frame: a control message, or keys. False when the relay ends
 * (a malformed resize closes with 1007 and the reason). */
static bool text(struct relay *r, const struct vs_ws_frame *f)
{
	unsigned cols, rows;
	const char *why;
	int c = f->fin ? vs_ws_console_control(f->payload, f->len, &cols, &rows, &why) : 0;

	if (c == 1)
		return resize(r, cols, rows);
	if (c < 0) {
		send_close_why(r, VS_WS_CLOSE_INVALID, why);
		return false;
	}
	return keys(r, f->payload, f->len);
}

/* Handles every whole frame in r->in. Returns false when the relay ends. */
static bool client_frames(struct relay *r)
{
	struct vs_ws_frame f;
	ssize_t used;

	while ((used = vs_ws_parse(r->in, r->nin, FRAME_MAX, &f)) > 0) {
		bool ok = true;

		if (f.opcode == VS_WS_CLOSE) {
			send_close(r, VS_WS_CLOSE_NORMAL);
			return false;
		}
		if (f.opcode == VS_WS_PING)
			ok = send_frame(r, VS_WS_PONG, f.payload, f.len);
		else if (f.opcode == VS_WS_TEXT)
			ok = text(r, &f);
		else if (f.opcode <= VS_WS_BINARY) /* binary, continuation: keys */
			ok = keys(r, f.payload, f.len);
		memmove(r->in, r->in + used, r->nin - (size_t)used);
		r->nin -= (size_t)used;
		if (!ok)
			return false;
	}
	if (used < 0)
		send_close(r, used == -EMSGSIZE ? VS_WS_CLOSE_TOO_BIG : VS_WS_CLOSE_PROTOCOL);
	return used == 0;
}

/* One poll round. Returns false when the relay ends. */
static bool relay_round(struct relay *r)
{
	struct pollfd p[3] = { { r->sock, POLLIN, 0 },
			       { r->fd, POLLIN, 0 },
			       { r->cs->stop[0], POLLIN, 0 } };
	uint8_t out[OUT_CHUNK];
	ssize_t n;

	if (poll(p, 3, -1) < 0)
		return errno == EINTR;
	if (p[2].revents) {
		send_close(r, VS_WS_CLOSE_GOING_AWAY);
		return false;
	}
	if (p[1].revents) {
		n = read(r->fd, out, sizeof(out));
		if (n <= 0) { /* the VM stopped (the VMM closes its consoles) */
			send_close(r, VS_WS_CLOSE_NORMAL);
			return false;
		}
		if (!send_frame(r, VS_WS_BINARY, out, (size_t)n))
			return false;
	}
	if (p[0].revents) {
		n = recv(r->sock, r->in + r->nin, sizeof(r->in) - r->nin, 0);
		if (n <= 0)
			return n < 0 && errno == EINTR;
		r->nin += (size_t)n;
		return client_frames(r);
	}
	return true;
}

static void *relay_main(void *arg)
{
	struct relay *r = arg;
	struct api_consoles *cs = r->cs;

	while (relay_round(r))
		;
	close(r->fd);
	MHD_upgrade_action(r->urh, MHD_UPGRADE_ACTION_CLOSE);
	free(r);
	pthread_mutex_lock(&cs->lock);
	cs->n--;
	pthread_cond_broadcast(&cs->gone);
	pthread_mutex_unlock(&cs->lock);
	return NULL;
}

static void on_upgrade(void *cls, struct MHD_Connection *c, void *con_cls, const char *extra,
		       size_t extra_size, MHD_socket sock, struct MHD_UpgradeResponseHandle *urh)
{
	struct api_console_req *req = cls;
	struct api_consoles *cs = req->cs;
	struct relay *r = xzalloc(sizeof(*r));
	pthread_attr_t attr;
	pthread_t th;

	(void)c, (void)con_cls;
	*r = (struct relay){
		.cs = cs, .sock = sock, .urh = urh, .fd = req->fd, .packets = req->packets
	};
	req->fd = -1;
	/* our thread writes with blocking sends: a slow client slows only it */
	fcntl(sock, F_SETFL, fcntl(sock, F_GETFL) & ~O_NONBLOCK);
	r->nin = extra_size < sizeof(r->in) ? extra_size : sizeof(r->in);
	memcpy(r->in, extra, r->nin);
	pthread_mutex_lock(&cs->lock);
	cs->n++;
	pthread_mutex_unlock(&cs->lock);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&th, &attr, relay_main, r) != 0) {
		vs_warn("api: cannot start a console thread");
		close(r->fd);
		MHD_upgrade_action(urh, MHD_UPGRADE_ACTION_CLOSE);
		free(r);
		pthread_mutex_lock(&cs->lock);
		cs->n--;
		pthread_mutex_unlock(&cs->lock);
	}
	pthread_attr_destroy(&attr);
}

static bool has_token(const char *v, const char *tok)
{
	size_t n = strlen(tok);

	for (const char *p = v; p && *p; p++)
		if (!strncasecmp(p, tok, n) && (p == v || strchr(" ,", p[-1])) &&
		    (!p[n] || strchr(" ,", p[n])))
			return true;
	return false;
}

static bool offers_vessel(struct MHD_Connection *c)
{
	return has_token(MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Sec-WebSocket-Protocol"),
			 VS_API_WS_PROTOCOL);
}

bool api_console_wants_ws(struct MHD_Connection *c, const char **why)
{
	const char *up = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Upgrade");
	const char *conn = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Connection");
	const char *ver = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Sec-WebSocket-Version");
	const char *key = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Sec-WebSocket-Key");
	char accept[29];

	*why = NULL;
	if (!up || !has_token(up, "websocket") || !conn || !has_token(conn, "upgrade"))
		*why = "this is a WebSocket endpoint: send Upgrade: websocket, Connection: Upgrade";
	else if (!ver || strcmp(ver, "13"))
		*why = "Sec-WebSocket-Version: 13 is required";
	else if (vs_ws_accept_key(key, accept) < 0)
		*why = "Sec-WebSocket-Key must be 16 bytes in base64";
	return *why == NULL;
}

bool api_console_room(struct api_consoles *cs)
{
	bool room;

	pthread_mutex_lock(&cs->lock);
	room = !cs->stopping && cs->n < VS_API_CONSOLE_MAX;
	pthread_mutex_unlock(&cs->lock);
	return room;
}

enum MHD_Result api_console_upgrade(struct MHD_Connection *c, struct api_console_req *req)
{
	const char *key = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Sec-WebSocket-Key");
	struct MHD_Response *resp;
	enum MHD_Result ret;
	char accept[29];

	if (vs_ws_accept_key(key, accept) < 0) /* checked by api_console_wants_ws */
		return MHD_NO;
	if (!(resp = MHD_create_response_for_upgrade(on_upgrade, req)))
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_UPGRADE, "websocket");
	MHD_add_response_header(resp, "Sec-WebSocket-Accept", accept);
	if (offers_vessel(c)) /* a browser offering its token this way needs one chosen */
		MHD_add_response_header(resp, "Sec-WebSocket-Protocol", VS_API_WS_PROTOCOL);
	ret = MHD_queue_response(c, MHD_HTTP_SWITCHING_PROTOCOLS, resp);
	MHD_destroy_response(resp);
	return ret;
}

int api_consoles_new(struct api_consoles **out)
{
	struct api_consoles *cs = xzalloc(sizeof(*cs));

	if (pipe2(cs->stop, O_CLOEXEC) < 0) {
		free(cs);
		return -errno;
	}
	pthread_mutex_init(&cs->lock, NULL);
	pthread_cond_init(&cs->gone, NULL);
	*out = cs;
	return 0;
}

void api_consoles_stop(struct api_consoles *cs)
{
	struct timespec until;

	pthread_mutex_lock(&cs->lock);
	cs->stopping = true;
	if (write(cs->stop[1], "x", 1) < 0) {
		/* a pipe with room: cannot fail; the relays then end at their EOF */
	}
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 2; /* a relay stuck sending to a dead client is abandoned */
	while (cs->n && pthread_cond_timedwait(&cs->gone, &cs->lock, &until) == 0)
		;
	pthread_mutex_unlock(&cs->lock);
}

void api_consoles_free(struct api_consoles *cs)
{
	if (!cs || cs->n) /* a relay still running keeps it (the process is ending) */
		return;
	close(cs->stop[0]);
	close(cs->stop[1]);
	pthread_mutex_destroy(&cs->lock);
	pthread_cond_destroy(&cs->gone);
	free(cs);
}
