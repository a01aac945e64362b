/* virtio-rng over the modern PCI transport (virtio 1.2 §5.4). */
#ifndef VS_VIRTIO_RNG_H
#define VS_VIRTIO_RNG_H

struct vs_virtio_pci;
struct vs_virtio_pci_env;
struct vs_virtio_rng;

#define VS_VIRTIO_ID_RNG 4

/* Creates the device and its transport on env's buses. Returns 0 or -errno. */
int vs_virtio_rng_new(const struct vs_virtio_pci_env *env, struct vs_virtio_rng **out);
void vs_virtio_rng_free(struct vs_virtio_rng *rng);
struct vs_virtio_pci *vs_virtio_rng_transport(struct vs_virtio_rng *rng);

#endif
