/* `vessel img info` (human and json, like qemu-img) and `vessel img map`. */
#include "block/block.h"
#include "block/qcow2.h"
#include "block/vmdk.h"
#include "cli/cmd-img.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

void img_print_snapshots(struct vs_blk *b)
{
	struct qcow2_snapshot_info *s;
	size_t n;

	if (qcow2_snapshot_list(b, &s, &n) < 0 || n == 0) {
		qcow2_snapshot_list_free(s, 0);
		return;
	}
	printf("Snapshot list:\n%-10s%-17s%8s%20s%13s%11s\n", "ID", "TAG", "VM SIZE", "DATE",
	       "VM CLOCK", "ICOUNT");
	for (size_t i = 0; i < n; i++) {
		char date[32], vs[32];
		time_t t = s[i].date_sec;
		uint64_t ms = s[i].vm_clock_nsec / 1000000;

		strftime(date, sizeof(date), "%Y-%m-%d %H:%M:%S", localtime(&t));
		img_human_size(vs, sizeof(vs), s[i].vm_state_size);
		printf("%-9s %-16s %8s %19s %02" PRIu64 ":%02" PRIu64 ":%02" PRIu64 ".%03" PRIu64
		       " %10s\n",
		       s[i].id, s[i].name, vs, date, ms / 3600000, ms / 60000 % 60, ms / 1000 % 60,
		       ms % 1000, s[i].icount == UINT64_MAX ? "" : "0");
	}
	qcow2_snapshot_list_free(s, n);
}

static void info_human_vmdk(struct vs_blk *b)
{
	struct vmdk_info vi;

	vmdk_get_info(b, &vi);
	if (vi.parent && strcmp(vi.parent, vi.parent_full))
		printf("backing file: %s (actual path: %s)\nbacking file format: vmdk\n", vi.parent,
		       vi.parent_full);
	else if (vi.parent)
		printf("backing file: %s\nbacking file format: vmdk\n", vi.parent);
	printf("Format specific information:\n    cid: %u\n    parent cid: %u\n"
	       "    create type: %s\n    extents:\n",
	       vi.cid, vi.parent_cid, vi.create_type);
	for (size_t i = 0; i < vi.n_extents; i++) {
		const struct vmdk_extent_info *e = &vi.extents[i];

		printf("        [%zu]:\n", i);
		if (e->compressed)
			printf("            compressed: true\n");
		printf("            virtual size: %" PRIu64 "\n            filename: %s\n", e->size,
		       e->filename);
		if (e->cluster_size)
			printf("            cluster size: %" PRIu64 "\n", e->cluster_size);
		printf("            format: %s\n", e->format);
	}
}

/* qemu-img's "format-specific" object of a VMDK (QAPI ImageInfoSpecificVmdk). */
static void info_json_vmdk(struct vs_blk *b)
{
	struct vmdk_info vi;

	vmdk_get_info(b, &vi);
	printf("    \"format-specific\": {\n        \"type\": \"vmdk\",\n        \"data\": {\n"
	       "            \"cid\": %u,\n            \"parent-cid\": %u,\n"
	       "            \"create-type\": ",
	       vi.cid, vi.parent_cid);
	img_json_str(vi.create_type);
	printf(",\n            \"extents\": [\n");
	for (size_t i = 0; i < vi.n_extents; i++) {
		const struct vmdk_extent_info *e = &vi.extents[i];

		printf("                {\n");
		if (e->compressed)
			printf("                    \"compressed\": true,\n");
		printf("                    \"virtual-size\": %" PRIu64
		       ",\n                    \"filename\": ",
		       e->size);
		img_json_str(e->filename);
		printf(",\n");
		if (e->cluster_size)
			printf("                    \"cluster-size\": %" PRIu64 ",\n",
			       e->cluster_size);
		printf("                    \"format\": \"%s\"\n                }%s\n", e->format,
		       i + 1 < vi.n_extents ? "," : "");
	}
	printf("            ]\n        }\n    },\n");
}

