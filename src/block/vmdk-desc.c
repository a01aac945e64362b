/* VMDK descriptor files: the text that names a disk's extents (VMware's
 * "Virtual Disk Format 1.1", as qemu-img reads and writes it).
 *
 *   # Disk DescriptorFile
 *   version=1
 *   CID=5aabb728
 *   parentCID=ffffffff
 *   createType="twoGbMaxExtentSparse"
 *   RW 4194304 SPARSE "t-s001.vmdk"
 *   RW 2097152 FLAT "t-f002.vmdk" 0
 *   RW 1000 ZERO
 *   ddb.adapterType = "ide"
 *
 * The text is untrusted: its size, line length and extent count are bounded,
 * every number is range-checked, and each refusal is one line. */
#include "block/vmdk-internal.h"
#include "common/cleanup.h"
#include "common/err.h"
#include "common/util.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = 0;
	return s;
}

static char *unquote(char *s)
{
	size_t n = strlen(s);

	if (n >= 2 && s[0] == '"' && s[n - 1] == '"') {
		s[n - 1] = 0;
		return s + 1;
	}
	return s;
}

static int parse_u64(const char *s, int base, uint64_t *out)
{
	char *end;

	if (!*s || *s == '-' || isspace((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	*out = strtoull(s, &end, base);
	return errno || *end ? -EINVAL : 0;
}

/* ACCESS SECTORS TYPE ["NAME" [OFFSET]] */
static int parse_extent(struct vmdk *v, char *line, const char *dir, const char *path,
			struct vs_err **err)
{
	char *save = NULL, *access = strtok_r(line, " \t", &save);
	char *size = strtok_r(NULL, " \t", &save), *type = strtok_r(NULL, " \t", &save);
	char *rest = save ? trim(save) : NULL, *name = NULL, *q;
	struct vmdk_extent e = { .fd = -1 };
	uint64_t prev = v->n_ext ? v->ext[v->n_ext - 1].start + v->ext[v->n_ext - 1].sectors : 0;

	if (!size || !type || parse_u64(size, 10, &e.sectors) < 0 || e.sectors == 0 ||
	    e.sectors > (UINT64_MAX >> 10) - prev)
		return vs_err_set(err, -EINVAL, "%s: invalid VMDK extent line", path);
	if (v->n_ext >= VMDK_MAX_EXTENTS)
		return vs_err_set(err, -EINVAL, "%s: more than %u VMDK extents", path,
				  VMDK_MAX_EXTENTS);
	e.ro = strcmp(access, "RW") != 0;
	if (!strcmp(type, "SPARSE"))
		e.type = VMDK_EXT_SPARSE;
	else if (!strcmp(type, "FLAT") || !strcmp(type, "VMFS"))
		e.type = VMDK_EXT_FLAT;
	else if (!strcmp(type, "ZERO"))
		e.type = VMDK_EXT_ZERO;
	else
		return vs_err_set(err, -ENOTSUP, "%s: unsupported VMDK extent type '%s'", path,
				  type);
	if (e.type != VMDK_EXT_ZERO) {
		if (!rest || rest[0] != '"' || !(q = strchr(rest + 1, '"')) || q == rest + 1)
			return vs_err_set(err, -EINVAL, "%s: VMDK extent without a file name",
					  path);
		*q = 0;
		name = rest + 1;
		rest = trim(q + 1);
		if (e.type == VMDK_EXT_FLAT && *rest && parse_u64(rest, 10, &e.flat_offset) < 0)
			return vs_err_set(err, -EINVAL, "%s: invalid VMDK extent offset", path);
		if (e.flat_offset > UINT64_MAX / VMDK_SECTOR - e.sectors)
			return vs_err_set(err, -EINVAL, "%s: invalid VMDK extent offset", path);
		e.name = xstrdup(name);
		e.path = name[0] == '/' ? xstrdup(name) : xasprintf("%s%s", dir, name);
	}
	e.start = prev;
	v->ext = xrealloc(v->ext, (v->n_ext + 1) * sizeof(*v->ext));
	v->ext[v->n_ext++] = e;
	return 0;
}

static int parse_key(struct vmdk *v, char *key, char *val, const char *path, struct vs_err **err)
{
	uint64_t n;

	key = trim(key);
	val = unquote(trim(val));
	if (!strcmp(key, "CID") || !strcmp(key, "parentCID")) {
		if (parse_u64(val, 16, &n) < 0 || n > UINT32_MAX)
			return vs_err_set(err, -EINVAL, "%s: invalid VMDK %s", path, key);
		*(!strcmp(key, "CID") ? &v->cid : &v->parent_cid) = (uint32_t)n;
	} else if (!strcmp(key, "createType")) {
		free(v->create_type);
		v->create_type = xstrdup(val);
	} else if (!strcmp(key, "parentFileNameHint")) {
		if (!*val)
			return vs_err_set(err, -EINVAL, "%s: empty VMDK parentFileNameHint", path);
		free(v->parent_hint);
		v->parent_hint = xstrdup(val);
	} else if (!strcmp(key, "version")) {
		if (parse_u64(val, 10, &n) < 0 || n < 1 || n > 3)
			return vs_err_set(err, -ENOTSUP, "%s: unsupported VMDK descriptor version",
					  path);
	}
	return 0;
}

int vmdk_desc_parse(struct vmdk *v, const char *text, const char *dir, const char *path,
		    bool keys_only, struct vs_err **err)
{
	size_t len = strnlen(text, VMDK_MAX_DESC + 1);
	_cleanup_free_ char *copy = NULL;
	char *line, *save = NULL, *eq;
	int r = 0;

	if (len > VMDK_MAX_DESC)
		return vs_err_set(err, -EFBIG, "%s: VMDK descriptor too large", path);
	copy = xstrdup(text);
	v->parent_cid = UINT32_MAX;
	for (line = strtok_r(copy, "\n", &save); line && r == 0;
	     line = strtok_r(NULL, "\n", &save)) {
		if (strlen(line) > VMDK_MAX_LINE)
			return vs_err_set(err, -EINVAL, "%s: VMDK descriptor line too long", path);
		line = trim(line);
		if (!*line || *line == '#')
			continue;
		if (!strncmp(line, "RW ", 3) || !strncmp(line, "RDONLY ", 7) ||
		    !strncmp(line, "NOACCESS ", 9))
			r = keys_only ? 0 : parse_extent(v, line, dir, path, err);
		else if ((eq = strchr(line, '='))) {
			*eq = 0;
			r = parse_key(v, line, eq + 1, path, err);
		}
	}
	if (r == 0 && v->n_ext == 0 && !keys_only)
		r = vs_err_set(err, -EINVAL, "%s: VMDK descriptor names no extent", path);
	if (r == 0 && !v->create_type)
		v->create_type = xstrdup("");
	return r;
}

char *vmdk_desc_write(const struct vmdk_desc_head *h, const struct vmdk_extent *ext, size_t n,
		      uint64_t total_sectors)
{
	size_t cap = 1024 + n * 128 + (h->parent ? strlen(h->parent) : 0), off;
	char *out = xmalloc(cap);
	const char *adapter = h->adapter;
	unsigned heads = adapter && strcmp(adapter, "ide") ? 255 : 16; /* as qemu-img */
	uint64_t cyl = VS_MIN(total_sectors / (heads * 63), 16383ull);

	off = (size_t)snprintf(out, cap,
			       "# Disk DescriptorFile\nversion=1\nCID=%08x\nparentCID=%08x\n"
			       "createType=\"%s\"\n",
			       h->cid, h->parent_cid, h->create_type);
	if (h->parent)
		off += (size_t)snprintf(out + off, cap - off, "parentFileNameHint=\"%s\"\n",
					h->parent);
	off += (size_t)snprintf(out + off, cap - off, "\n# Extent description\n");
	for (size_t i = 0; i < n; i++) {
		if (ext[i].type == VMDK_EXT_SPARSE)
			off += (size_t)snprintf(out + off, cap - off,
						"RW %" PRIu64 " SPARSE \"%s\"\n", ext[i].sectors,
						ext[i].name);
		else
			off += (size_t)snprintf(out + off, cap - off,
						"RW %" PRIu64 " FLAT \"%s\" %" PRIu64 "\n",
						ext[i].sectors, ext[i].name, ext[i].flat_offset);
	}
	snprintf(out + off, cap - off,
		 "\n# The Disk Data Base\n#DDB\n\nddb.virtualHWVersion = \"%d\"\n"
		 "ddb.geometry.cylinders = \"%" PRIu64 "\"\nddb.geometry.heads = \"%u\"\n"
		 "ddb.geometry.sectors = \"63\"\nddb.adapterType = \"%s\"\n"
		 "ddb.toolsVersion = \"2147483647\"\n",
		 h->compat6 ? 6 : 4, cyl, heads, adapter ? adapter : "ide");
	return out;
}
