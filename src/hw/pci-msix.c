/* MSI-X table, PBA and capability (PCI Local Bus 3.0 §6.8.2). Table entry:
 * message address low/high, data, vector control (bit 0 masked). */
#include "hw/pci-msix.h"
#include "hw/pci.h"
#include "common/util.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define CAP_LEN 12
#define CTRL_ENABLE 0x8000
#define CTRL_MASKALL 0x4000
#define ENTRY_CTRL 12
#define ENTRY_MASKED 1u

struct vs_pci_msix {
	pthread_mutex_t lock;
	struct vs_pci_device *dev;
	unsigned nvec;
	unsigned cap; /* config offset of the capability */
	uint64_t table_off, pba_off;
	uint16_t ctrl; /* copy of the capability's message control */
	uint8_t *table;
	uint64_t *pba;
	vs_pci_msi_fn send;
	void *ctx;
};

static uint64_t pba_bytes(unsigned nvec)
{
	return ((nvec + 63) / 64) * 8ull;
}

static bool ranges_ok(const struct vs_pci_device *dev, unsigned nvec, unsigned bar, uint64_t table,
		      uint64_t pba)
{
	uint64_t tlen = (uint64_t)nvec * VS_PCI_MSIX_ENTRY_SIZE, plen = pba_bytes(nvec);

	if (bar >= VS_PCI_NUM_BARS || !dev->bars[bar].size ||
	    (dev->bars[bar].flags & VS_PCI_BAR_IO))
		return false;
	if (table % 8 || pba % 8 || table + tlen > dev->bars[bar].size ||
	    pba + plen > dev->bars[bar].size)
		return false;
	return table + tlen <= pba || pba + plen <= table;
}

int vs_pci_msix_new(struct vs_pci_device *dev, unsigned nvec, unsigned bar, uint32_t table_off,
		    uint32_t pba_off, vs_pci_msi_fn send, void *ctx)
{
	struct vs_pci_msix *m;
	int cap;

	if (!nvec || nvec > VS_PCI_MSIX_MAX || dev->msix ||
	    !ranges_ok(dev, nvec, bar, table_off, pba_off))
		return -EINVAL;
	cap = vs_pci_add_cap(dev, VS_PCI_CAP_ID_MSIX, CAP_LEN);
	if (cap < 0)
		return cap;
	m = xzalloc(sizeof(*m));
	*m = (struct vs_pci_msix){ .dev = dev,
				   .nvec = nvec,
				   .cap = (unsigned)cap,
				   .table_off = table_off,
				   .pba_off = pba_off,
				   .send = send,
				   .ctx = ctx };
	pthread_mutex_init(&m->lock, NULL);
	m->table = xzalloc((size_t)nvec * VS_PCI_MSIX_ENTRY_SIZE);
	m->pba = xzalloc(pba_bytes(nvec));
	dev->cfg[cap + 2] = (uint8_t)((nvec - 1) & 0xff);
	dev->cfg[cap + 3] = (uint8_t)((nvec - 1) >> 8);
	memcpy(&dev->cfg[cap + 4], &(uint32_t){ table_off | bar }, 4);
	memcpy(&dev->cfg[cap + 8], &(uint32_t){ pba_off | bar }, 4);
	dev->wmask[cap + 3] = (CTRL_ENABLE | CTRL_MASKALL) >> 8;
	dev->msix = m;
	vs_pci_msix_reset(m);
	return 0;
}

void vs_pci_msix_free(struct vs_pci_device *dev)
{
	struct vs_pci_msix *m = dev->msix;

	if (!m)
		return;
	pthread_mutex_destroy(&m->lock);
	free(m->table);
	free(m->pba);
	free(m);
	dev->msix = NULL;
}

static bool vec_masked(const struct vs_pci_msix *m, unsigned vec)
{
	uint32_t c;

	if (m->ctrl & CTRL_MASKALL)
		return true;
	memcpy(&c, m->table + vec * VS_PCI_MSIX_ENTRY_SIZE + ENTRY_CTRL, 4);
	return c & ENTRY_MASKED;
}

static void send_locked(struct vs_pci_msix *m, unsigned vec)
{
	const uint8_t *e = m->table + vec * VS_PCI_MSIX_ENTRY_SIZE;
	uint64_t addr;
	uint32_t data;

	memcpy(&addr, e, 8);
	memcpy(&data, e + 8, 4);
	m->pba[vec / 64] &= ~(1ull << (vec % 64));
	m->send(m->ctx, addr, data);
}

