/* CRC-32C (Castagnoli, reflected polynomial 0x82f63b78), as VHDX, iSCSI and
 * ext4 use it. */
#ifndef VS_COMMON_CRC32C_H
#define VS_COMMON_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* Continues crc (start with 0) over len bytes of buf. */
uint32_t vs_crc32c(uint32_t crc, const void *buf, size_t len);

#endif
