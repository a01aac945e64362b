/* libnftables in a namespace; listing parser. We never exec nft(8): the
 * library parses the same command language and talks nfnetlink itself.
 * It is loaded on first use (dlopen), not at start: with libnftnl and
 * libxtables it costs every vessel process ~0.5 MiB of resident pages
 * and only networks with NAT or published ports need it. */
#include "net/nft.h"
#include "net/netns.h"
#include "net/internal.h"
#include "common/cleanup.h"
#include "common/err.h"
#include "common/util.h"
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <nftables/libnftables.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define NFT_FUNCS(X)                \
	X(nft_ctx_new)              \
	X(nft_ctx_free)             \
	X(nft_ctx_buffer_output)    \
	X(nft_ctx_buffer_error)     \
	X(nft_ctx_output_set_flags) \
	X(nft_run_cmd_from_buffer)  \
	X(nft_ctx_get_error_buffer) \
	X(nft_ctx_get_output_buffer)

#define NFT_PTR(f) __typeof__(f) *f;
static struct {
	NFT_FUNCS(NFT_PTR)
} nft;
#undef NFT_PTR

static pthread_once_t nft_once = PTHREAD_ONCE_INIT;
static char nft_why[256]; /* empty once loaded */

static void nft_open(void)
{
	void *h = dlopen(VS_LIBNFTABLES_SONAME, RTLD_NOW | RTLD_LOCAL);

	if (!h) {
		snprintf(nft_why, sizeof(nft_why), "%s", dlerror());
		return;
	}
	/* POSIX's dlsym gives a function's address as a void * */
#define NFT_SYM(f)                                                                             \
	if (!(nft.f = (__typeof__(nft.f))dlsym(h, #f))) {                                      \
		snprintf(nft_why, sizeof(nft_why), "%s has no %s", VS_LIBNFTABLES_SONAME, #f); \
		return;                                                                        \
	}
	NFT_FUNCS(NFT_SYM)
#undef NFT_SYM
}

struct nft_call {
	const char *cmds;
	bool want_out;
	char *out;
	char *msg; /* first line of the error buffer */
};

static char *first_line(const char *s)
{
	const char *nl;

	if (!s)
		return xstrdup("libnftables failed");
	if (!strncmp(s, "Error: ", 7))
		s += 7;
	nl = strchr(s, '\n');
	return nl ? xasprintf("%.*s", (int)(nl - s), s) : xstrdup(s);
}

static int nft_thread(void *p)
{
	struct nft_call *c = p;
	struct nft_ctx *ctx = nft.nft_ctx_new(NFT_CTX_DEFAULT);
	int rc;

	if (!ctx)
		return -ENOMEM;
	nft.nft_ctx_buffer_output(ctx);
	nft.nft_ctx_buffer_error(ctx);
	if (c->want_out)
		nft.nft_ctx_output_set_flags(ctx, NFT_CTX_OUTPUT_HANDLE);
	rc = nft.nft_run_cmd_from_buffer(ctx, c->cmds);
	if (rc)
		c->msg = first_line(nft.nft_ctx_get_error_buffer(ctx));
	else if (c->want_out)
		c->out = xstrdup(nft.nft_ctx_get_output_buffer(ctx) ?: "");
	nft.nft_ctx_free(ctx);
	return rc ? -EIO : 0;
}

int vs_nft_run(int netns_fd, const char *cmds, char **out, struct vs_err **err)
{
	struct nft_call c = { .cmds = cmds, .want_out = out != NULL };
	_cleanup_free_ char *msg = NULL;
	int r;

	pthread_once(&nft_once, nft_open);
	if (nft_why[0])
		return vs_err_set(err, -ELIBACC, "cannot load libnftables: %s", nft_why);
	r = vs_netns_run(netns_fd, nft_thread, &c);
	msg = c.msg;
	if (r < 0 && !msg)
		return vs_err_setsys(err, r, "nftables");
	if (r < 0) {
		if (strstr(msg, "No such file or directory"))
			r = -ENOENT;
		else if (strstr(msg, "File exists"))
			r = -EEXIST;
		return vs_err_set(err, r, "nftables: %s", msg);
	}
	if (out)
		*out = c.out;
	return 0;
}

/* "chain NAME {" opens a chain; a rule line ends in "# handle N". */
static void parse_line(const char *l, char *chain, size_t chain_len, struct vs_nft_rule *r,
		       bool *is_rule)
{
	const char *c, *h;
	int n;

	*is_rule = false;
	while (*l == ' ' || *l == '\t')
		l++;
	if (!strncmp(l, "chain ", 6)) {
		n = (int)strcspn(l + 6, " {");
		snprintf(chain, chain_len, "%.*s", n, l + 6);
		return;
	}
	c = strstr(l, "comment \"");
	h = strstr(l, " # handle ");
	if (!c || !h || c > h)
		return;
	c += 9;
	n = (int)strcspn(c, "\"");
	snprintf(r->comment, sizeof(r->comment), "%.*s", n, c);
	snprintf(r->chain, sizeof(r->chain), "%s", chain);
	r->handle = strtoull(h + 10, NULL, 10);
	*is_rule = r->handle != 0;
}

int vs_nft_rules(const char *listing, struct vs_nft_rule **out, size_t *n)
{
	struct vs_nft_rule *v = NULL, r;
	size_t cnt = 0, cap = 0;
	char chain[64] = "";
	const char *l = listing;

	while (l && *l) {
		const char *end = strchr(l, '\n');
		_cleanup_free_ char *line = end ? xasprintf("%.*s", (int)(end - l), l) : xstrdup(l);
		bool is_rule;

		parse_line(line, chain, sizeof(chain), &r, &is_rule);
		if (is_rule) {
			if (cnt == cap) {
				cap = cap ? 2 * cap : 16;
				v = xrealloc(v, cap * sizeof(*v));
			}
			v[cnt++] = r;
		}
		l = end ? end + 1 : NULL;
	}
	*out = v;
	*n = cnt;
	return 0;
}

/* "table ip filter {" -> "ip filter"; "chain FORWARD {" -> "FORWARD". */
static bool head_word(const char *l, const char *kw, unsigned words, char *out, size_t len)
{
	const char *p = l + strspn(l, " \t"), *end;
	size_t kl = strlen(kw);

	if (strncmp(p, kw, kl) || p[kl] != ' ')
		return false;
	p += kl + 1;
	end = p;
	for (unsigned w = 0; w < words; w++) {
		end += strcspn(end, " {");
		if (w + 1 < words && *end == ' ')
			end++;
	}
	snprintf(out, len, "%.*s", (int)(end - p), p);
	return true;
}

bool vs_nft_forward_drop(const char *listing, const char *skip, char *buf, size_t len)
{
	char table[128] = "", chain[128] = "", line[512];
	const char *p = listing;

	while (p && *p) {
		size_t n = strcspn(p, "\n");

		snprintf(line, sizeof(line), "%.*s", (int)VS_MIN(n, sizeof(line) - 1), p);
		p += n + (p[n] == '\n');
		if (head_word(line, "table", 2, table, sizeof(table)) ||
		    head_word(line, "chain", 1, chain, sizeof(chain)))
			continue;
		if (strcmp(table, skip) && strstr(line, "hook forward") &&
		    strstr(line, "policy drop;")) {
			snprintf(buf, len, "table %s chain %s", table, chain);
			return true;
		}
	}
	return false;
}

int vs_nft_layout(int netns_fd, const char *layout, struct vs_err **err)
{
	struct vs_err *e = NULL;
	int r = vs_nft_run(netns_fd, layout, NULL, &e);

	if (r == -EEXIST) {
		vs_err_free(e);
		return 0;
	}
	if (r < 0)
		net_err_pass(err, e);
	return r;
}
