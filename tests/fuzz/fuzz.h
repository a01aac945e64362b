/* The fuzz entry point shared by the libFuzzer target and the corpus replay. */
#ifndef VS_TESTS_FUZZ_FUZZ_H
#define VS_TESTS_FUZZ_FUZZ_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

/* The input as an image file: a memfd holding data, its /proc path in
 * path. Returns the fd (close it) or -errno. */
static inline int fuzz_memfd(const uint8_t *data, size_t size, char path[64])
{
	int fd = memfd_create("vessel-fuzz", MFD_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (size && write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return -EIO;
	}
	snprintf(path, 64, "/proc/self/fd/%d", fd);
	return fd;
}

/* Opens data as a qcow2 image (read-only, then read-write) and runs a read,
 * block-status, write, zero, discard, check pass over it. Returns 1 if the
 * image opened, 0 if it was refused, -errno if the harness itself failed. */
int fuzz_qcow2_one(const uint8_t *data, size_t size);

/* Opens data as an image of a probed format other than raw and qcow2 (VDI,
 * VMDK, VHDX: tests/fuzz/img-one.c), read-only then read-write, and runs
 * read, block-status, check, write, zero, discard, repair and flush passes.
 * Returns 1 if it opened, 0 if it was refused, -errno on a harness failure. */
int fuzz_img_one(const uint8_t *data, size_t size);

/* Runs data as a hostile guest on the software CPU (tests/fuzz/emu-one.c).
 * Returns 1 when the guest ran and stopped, -errno on a harness failure. */
int fuzz_emu_one(const uint8_t *data, size_t size);

/* Unpacks data as an image layer into a fresh temporary directory and
 * aborts if anything lands outside it (tests/fuzz/unpack-one.c). Returns 1
 * if the layer unpacked, 0 if it was refused, -errno on a harness failure. */
int fuzz_unpack_one(const uint8_t *data, size_t size);

/* Imports data (an OCI archive, docker-archive or rootfs tarball) into a
 * fresh store, then lists, exports, removes and prunes; aborts on a broken
 * invariant (tests/fuzz/import-one.c). 1 imported, 0 refused, -errno. */
int fuzz_import_one(const uint8_t *data, size_t size);

/* Runs data (a 4-byte header, then a guest RAM image with split-virtqueue
 * rings) through the virtqueue walker, touching every byte of every popped
 * buffer (tests/fuzz/vq-one.c). Returns 1, 0 if too short, -errno. */
int fuzz_vq_one(const uint8_t *data, size_t size);

/* Runs data (a 2-byte header, then guest RAM with rings) as a driver of a
 * virtio-blk device on a temporary raw disk (tests/fuzz/blk-one.c).
 * Returns 1, 0 if too short, -errno on a harness failure. */
int fuzz_blk_one(const uint8_t *data, size_t size);
int fuzz_net_one(const uint8_t *data, size_t size);
/* Parses data as a VM spec (JSON) and checks the round trip
 * (tests/fuzz/vmspec-one.c). Returns 1 if accepted, 0 if refused; aborts on
 * a round trip that changes the spec. */
int fuzz_vmspec_one(const uint8_t *data, size_t size);
/* Runs data ("METHOD PATH[?QUERY]\n" then the body) through the API's
 * request core with the service layer stubbed (tests/fuzz/api-one.c).
 * Returns 1 for a 2xx reply, 0 otherwise; aborts on a reply that breaks
 * the API's contract. */
int fuzz_api_one(const uint8_t *data, size_t size);

/* Parses data as the bytes a WebSocket client sends, frame by frame, and
 * aborts on a frame that breaks RFC 6455's rules (tests/fuzz/ws-one.c).
 * Returns the number of frames parsed. */
int fuzz_ws_one(const uint8_t *data, size_t size);

#endif