/* Sends what became unmasked while pending (§6.8.2.9). Lock held. */
static void flush_pending(struct vs_pci_msix *m)
{
	if (!(m->ctrl & CTRL_ENABLE))
		return;
	for (unsigned v = 0; v < m->nvec; v++)
		if ((m->pba[v / 64] & (1ull << (v % 64))) && !vec_masked(m, v))
			send_locked(m, v);
}

void vs_pci_msix_reset(struct vs_pci_msix *m)
{
	pthread_mutex_lock(&m->lock);
	memset(m->table, 0, (size_t)m->nvec * VS_PCI_MSIX_ENTRY_SIZE);
	for (unsigned v = 0; v < m->nvec; v++)
		m->table[v * VS_PCI_MSIX_ENTRY_SIZE + ENTRY_CTRL] = ENTRY_MASKED;
	memset(m->pba, 0, pba_bytes(m->nvec));
	m->ctrl = 0;
	m->dev->cfg[m->cap + 3] &= ~((CTRL_ENABLE | CTRL_MASKALL) >> 8);
	pthread_mutex_unlock(&m->lock);
}

void vs_pci_msix_cfg_written(struct vs_pci_msix *m, unsigned off, unsigned len)
{
	if (off + len <= m->cap + 2 || off >= m->cap + 4)
		return;
	pthread_mutex_lock(&m->lock);
	memcpy(&m->ctrl, &m->dev->cfg[m->cap + 2], 2);
	flush_pending(m);
	pthread_mutex_unlock(&m->lock);
}

static bool aligned_access(uint64_t off, unsigned len)
{
	return (len == 4 || len == 8) && off % len == 0;
}

bool vs_pci_msix_read(struct vs_pci_msix *m, uint64_t off, void *data, unsigned len)
{
	uint64_t tlen = (uint64_t)m->nvec * VS_PCI_MSIX_ENTRY_SIZE, plen = pba_bytes(m->nvec);
	const uint8_t *src = NULL;

	if (off >= m->table_off && off - m->table_off < tlen)
		src = m->table + (off - m->table_off);
	else if (off >= m->pba_off && off - m->pba_off < plen)
		src = (const uint8_t *)m->pba + (off - m->pba_off);
	else
		return false;
	memset(data, 0, len);
	pthread_mutex_lock(&m->lock);
	if (aligned_access(off, len))
		memcpy(data, src, len);
	pthread_mutex_unlock(&m->lock);
	return true;
}

bool vs_pci_msix_write(struct vs_pci_msix *m, uint64_t off, const void *data, unsigned len)
{
	uint64_t tlen = (uint64_t)m->nvec * VS_PCI_MSIX_ENTRY_SIZE, plen = pba_bytes(m->nvec);
	unsigned vec;

	if (off >= m->pba_off && off - m->pba_off < plen)
		return true; /* the PBA is read-only */
	if (off < m->table_off || off - m->table_off >= tlen)
		return false;
	if (!aligned_access(off, len))
		return true;
	off -= m->table_off;
	vec = (unsigned)(off / VS_PCI_MSIX_ENTRY_SIZE);
	pthread_mutex_lock(&m->lock);
	memcpy(m->table + off, data, len);
	if (!vec_masked(m, vec))
		flush_pending(m);
	pthread_mutex_unlock(&m->lock);
	return true;
}

bool vs_pci_msix_enabled(struct vs_pci_msix *m)
{
	bool on;

	pthread_mutex_lock(&m->lock);
	on = m->ctrl & CTRL_ENABLE;
	pthread_mutex_unlock(&m->lock);
	return on;
}

int vs_pci_msix_notify(struct vs_pci_msix *m, unsigned vec)
{
	int r = 0;

	if (vec >= m->nvec)
		return -EINVAL;
	pthread_mutex_lock(&m->lock);
	if (!(m->ctrl & CTRL_ENABLE)) {
		r = -ENODEV;
	} else if (vec_masked(m, vec)) {
		m->pba[vec / 64] |= 1ull << (vec % 64);
		r = 1;
	} else {
		send_locked(m, vec);
	}
	pthread_mutex_unlock(&m->lock);
	return r;
}

bool vs_pci_msix_pending(struct vs_pci_msix *m, unsigned vec)
{
	bool p;

	if (vec >= m->nvec)
		return false;
	pthread_mutex_lock(&m->lock);
	p = m->pba[vec / 64] & (1ull << (vec % 64));
	pthread_mutex_unlock(&m->lock);
	return p;
}
