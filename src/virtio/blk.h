/* virtio-blk over the modern PCI transport (virtio 1.2 §5.2), on an image
 * opened through src/block (raw or qcow2 with its backing chain).
 *
 * One request queue. The transport's I/O thread (or a vCPU without an
 * ioeventfd) pops chains, checks them and hands read, write, flush,
 * discard and write-zeroes to the disk's asynchronous engine
 * (block/aio.h), with the chain's guest buffers as the iovecs; requests
 * complete out of order on the engine's workers, which fill the status
 * byte and the used ring under the transport lock. So a slow request
 * holds up neither others nor a vCPU. A flush covers every write that
 * completed before it. A driver reset waits for requests in flight. The
 * queue code validates every descriptor; a request that is well-formed for
 * the queue but wrong for the device (short header, no status byte, a
 * length not a multiple of 512, a range past the capacity, a write to a
 * read-only disk) fails alone with VIRTIO_BLK_S_IOERR or UNSUPP. cache=
 * (vm.h enum vs_disk_cache) picks O_DIRECT, write-through and flush
 * handling as QEMU does (docs/virtio.md). */
#ifndef VS_VIRTIO_BLK_H
#define VS_VIRTIO_BLK_H

#include <stdbool.h>
#include <stdint.h>

struct vs_err;
struct vs_vm;
struct vs_vm_disk;
struct vs_virtio_pci;
struct vs_virtio_pci_env;
struct vs_virtio_blk;

#define VS_VIRTIO_ID_BLK 2

/* Feature bits (§5.2.3) */
#define VS_VIRTIO_BLK_F_SEG_MAX 2
#define VS_VIRTIO_BLK_F_RO 5
#define VS_VIRTIO_BLK_F_BLK_SIZE 6
#define VS_VIRTIO_BLK_F_FLUSH 9
#define VS_VIRTIO_BLK_F_CONFIG_WCE 11
#define VS_VIRTIO_BLK_F_DISCARD 13
#define VS_VIRTIO_BLK_F_WRITE_ZEROES 14

/* Request types and status (§5.2.6) */
#define VS_VIRTIO_BLK_T_IN 0
#define VS_VIRTIO_BLK_T_OUT 1
#define VS_VIRTIO_BLK_T_FLUSH 4
#define VS_VIRTIO_BLK_T_GET_ID 8
#define VS_VIRTIO_BLK_T_DISCARD 11
#define VS_VIRTIO_BLK_T_WRITE_ZEROES 13
#define VS_VIRTIO_BLK_S_OK 0
#define VS_VIRTIO_BLK_S_IOERR 1
#define VS_VIRTIO_BLK_S_UNSUPP 2

#define VS_VIRTIO_BLK_ID_BYTES 20
#define VS_VIRTIO_BLK_CONFIG_LEN 60 /* struct virtio_blk_config through unused1 */

/* Opens disk (raw or qcow2; format NULL: probed) with QEMU's image locks
 * (read-write: refused with -EAGAIN while another process uses the image;
 * disk->ro: read-only and sharing, so a disk in use can still be read) and
 * creates the device and its transport on env's buses. Returns 0 or -errno
 * with *err naming the disk. */
int vs_virtio_blk_new(const struct vs_virtio_pci_env *env, const struct vs_vm_disk *disk,
		      struct vs_virtio_blk **out, struct vs_err **err);
/* Flushes and closes the image (vCPUs stopped). NULL is a no-op. */
void vs_virtio_blk_free(struct vs_virtio_blk *blk);
struct vs_virtio_pci *vs_virtio_blk_transport(struct vs_virtio_blk *blk);

/* Adds vm->cfg.disks in order as virtio-blk devices (vda, vdb, ...) on the
 * VM's device list. Returns 0 or the first error with *err set. */
int vs_vm_disks_add(struct vs_vm *vm, struct vs_err **err);

#endif
