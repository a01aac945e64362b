/* Encoding of the guest command-line fragments (cmdline-abi.h), for the VMM. */
#ifndef VS_GUEST_CMD_ENCODE_H
#define VS_GUEST_CMD_ENCODE_H

/*
 * Encodes the NULL-terminated list as `key=<base64url of each entry + NUL>`.
 * An empty list is encoded as `key=` (an empty value).
 * Returns 0 and a malloc'd string in *out (caller frees), -E2BIG if the
 * fragment would not fit in VS_GUEST_CMDLINE_SIZE, -ENOMEM.
 */
int vs_guest_list_encode(const char *key, char *const list[], char **out);

/*
 * Encodes argv as the `vessel.cmd=...` fragment. argv must hold at least one
 * entry (-EINVAL otherwise). Returns 0 and *out (malloc'd) or -errno as above.
 */
int vs_guest_cmd_encode(char *const argv[], char **out);

/* The `vessel.cwd=...` fragment for dir (non-NULL). Same contract. */
int vs_guest_cwd_encode(const char *dir, char **out);

/* The `vessel.env=...` fragment for KEY=VALUE entries. Same contract; entries
 * without '=' are refused with -EINVAL. */
int vs_guest_env_encode(char *const envp[], char **out);

#endif /* VS_GUEST_CMD_ENCODE_H */