static void info_human(struct vs_blk *b, const char *path)
{
	struct qcow2_info qi;
	char vs[32], ds[32];

	img_human_size(vs, sizeof(vs), vs_blk_size(b));
	img_human_size(ds, sizeof(ds), img_disk_usage(path));
	printf("image: %s\nfile format: %s\nvirtual size: %s (%" PRIu64 " bytes)\ndisk size: %s\n",
	       path, vs_blk_format(b), vs, vs_blk_size(b), ds);
	if (b->cluster_size)
		printf("cluster_size: %" PRIu64 "\n", b->cluster_size);
	if (vmdk_is(b))
		info_human_vmdk(b);
	if (!qcow2_is(b))
		return;
	qcow2_get_info(b, &qi);
	if (qi.backing && strcmp(qi.backing, qi.backing_full) != 0)
		printf("backing file: %s (actual path: %s)\n", qi.backing, qi.backing_full);
	else if (qi.backing)
		printf("backing file: %s\n", qi.backing);
	if (qi.backing_fmt)
		printf("backing file format: %s\n", qi.backing_fmt);
	img_print_snapshots(b);
	printf("Format specific information:\n    compat: %s\n", qi.version == 2 ? "0.10" : "1.1");
	if (qi.version >= 3)
		printf("    compression type: %s\n    lazy refcounts: %s\n",
		       qi.compression_type ? "zstd" : "zlib", qi.lazy_refcounts ? "true" : "false");
	printf("    refcount bits: %u\n    corrupt: %s\n", qi.refcount_bits,
	       qi.corrupt ? "true" : "false");
	if (qi.version >= 3)
		printf("    extended l2: false\n");
}

static void info_json_snapshots(struct vs_blk *b)
{
	struct qcow2_snapshot_info *s;
	size_t n;

	if (qcow2_snapshot_list(b, &s, &n) < 0 || n == 0) {
		qcow2_snapshot_list_free(s, 0);
		return;
	}
	printf("    \"snapshots\": [\n");
	for (size_t i = 0; i < n; i++) {
		printf("        {\n            \"icount\": %" PRIu64
		       ",\n            \"vm-clock-nsec\": %" PRIu64 ",\n            \"name\": ",
		       s[i].icount == UINT64_MAX ? 0 : s[i].icount,
		       s[i].vm_clock_nsec % 1000000000);
		img_json_str(s[i].name);
		printf(",\n            \"date-sec\": %u,\n            \"date-nsec\": %u,\n"
		       "            \"vm-clock-sec\": %" PRIu64 ",\n            \"id\": ",
		       s[i].date_sec, s[i].date_nsec, s[i].vm_clock_nsec / 1000000000);
		img_json_str(s[i].id);
		printf(",\n            \"vm-state-size\": %" PRIu64 "\n        }%s\n",
		       s[i].vm_state_size, i + 1 < n ? "," : "");
	}
	printf("    ],\n");
	qcow2_snapshot_list_free(s, n);
}

static void json_kv(const char *key, const char *v)
{
	if (!v)
		return;
	printf("    \"%s\": ", key);
	img_json_str(v);
	printf(",\n");
}

/* Keys in qemu-img's order (QAPI ImageInfo), so outputs diff cleanly. */
static void info_json(struct vs_blk *b, const char *path)
{
	struct qcow2_info qi = { 0 };
	bool q2 = qcow2_is(b);

	printf("{\n");
	if (q2) {
		qcow2_get_info(b, &qi);
		json_kv("backing-filename-format", qi.backing_fmt);
		info_json_snapshots(b);
	}
	printf("    \"virtual-size\": %" PRIu64 ",\n    \"filename\": ", vs_blk_size(b));
	img_json_str(path);
	printf(",\n");
	if (b->cluster_size)
		printf("    \"cluster-size\": %" PRIu64 ",\n", b->cluster_size);
	printf("    \"format\": \"%s\",\n    \"actual-size\": %" PRIu64 ",\n", vs_blk_format(b),
	       img_disk_usage(path));
	if (vmdk_is(b))
		info_json_vmdk(b);
	if (q2) {
		printf("    \"format-specific\": {\n        \"type\": \"qcow2\",\n        \"data\": {\n"
		       "            \"compat\": \"%s\",\n            \"compression-type\": \"%s\",\n"
		       "            \"lazy-refcounts\": %s,\n            \"refcount-bits\": %u,\n"
		       "            \"corrupt\": %s,\n            \"extended-l2\": false\n        }\n    },\n",
		       qi.version == 2 ? "0.10" : "1.1", qi.compression_type ? "zstd" : "zlib",
		       qi.lazy_refcounts ? "true" : "false", qi.refcount_bits,
		       qi.corrupt ? "true" : "false");
		json_kv("full-backing-filename", qi.backing_full);
		json_kv("backing-filename", qi.backing);
	}
	printf("    \"dirty-flag\": %s\n}\n", q2 && qi.dirty ? "true" : "false");
}

