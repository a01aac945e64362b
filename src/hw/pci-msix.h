/* MSI-X (PCI Local Bus 3.0 §6.8.2): the capability, a vector table and a
 * pending-bit array inside one of the device's memory BARs, per-vector and
 * function masking. The device forwards its BAR accesses in the table and
 * PBA ranges to vs_pci_msix_read/write and raises vectors with
 * vs_pci_msix_notify(); a masked vector becomes pending and is sent when
 * unmasked. Thread-safe (own lock): vCPUs write the table while an I/O
 * thread notifies. */
#ifndef VS_HW_PCI_MSIX_H
#define VS_HW_PCI_MSIX_H

#include <stdbool.h>
#include <stdint.h>

struct vs_pci_device;
struct vs_pci_msix;

#define VS_PCI_MSIX_MAX 2048
#define VS_PCI_MSIX_ENTRY_SIZE 16
#define VS_PCI_MSIX_NO_VECTOR 0xffff /* virtio's "no vector" */

/* Sends one MSI (the accelerator's msi verb). */
typedef void (*vs_pci_msi_fn)(void *ctx, uint64_t addr, uint32_t data);

/* Adds the MSI-X capability to dev with nvec vectors (1..2048), the table
 * at table_off and the PBA at pba_off of memory BAR bar (8-aligned, inside
 * the BAR, not overlapping). Returns 0 or -EINVAL/-ENOSPC; dev->msix owns
 * the state (free it with vs_pci_msix_free). */
int vs_pci_msix_new(struct vs_pci_device *dev, unsigned nvec, unsigned bar, uint32_t table_off,
		    uint32_t pba_off, vs_pci_msi_fn send, void *ctx);
void vs_pci_msix_free(struct vs_pci_device *dev);

/* BAR accesses; off is relative to the BAR. Return false when off is not
 * in the table or the PBA (the device handles it). Accesses must be 4 or 8
 * bytes, aligned; others read as 0 and are dropped (§6.8.2). */
bool vs_pci_msix_read(struct vs_pci_msix *m, uint64_t off, void *data, unsigned len);
bool vs_pci_msix_write(struct vs_pci_msix *m, uint64_t off, const void *data, unsigned len);

/* MSI-X enabled by the guest (capability control bit 15). */
bool vs_pci_msix_enabled(struct vs_pci_msix *m);

/* Raises vector vec: 0 sent, 1 left pending (masked), -ENODEV when MSI-X
 * is disabled (use INTx), -EINVAL for a vector out of range. */
int vs_pci_msix_notify(struct vs_pci_msix *m, unsigned vec);

/* Whether vec is pending (for tests and snapshots). */
bool vs_pci_msix_pending(struct vs_pci_msix *m, unsigned vec);

/* Back to reset: every vector masked, nothing pending, control 0. */
void vs_pci_msix_reset(struct vs_pci_msix *m);

/* pci-dev.c: the guest wrote config [off, off+len). */
void vs_pci_msix_cfg_written(struct vs_pci_msix *m, unsigned off, unsigned len);

#endif
