/* Parent <-> container-init synchronisation over a SOCK_SEQPACKET pair:
 * fixed-size messages, so one recv is one message and a dead peer is EOF. */
#ifndef VS_CTR_SYNC_H
#define VS_CTR_SYNC_H

#include <stdint.h>

enum vs_sync_type {
	VS_SYNC_GO = 1, /* parent -> child: ids mapped, cgroup joined; proceed */
	VS_SYNC_READY, /* child -> parent: set up, about to wait on exec.fifo */
	VS_SYNC_ERROR, /* child -> parent: failed; code and msg filled */
	VS_SYNC_HOOKS, /* child -> parent: run prestart/createRuntime hooks now */
	VS_SYNC_HOOKS_DONE, /* parent -> child */
	VS_SYNC_RECORDED, /* parent -> child: state saved, outlive the parent now */
};

struct vs_sync_msg {
	uint32_t type;
	int32_t code; /* -errno for VS_SYNC_ERROR */
	char msg[1016];
};

/* Both return 0 or -errno; recv returns -EPIPE on EOF (the peer died). */
int vs_sync_send(int fd, enum vs_sync_type type, int code, const char *msg);
int vs_sync_recv(int fd, struct vs_sync_msg *m);

#endif
