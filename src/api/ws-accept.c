/* The WebSocket handshake's accept key (ws.h; RFC 6455 §4.2.2): SHA-1 and
 * base64 from libcrypto, which vessel links already. */
#include "api/ws.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#define KEY_LEN 24 /* base64 of 16 bytes */

int vs_ws_accept_key(const char *key, char out[29])
{
	unsigned char raw[18], md[EVP_MAX_MD_SIZE];
	char buf[KEY_LEN + sizeof(WS_GUID)];
	unsigned mdlen = 0;

	if (!key || strlen(key) != KEY_LEN ||
	    strspn(key, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=") !=
		    KEY_LEN ||
	    EVP_DecodeBlock(raw, (const unsigned char *)key, KEY_LEN) != 18)
		return -EINVAL;
	snprintf(buf, sizeof(buf), "%s%s", key, WS_GUID);
	if (!EVP_Digest(buf, strlen(buf), md, &mdlen, EVP_sha1(), NULL) || mdlen != 20)
		return -EINVAL;
	EVP_EncodeBlock((unsigned char *)out, md, (int)mdlen); /* 28 chars and a NUL */
	return 0;
}
