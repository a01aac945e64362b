/* The files a container on a network sees as /etc/hosts, /etc/resolv.conf
 * and /etc/hostname: written in the container's directory and bind-mounted
 * over the image's (as podman does; the image and its layers are never
 * modified). /etc/hosts is how containers of one network find each other
 * by name: it lists every address leased on the network (containers and
 * VMs) and is rewritten in place, for every container of the network,
 * whenever one of them gets or gives back its address. */
#include "svc/ctr-internal.h"
#include "svc/internal.h"
#include "store/containers.h"
#include "store/networks.h"
#include "store/store.h"
#include "common/cleanup.h"
#include "common/err.h"
#include "common/json.h"
#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define HOSTS_FILE "hosts"
#define RESOLV_FILE "resolv.conf"
#define HOSTNAME_FILE "hostname"
#define RESOLV_MAX (64 << 10)
#define HOST_RESOLV "/etc/resolv.conf"
/* where systemd-resolved keeps the real servers when /etc/resolv.conf
 * names its 127.0.0.53 stub (podman reads it for the same reason) */
#define RESOLVED_RESOLV "/run/systemd/resolve/resolv.conf"

void vs_svc_ctr_net_mounts(json_t *cfg, const char *dir, size_t n_volumes)
{
	static const char *const files[][2] = { { "/etc/hosts", HOSTS_FILE },
						{ "/etc/resolv.conf", RESOLV_FILE },
						{ "/etc/hostname", HOSTNAME_FILE } };
	json_t *m = json_object_get(cfg, "mounts");
	size_t at = json_array_size(m) - n_volumes; /* before the volumes: -v wins */

	for (size_t i = 0; i < VS_ARRAY_SIZE(files); i++) {
		_cleanup_free_ char *src = xasprintf("%s/%s", dir, files[i][1]);

		json_array_insert_new(m, at++,
				      json_pack("{s:s, s:s, s:s, s:[s, s]}", "destination",
						files[i][0], "type", "bind", "source", src,
						"options", "rbind", "rprivate"));
	}
}

/* Replaces the content of path in place (the container has it
 * bind-mounted: a rename would leave the mount on the old file). */
static int write_in_place(const char *path, const char *text)
{
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	size_t len = strlen(text);

	if (fd < 0)
		return -errno;
	return write(fd, text, len) == (ssize_t)len ? 0 : -EIO;
}

static bool is_loopback(const char *addr)
{
	return !strncmp(addr, "127.", 4) || !strcmp(addr, "::1") || !strcmp(addr, "0.0.0.0");
}

/* Appends to *out the lines of the resolv.conf at path worth keeping:
 * search/domain/options (once: keep_other), and nameservers a container
 * can reach (not the host's loopback). Returns how many nameservers. */
static int resolv_take(const char *path, bool keep_other, char **out)
{
	_cleanup_free_ uint8_t *raw = NULL;
	char *save = NULL, *text;
	size_t len;
	int n = 0;

	if (vs_read_file(path, RESOLV_MAX, &raw, &len) < 0)
		return 0;
	text = xmalloc(len + 1);
	memcpy(text, raw, len);
	text[len] = 0;
	for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char word[16], arg[64];
		bool ns = sscanf(l, "%15s %63s", word, arg) == 2 && !strcmp(word, "nameserver");
		char *t;

		if (ns ? is_loopback(arg) :
			 (!keep_other || (strncmp(l, "search", 6) && strncmp(l, "domain", 6) &&
					  strncmp(l, "options", 7))))
			continue;
		t = xasprintf("%s%s\n", *out, l);
		free(*out);
		*out = t;
		n += ns;
	}
	free(text);
	return n;
}

int vs_svc_ctr_net_write_files(const char *dir, const char *hostname, bool internal,
			       struct vs_err **err)
{
	_cleanup_free_ char *rpath = xasprintf("%s/" RESOLV_FILE, dir);
	_cleanup_free_ char *hpath = xasprintf("%s/" HOSTNAME_FILE, dir);
	_cleanup_free_ char *hname = xasprintf("%s\n", hostname);
	_cleanup_free_ char *text = xstrdup("");
	int r;

	/* an --internal network reaches nothing outside: no nameserver */
	if (!internal && resolv_take(HOST_RESOLV, true, &text) == 0)
		resolv_take(RESOLVED_RESOLV, false, &text);
	if (!strstr(text, "nameserver")) {
		char *t = xasprintf("%s# vessel: no nameserver of the host is reachable from this "
				    "network; containers of the network are in /etc/hosts\n",
				    text);

		free(text);
		text = t;
	}
	if ((r = write_in_place(rpath, text)) < 0)
		return vs_err_setsys(err, r, "cannot write %s", rpath);
	if ((r = write_in_place(hpath, hname)) < 0)
		return vs_err_setsys(err, r, "cannot write %s", hpath);
	return 0;
}

/* The hosts file of container row (address self): loopback, itself, then
 * every other lease of its network under its owner's name. */
static char *hosts_text(const struct vs_store_ctr *row, const char *self,
			const struct vs_store_addr *a, size_t n)
{
	_cleanup_json_ json_t *spec = json_loads(row->spec, 0, NULL);
	const char *hn = vs_json_str(spec, "hostname");
	char host[13];
	char *text, *t;

	snprintf(host, sizeof(host), "%s", row->id);
	if (!hn)
		hn = host;
	text = xasprintf("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
			 "%s\t%s%s%s\n",
			 self, hn, strcmp(hn, row->name) ? " " : "",
			 strcmp(hn, row->name) ? row->name : "");
	for (size_t i = 0; i < n; i++) {
		if (!strcmp(a[i].address, self))
			continue;
		t = xasprintf("%s%s\t%s\n", text, a[i].address, a[i].owner_name);
		free(text);
		text = t;
	}
	return text;
}

int vs_svc_ctr_net_hosts_update(struct vs_svc *svc, const char *network)
{
	struct vs_store_addr *a = NULL;
	size_t n = 0;
	/* the write lock serialises updaters: each reads every lease and
	 * writes every file, so the last one leaves the current state */
	int r = vs_store_begin(svc->store, NULL);

	if (r < 0)
		return r;
	if ((r = vs_store_addr_list(svc->store, network, &a, &n, NULL)) < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		struct vs_store_ctr *row = NULL;
		_cleanup_free_ char *path = NULL, *text = NULL;

		if (strcmp(a[i].owner_kind, "container") ||
		    vs_store_ctr_get(svc->store, a[i].owner_name, &row, NULL) < 0)
			continue;
		path = vs_svc_ctr_path(svc, row->id, HOSTS_FILE);
		text = hosts_text(row, a[i].address, a, n);
		/* best effort: a container removed meanwhile has no directory */
		write_in_place(path, text);
		vs_store_ctr_free(row);
	}
out:
	vs_store_rollback(svc->store);
	vs_store_addr_list_free(a, n);
	return r;
}
