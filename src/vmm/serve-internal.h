/* Private to serve.c and control.c: the state of a VM being served. */
#ifndef VS_VMM_SERVE_INTERNAL_H
#define VS_VMM_SERVE_INTERNAL_H

#include "vmm/serve.h"
#include "hw/button.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vs_loop;

#define VS_SERVE_RING_SIZE (64 * 1024) /* recent console output, replayed on request */
#define VS_SERVE_LINE_MAX 4096 /* longest control request */
#define VS_SERVE_INPUT_SIZE 256 /* console input the UART's FIFO has no room for yet */

struct vs_serve_client {
	struct vs_serve *sv;
	int fd;
	bool console; /* switched to the raw console byte stream */
	size_t len;
	char in[VS_SERVE_LINE_MAX];
	struct vs_serve_client *next;
};

struct vs_serve {
	struct vs_vm *vm;
	const struct vs_vm_serve_opts *opts;
	struct vs_loop *loop;
	struct vs_button button;
	int sig_fd, stop_timer, input_timer, log_fd;
	uint64_t log_bytes;
	uint64_t started_ns;
	uint8_t ring[VS_SERVE_RING_SIZE];
	uint64_t ring_total; /* bytes ever written to the ring */
	uint8_t input[VS_SERVE_INPUT_SIZE];
	size_t ninput;
	bool input_blocked; /* console clients' reads are off until the FIFO drains */
	bool soft_stopping; /* the power buttons were pressed and the hard stop is armed */
	struct vs_serve_client *clients;
};

/* control.c */
void vs_serve_accept(struct vs_loop *loop, int fd, uint32_t events, void *ctx);
void vs_serve_client_close(struct vs_serve_client *c);
/* serve.c */
void vs_serve_set_state(struct vs_serve *sv, const char *state);
void vs_serve_hard_stop(struct vs_serve *sv, const char *detail);
/* Presses both power buttons (vessel's port 0x504 for its init and the test
 * guest, the ACPI fixed-feature button for any other Linux), resumes a
 * paused VM so that it can see them, and stops it hard after timeout_ms. */
void vs_serve_soft_stop(struct vs_serve *sv, uint64_t timeout_ms);
void vs_serve_feed_input(struct vs_serve *sv);
void vs_serve_replay(struct vs_serve *sv, int fd);

#endif