int img_info(int argc, char **argv)
{
	static const struct option lo[] = { { "output", required_argument, NULL, 'O' },
					    { "backing-chain", no_argument, NULL, 'B' },
					    { "force-share", no_argument, NULL, 'U' },
					    { 0 } };
	const char *fmt = NULL, *out = "human";
	bool chain = false, json;
	unsigned share = 0;
	struct vs_blk *b;
	int c;

	while ((c = getopt_long(argc, argv, "f:U", lo, NULL)) != -1) {
		if (c == 'f')
			fmt = optarg;
		else if (c == 'O')
			out = optarg;
		else if (c == 'B')
			chain = true;
		else if (c == 'U')
			share = VS_BLK_SHARE;
		else if (c == '?')
			return img_usage_err(
				"info [-f FMT] [--output human|json] [--backing-chain] FILE");
	}
	if (optind >= argc)
		return img_usage_err("info: missing FILE");
	if (img_open(argv[optind], fmt, share | VS_BLK_RDONLY | (chain ? 0 : VS_BLK_NO_BACKING),
		     &b) < 0)
		return 1;
	json = strcmp(out, "json") == 0;
	fputs(json && chain ? "[" : "", stdout);
	for (struct vs_blk *i = b; i; i = chain ? qcow2_backing(i) : NULL) {
		json ? info_json(i, i->filename) : info_human(i, i->filename);
		fputs(chain && qcow2_backing(i) ? (json ? "," : "\n") : "", stdout);
	}
	fputs(json && chain ? "]\n" : "", stdout);
	vs_blk_close(b);
	return 0;
}

/* ---- map ---- */

int img_map(int argc, char **argv)
{
	static const struct option lo[] = { { "output", required_argument, NULL, 'O' },
					    { "force-share", no_argument, NULL, 'U' },
					    { 0 } };
	const char *fmt = NULL;
	bool json = false, first = true;
	unsigned share = 0;
	struct vs_blk_status st;
	struct vs_blk *b;
	int c, r = 0;

	while ((c = getopt_long(argc, argv, "f:U", lo, NULL)) != -1) {
		if (c == 'f')
			fmt = optarg;
		else if (c == 'U')
			share = VS_BLK_SHARE;
		else if (c == 'O')
			json = strcmp(optarg, "json") == 0;
		else
			return img_usage_err("map [-f FMT] [--output human|json] FILE");
	}
	if (optind >= argc)
		return img_usage_err("map: missing FILE");
	if (img_open(argv[optind], fmt, share | VS_BLK_RDONLY, &b) < 0)
		return 1;
	printf(json ? "[" : "%-16s%-16s%-16s%s\n", "Offset", "Length", "Mapped to", "File");
	for (uint64_t off = 0; off < vs_blk_size(b) && r == 0; off += st.len) {
		r = vs_blk_block_status(b, off, vs_blk_size(b) - off, &st);
		if (r < 0)
			break;
		if (json) {
			printf("%s{ \"start\": %" PRIu64 ", \"length\": %" PRIu64
			       ", \"depth\": %d, "
			       "\"present\": %s, \"zero\": %s, \"data\": %s, \"compressed\": %s",
			       first ? "" : ",\n", off, st.len, st.depth,
			       (st.flags & (VS_BLK_ST_ALLOCATED | VS_BLK_ST_DATA)) || st.depth ?
				       "true" :
				       "false",
			       st.flags & VS_BLK_ST_ZERO ? "true" : "false",
			       st.flags & VS_BLK_ST_DATA ? "true" : "false",
			       st.flags & VS_BLK_ST_COMPRESSED ? "true" : "false");
			if (st.flags & VS_BLK_ST_OFFSET)
				printf(", \"offset\": %" PRIu64, st.host_offset);
			printf("}");
			first = false;
		} else if ((st.flags & VS_BLK_ST_DATA) && (st.flags & VS_BLK_ST_OFFSET)) {
			printf("%#-16" PRIx64 "%#-16" PRIx64 "%#-16" PRIx64 "%s\n", off, st.len,
			       st.host_offset, b->filename);
		}
	}
	if (json)
		printf("]\n");
	vs_blk_close(b);
	if (r < 0)
		fprintf(stderr, "vessel img: map: %s\n", strerror(-r));
	return r < 0 ? 1 : 0;
}
