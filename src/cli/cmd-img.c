/* `vessel img`: disk image verbs with qemu-img's names, flags and exit codes
 * (create, info, check, map, compare, convert, resize, snapshot, bench).
 * Parsing and printing only; the work is in src/block.
 *
 * Sections: helpers / create / info / check / map / compare / convert /
 * resize / snapshot / bench / dispatch. */
#include "block/block.h"
#include "block/qcow2.h"
#include "block/raw.h"
#include "block/tools.h"
#include "cli/cmds.h"
#include "common/err.h"
#include "common/util.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---- helpers ---- */

static int fail(struct vs_err *e, int code)
{
	fprintf(stderr, "vessel img: %s\n", e ? e->msg : "failed");
	vs_err_free(e);
	return code;
}

static int usage_err(const char *msg)
{
	fprintf(stderr, "vessel img: %s (see vessel img --help)\n", msg);
	return 1;
}

static void human_size(char *buf, size_t len, uint64_t v)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
	unsigned i = 0;
	double d = (double)v;

	while (d >= 1024 && i + 1 < VS_ARRAY_SIZE(units)) {
		d /= 1024;
		i++;
	}
	snprintf(buf, len, "%0.3g %s", d, units[i]);
}

static int open_image(const char *path, const char *fmt, unsigned flags, struct vs_blk **b)
{
	struct vs_err *e = NULL;
	int r = vs_blk_open(path, fmt, flags | (fmt ? 0 : VS_BLK_PROBE), b, &e);

	if (r < 0)
		fail(e, 1);
	return r;
}

static uint64_t disk_usage(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (uint64_t)st.st_blocks * 512 : 0;
}

static int parse_size_arg(const char *s, uint64_t *out)
{
	/* qemu-img: a plain number is bytes; k/M/G/T suffixes are binary */
	return vs_parse_size(s, 1, out);
}

/* ---- create ---- */

static int apply_create_opt(struct qcow2_create_opts *o, char *kv)
{
	char *v = strchr(kv, '=');
	uint64_t n;

	if (!v)
		return -EINVAL;
	*v++ = 0;
	if (strcmp(kv, "cluster_size") == 0)
		return parse_size_arg(v, &o->cluster_size);
	if (strcmp(kv, "refcount_bits") == 0) {
		if (vs_parse_uint(v, 1, 64, &n) < 0)
			return -EINVAL;
		o->refcount_bits = (unsigned)n;
		return 0;
	}
	if (strcmp(kv, "compression_type") == 0) {
		if (strcmp(v, "zlib") && strcmp(v, "zstd"))
			return -EINVAL;
		o->compression_type = strcmp(v, "zstd") == 0;
		return 0;
	}
	if (strcmp(kv, "preallocation") == 0) {
		static const char *const m[] = { "off", "metadata", "falloc", "full" };

		for (unsigned i = 0; i < VS_ARRAY_SIZE(m); i++)
			if (strcmp(v, m[i]) == 0)
				return o->prealloc = (enum qcow2_prealloc)i, 0;
		return -EINVAL;
	}
	if (strcmp(kv, "compat") == 0) {
		o->version = strcmp(v, "0.10") == 0 || strcmp(v, "v2") == 0 ? 2 : 3;
		return strcmp(v, "0.10") && strcmp(v, "v2") && strcmp(v, "1.1") && strcmp(v, "v3")
			       ? -EINVAL : 0;
	}
	if (strcmp(kv, "backing_file") == 0)
		return o->backing = v, 0;
	if (strcmp(kv, "backing_fmt") == 0)
		return o->backing_fmt = v, 0;
	if (strcmp(kv, "lazy_refcounts") == 0 && strcmp(v, "off") == 0)
		return 0;
	return -ENOTSUP;
}

static int parse_create_opts(struct qcow2_create_opts *o, char *list)
{
	for (char *save = NULL, *kv = strtok_r(list, ",", &save); kv;
	     kv = strtok_r(NULL, ",", &save)) {
		char *copy = kv;

		if (apply_create_opt(o, copy) < 0) {
			fprintf(stderr, "vessel img: invalid or unsupported option '%s'\n", kv);
			return -EINVAL;
		}
	}
	return 0;
}

static int create_image(const char *fmt, const char *path, struct qcow2_create_opts *o)
{
	struct vs_err *e = NULL;
	int r;

	if (strcmp(fmt, "raw") == 0) {
		if (o->backing)
			return usage_err("raw images have no backing file");
		r = raw_create(path, o->size, o->prealloc >= QCOW2_PREALLOC_FALLOC, &e);
	} else if (strcmp(fmt, "qcow2") == 0) {
		r = qcow2_create(path, o, &e);
	} else {
		return usage_err("unknown format");
	}
	if (r < 0)
		return fail(e, 1);
	printf("Formatting '%s', fmt=%s size=%" PRIu64 "\n", path, fmt, o->size);
	return 0;
}

static int img_create(int argc, char **argv)
{
	static const struct option lo[] = { { "help", no_argument, NULL, 'h' }, { 0 } };
	struct qcow2_create_opts o = { 0 };
	const char *fmt = "raw";
	int c;

	while ((c = getopt_long(argc, argv, "f:o:b:F:uq", lo, NULL)) != -1) {
		if (c == 'f')
			fmt = optarg;
		else if (c == 'o' && parse_create_opts(&o, optarg) < 0)
			return 1;
		else if (c == 'b')
			o.backing = optarg;
		else if (c == 'F')
			o.backing_fmt = optarg;
		else if (c == '?' || c == 'h')
			return usage_err("create [-f FMT] [-o OPTS] [-b BACKING -F FMT] FILE [SIZE]");
	}
	if (optind >= argc)
		return usage_err("create: missing FILE");
	if (optind + 1 < argc && parse_size_arg(argv[optind + 1], &o.size) < 0)
		return usage_err("create: invalid size");
	if (optind + 1 >= argc && !o.backing)
		return usage_err("create: missing SIZE");
	if (o.backing && !o.backing_fmt)
		return usage_err("create: -b needs the backing format (-F raw|qcow2)");
	return create_image(fmt, argv[optind], &o);
}

/* ---- info ---- */

static void info_snapshots_human(struct vs_blk *b)
{
	struct qcow2_snapshot_info *s;
	size_t n;

	if (qcow2_snapshot_list(b, &s, &n) < 0 || n == 0) {
		qcow2_snapshot_list_free(s, 0);
		return;
	}
	printf("Snapshot list:\n%-10s%-17s%7s%20s%13s%11s\n", "ID", "TAG", "VM SIZE", "DATE",
	       "VM CLOCK", "ICOUNT");
	for (size_t i = 0; i < n; i++) {
		char date[32], vs[32];
		time_t t = s[i].date_sec;
		uint64_t ms = s[i].vm_clock_nsec / 1000000;

		strftime(date, sizeof(date), "%Y-%m-%d %H:%M:%S", localtime(&t));
		human_size(vs, sizeof(vs), s[i].vm_state_size);
		printf("%-9s %-16s %7s %19s %02" PRIu64 ":%02" PRIu64 ":%02" PRIu64 ".%03" PRIu64
		       " %10s\n",
		       s[i].id, s[i].name, vs, date, ms / 3600000, ms / 60000 % 60, ms / 1000 % 60,
		       ms % 1000, s[i].icount == UINT64_MAX ? "" : "0");
	}
	qcow2_snapshot_list_free(s, n);
}

static void info_human(struct vs_blk *b, const char *path)
{
	struct qcow2_info qi;
	char vs[32], ds[32];

	human_size(vs, sizeof(vs), vs_blk_size(b));
	human_size(ds, sizeof(ds), disk_usage(path));
	printf("image: %s\nfile format: %s\nvirtual size: %s (%" PRIu64 " bytes)\ndisk size: %s\n",
	       path, vs_blk_format(b), vs, vs_blk_size(b), ds);
	if (!qcow2_is(b))
		return;
	qcow2_get_info(b, &qi);
	printf("cluster_size: %" PRIu64 "\n", qi.cluster_size);
	if (qi.backing)
		printf("backing file: %s\n", qi.backing);
	if (qi.backing_fmt)
		printf("backing file format: %s\n", qi.backing_fmt);
	info_snapshots_human(b);
	printf("Format specific information:\n    compat: %s\n", qi.version == 2 ? "0.10" : "1.1");
	if (qi.version >= 3)
		printf("    compression type: %s\n    lazy refcounts: %s\n",
		       qi.compression_type ? "zstd" : "zlib", qi.lazy_refcounts ? "true" : "false");
	printf("    refcount bits: %u\n    corrupt: %s\n", qi.refcount_bits,
	       qi.corrupt ? "true" : "false");
	if (qi.version >= 3)
		printf("    extended l2: false\n");
}

static void json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", *s);
		else
			putchar(*s);
	}
	putchar('"');
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
		printf("        {\n            \"icount\": %" PRIu64 ",\n            \"vm-clock-nsec\": %" PRIu64
		       ",\n            \"name\": ", s[i].icount == UINT64_MAX ? 0 : s[i].icount,
		       s[i].vm_clock_nsec % 1000000000);
		json_str(s[i].name);
		printf(",\n            \"date-sec\": %u,\n            \"date-nsec\": %u,\n"
		       "            \"vm-clock-sec\": %" PRIu64 ",\n            \"id\": ",
		       s[i].date_sec, s[i].date_nsec, s[i].vm_clock_nsec / 1000000000);
		json_str(s[i].id);
		printf(",\n            \"vm-state-size\": %" PRIu64 "\n        }%s\n",
		       s[i].vm_state_size, i + 1 < n ? "," : "");
	}
	printf("    ],\n");
	qcow2_snapshot_list_free(s, n);
}

static void info_json(struct vs_blk *b, const char *path)
{
	struct qcow2_info qi = { 0 };

	printf("{\n    \"virtual-size\": %" PRIu64 ",\n    \"filename\": ", vs_blk_size(b));
	json_str(path);
	printf(",\n    \"format\": \"%s\",\n    \"actual-size\": %" PRIu64 ",\n", vs_blk_format(b),
	       disk_usage(path));
	if (qcow2_is(b)) {
		qcow2_get_info(b, &qi);
		info_json_snapshots(b);
		printf("    \"cluster-size\": %" PRIu64 ",\n", qi.cluster_size);
		if (qi.backing) {
			printf("    \"backing-filename\": ");
			json_str(qi.backing);
			printf(",\n");
		}
		if (qi.backing_fmt) {
			printf("    \"backing-filename-format\": ");
			json_str(qi.backing_fmt);
			printf(",\n");
		}
		printf("    \"format-specific\": {\n        \"type\": \"qcow2\",\n        \"data\": {\n"
		       "            \"compat\": \"%s\",\n            \"compression-type\": \"%s\",\n"
		       "            \"lazy-refcounts\": %s,\n            \"refcount-bits\": %u,\n"
		       "            \"corrupt\": %s,\n            \"extended-l2\": false\n        }\n    },\n",
		       qi.version == 2 ? "0.10" : "1.1", qi.compression_type ? "zstd" : "zlib",
		       qi.lazy_refcounts ? "true" : "false", qi.refcount_bits,
		       qi.corrupt ? "true" : "false");
	}
	printf("    \"dirty-flag\": %s\n}\n", qcow2_is(b) && qi.dirty ? "true" : "false");
}

static int img_info(int argc, char **argv)
{
	static const struct option lo[] = { { "output", required_argument, NULL, 'O' },
					    { "backing-chain", no_argument, NULL, 'B' },
					    { "force-share", no_argument, NULL, 'U' },
					    { 0 } };
	const char *fmt = NULL, *out = "human";
	bool chain = false, json;
	struct vs_blk *b;
	int c;

	while ((c = getopt_long(argc, argv, "f:U", lo, NULL)) != -1) {
		if (c == 'f')
			fmt = optarg;
		else if (c == 'O')
			out = optarg;
		else if (c == 'B')
			chain = true;
		else if (c == '?')
			return usage_err("info [-f FMT] [--output human|json] [--backing-chain] FILE");
	}
	if (optind >= argc)
		return usage_err("info: missing FILE");
	if (open_image(argv[optind], fmt, VS_BLK_RDONLY | (chain ? 0 : VS_BLK_NO_BACKING), &b) < 0)
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

/* ---- check ---- */

static void check_print(const char *path, const struct qcow2_check_result *r, bool json)
{
	uint64_t tot = r->total_clusters ? r->total_clusters : 1;

	if (json) {
		const struct { const char *k; uint64_t v; } f[] = {
			{ "image-end-offset", r->image_end_offset }, { "total-clusters", r->total_clusters },
			{ "leaks", r->leaks }, { "corruptions", r->corruptions },
			{ "leaks-fixed", r->leaks_fixed }, { "corruptions-fixed", r->corruptions_fixed },
			{ "allocated-clusters", r->allocated_clusters },
			{ "fragmented-clusters", r->fragmented_clusters },
			{ "compressed-clusters", r->compressed_clusters },
		};

		printf("{\n    \"check-errors\": %" PRIu64 ",\n    \"filename\": ", r->check_errors);
		json_str(path);
		printf(",\n    \"format\": \"qcow2\"");
		for (size_t i = 0; i < VS_ARRAY_SIZE(f); i++) /* as qemu-img: only when nonzero */
			if (f[i].v)
				printf(",\n    \"%s\": %" PRIu64, f[i].k, f[i].v);
		printf("\n}\n");
		return;
	}
	if (r->corruptions)
		printf("\n%" PRIu64 " errors were found on the image.\nData may be corrupted, or "
		       "further writes to the image may corrupt it.\n", r->corruptions);
	if (r->leaks)
		printf("\n%" PRIu64 " leaked clusters were found on the image.\nThis means waste of "
		       "disk space, but no harm to data.\n", r->leaks);
	if (!r->corruptions && !r->leaks)
		printf("No errors were found on the image.\n");
	printf("%" PRIu64 "/%" PRIu64 " = %.2f%% allocated, %.2f%% fragmented, %.2f%% compressed "
	       "clusters\nImage end offset: %" PRIu64 "\n",
	       r->allocated_clusters, r->total_clusters, 100.0 * (double)r->allocated_clusters / (double)tot,
	       100.0 * (double)r->fragmented_clusters / (double)tot,
	       100.0 * (double)r->compressed_clusters / (double)tot, r->image_end_offset);
}

static int check_run(struct vs_blk *b, enum qcow2_repair rep, bool json)
{
	struct qcow2_check_result res, first;
	struct vs_err *e = NULL;

	if (qcow2_check(b, rep, &first, &e) < 0)
		return fail(e, 1);
	res = first;
	if (rep != QCOW2_REPAIR_NONE && (first.leaks_fixed || first.corruptions_fixed)) {
		if (!json)
			printf("The following inconsistencies were found and repaired:\n\n"
			       "    %" PRIu64 " leaked clusters\n    %" PRIu64 " corruptions\n\n"
			       "Double checking the fixed image now...\n",
			       first.leaks_fixed, first.corruptions_fixed);
		if (qcow2_check(b, QCOW2_REPAIR_NONE, &res, &e) < 0)
			return fail(e, 1);
		res.leaks_fixed = first.leaks_fixed;
		res.corruptions_fixed = first.corruptions_fixed;
	}
	check_print(b->filename, &res, json);
	return res.corruptions ? 2 : res.leaks ? 3 : 0;
}

static int img_check(int argc, char **argv)
{
	static const struct option lo[] = { { "output", required_argument, NULL, 'O' },
					    { "repair", required_argument, NULL, 'r' },
					    { "force-share", no_argument, NULL, 'U' },
					    { 0 } };
	enum qcow2_repair rep = QCOW2_REPAIR_NONE;
	const char *fmt = NULL;
	bool json = false;
	struct vs_blk *b;
	int c, r;

	while ((c = getopt_long(argc, argv, "f:r:qU", lo, NULL)) != -1) {
		if (c == 'f')
			fmt = optarg;
		else if (c == 'O')
			json = strcmp(optarg, "json") == 0;
		else if (c == 'r' && (strcmp(optarg, "leaks") == 0 || strcmp(optarg, "all") == 0))
			rep = strcmp(optarg, "all") == 0 ? QCOW2_REPAIR_ALL : QCOW2_REPAIR_LEAKS;
		else if (c == 'r' || c == '?')
			return usage_err("check [-f FMT] [-r leaks|all] [--output json] FILE");
	}
	if (optind >= argc)
		return usage_err("check: missing FILE");
	if (open_image(argv[optind], fmt,
		       VS_BLK_NO_BACKING | (rep == QCOW2_REPAIR_NONE ? VS_BLK_RDONLY : VS_BLK_REPAIR),
		       &b) < 0)
		return 1;
	if (!qcow2_is(b)) {
		fprintf(stderr, "vessel img: this image format does not support checks\n");
		vs_blk_close(b);
		return 63;
	}
	r = check_run(b, rep, json);
	vs_blk_close(b);
	return r;
}

/* ---- map ---- */

static int img_map(int argc, char **argv)
{
	static const struct option lo[] = { { "output", required_argument, NULL, 'O' }, { 0 } };
	const char *fmt = NULL;
	bool json = false, first = true;
	struct vs_blk_status st;
	struct vs_blk *b;
	int c, r = 0;

	while ((c = getopt_long(argc, argv, "f:", lo, NULL)) != -1) {
		if (c == 'f')
			fmt = optarg;
		else if (c == 'O')
			json = strcmp(optarg, "json") == 0;
		else
			return usage_err("map [-f FMT] [--output human|json] FILE");
	}
	if (optind >= argc)
		return usage_err("map: missing FILE");
	if (open_image(argv[optind], fmt, VS_BLK_RDONLY, &b) < 0)
		return 1;
	printf(json ? "[" : "%-16s%-16s%-16s%s\n", "Offset", "Length", "Mapped to", "File");
	for (uint64_t off = 0; off < vs_blk_size(b) && r == 0; off += st.len) {
		r = vs_blk_block_status(b, off, vs_blk_size(b) - off, &st);
		if (r < 0)
			break;
		if (json) {
			printf("%s{ \"start\": %" PRIu64 ", \"length\": %" PRIu64 ", \"depth\": %d, "
			       "\"present\": %s, \"zero\": %s, \"data\": %s, \"compressed\": %s",
			       first ? "" : ",\n", off, st.len, st.depth,
			       (st.flags & (VS_BLK_ST_ALLOCATED | VS_BLK_ST_DATA)) || st.depth
				       ? "true" : "false",
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

/* ---- compare ---- */

static int img_compare(int argc, char **argv)
{
	const char *fa = NULL, *fb = NULL;
	struct vs_blk *a = NULL, *b = NULL;
	bool strict = false;
	int64_t diff = -1;
	int c, r = 2;

	while ((c = getopt(argc, argv, "f:F:sqpU")) != -1) {
		if (c == 'f')
			fa = optarg;
		else if (c == 'F')
			fb = optarg;
		else if (c == 's')
			strict = true;
		else if (c == '?')
			return usage_err("compare [-f FMT] [-F FMT] [-s] A B") + 1;
	}
	if (optind + 2 > argc)
		return usage_err("compare: needs two images") + 1;
	if (open_image(argv[optind], fa, VS_BLK_RDONLY, &a) < 0 ||
	    open_image(argv[optind + 1], fb ? fb : fa, VS_BLK_RDONLY, &b) < 0)
		goto out;
	if (strict && vs_blk_size(a) != vs_blk_size(b)) {
		printf("Strict mode: Image size mismatch!\n");
		r = 1;
		goto out;
	}
	r = vs_blk_compare(a, b, &diff);
	if (r < 0) {
		fprintf(stderr, "vessel img: compare: %s\n", strerror(-r));
		r = 2;
		goto out;
	}
	if (diff >= 0)
		printf("Content mismatch at offset %" PRId64 "!\n", diff);
	else
		printf("Images are identical.\n");
	r = diff >= 0;
out:
	vs_blk_close(a);
	vs_blk_close(b);
	return r;
}

/* ---- convert ---- */

static void progress_bar(void *opaque, uint64_t done, uint64_t total)
{
	(void)opaque;
	printf("    (%.2f/100%%)\r", total ? 100.0 * (double)done / (double)total : 100.0);
	fflush(stdout);
}

static int convert_run(const char *src_path, const char *sfmt, const char *dst_path,
		       const char *dfmt, struct qcow2_create_opts *o, struct vs_convert_opts *co)
{
	struct vs_blk *src = NULL, *dst = NULL;
	struct vs_err *e = NULL;
	int r;

	if (open_image(src_path, sfmt, VS_BLK_RDONLY, &src) < 0)
		return 1;
	o->size = vs_blk_size(src);
	if (strcmp(dfmt, "raw") == 0)
		r = raw_create(dst_path, o->size, false, &e);
	else if (strcmp(dfmt, "qcow2") == 0)
		r = qcow2_create(dst_path, o, &e);
	else
		r = vs_err_set(&e, -EINVAL, "unknown output format '%s'", dfmt);
	if (r == 0)
		r = vs_blk_open(dst_path, dfmt, 0, &dst, &e);
	if (r == 0)
		r = vs_blk_convert(src, dst, co, &e);
	if (r == 0 && co->progress)
		printf("    (100.00/100%%)\n");
	vs_blk_close(src);
	vs_blk_close(dst);
	return r < 0 ? fail(e, 1) : 0;
}

static int img_convert(int argc, char **argv)
{
	struct qcow2_create_opts o = { 0 };
	struct vs_convert_opts co = { .dst_is_zeroed = true };
	const char *sfmt = NULL, *dfmt = "raw";
	uint64_t n;
	int c;

	while ((c = getopt(argc, argv, "pcf:O:o:m:t:T:WqU")) != -1) {
		if (c == 'p')
			co.progress = progress_bar;
		else if (c == 'c')
			co.compress = true;
		else if (c == 'f')
			sfmt = optarg;
		else if (c == 'O')
			dfmt = optarg;
		else if (c == 'o' && parse_create_opts(&o, optarg) < 0)
			return 1;
		else if (c == 'm' && vs_parse_uint(optarg, 1, 16, &n) == 0)
			co.threads = (unsigned)n;
		else if (c == 't') /* qemu-img's default for convert is unsafe: no sync */
			co.flush = strcmp(optarg, "unsafe") != 0;
		else if (c == '?' || c == 'm')
			return usage_err("convert [-p] [-c] [-f FMT] [-O FMT] [-o OPTS] SRC DST");
	}
	if (optind + 2 != argc)
		return usage_err("convert: needs SRC and DST");
	if (co.compress && strcmp(dfmt, "qcow2") != 0)
		return usage_err("convert: -c needs -O qcow2");
	return convert_run(argv[optind], sfmt, argv[optind + 1], dfmt, &o, &co);
}

/* ---- resize ---- */

static int img_resize(int argc, char **argv)
{
	static const struct option lo[] = { { "shrink", no_argument, NULL, 's' }, { 0 } };
	const char *fmt = NULL, *arg;
	struct vs_err *e = NULL;
	bool shrink = false;
	struct vs_blk *b;
	uint64_t v, size;
	int c, r;

	while ((c = getopt_long(argc, argv, "+f:qU", lo, NULL)) != -1) {
		if (c == 'f')
			fmt = optarg;
		else if (c == 's')
			shrink = true;
		else if (c == '?')
			return usage_err("resize [-f FMT] [--shrink] FILE [+|-]SIZE");
	}
	if (optind + 2 != argc)
		return usage_err("resize: needs FILE and SIZE");
	arg = argv[optind + 1];
	if (parse_size_arg(arg + (*arg == '+' || *arg == '-'), &v) < 0)
		return usage_err("resize: invalid size");
	if (open_image(argv[optind], fmt, 0, &b) < 0)
		return 1;
	size = *arg == '+' ? vs_blk_size(b) + v : *arg == '-' ? vs_blk_size(b) - VS_MIN(v, vs_blk_size(b)) : v;
	if (size < vs_blk_size(b) && !shrink) {
		vs_blk_close(b);
		return usage_err("resize: use --shrink to shrink an image");
	}
	r = vs_blk_truncate(b, size, &e);
	if (r == 0)
		r = vs_blk_flush(b);
	vs_blk_close(b);
	if (r < 0)
		return fail(e, 1);
	printf("Image resized.\n");
	return 0;
}

/* ---- snapshot ---- */

static int img_snapshot(int argc, char **argv)
{
	const char *fmt = NULL, *name = NULL;
	struct vs_err *e = NULL;
	struct vs_blk *b;
	int c, op = 0, r;

	while ((c = getopt(argc, argv, "lc:a:d:f:qU")) != -1) {
		if (c == 'f') {
			fmt = optarg;
		} else if (c == 'l' || c == 'c' || c == 'a' || c == 'd') {
			if (op)
				return usage_err("snapshot: only one of -l, -c, -a, -d");
			op = c;
			name = optarg;
		} else {
			return usage_err("snapshot [-l | -c|-a|-d NAME] FILE");
		}
	}
	if (optind >= argc)
		return usage_err("snapshot: missing FILE");
	if (open_image(argv[optind], fmt, op == 'l' || !op ? VS_BLK_RDONLY : 0, &b) < 0)
		return 1;
	if (!qcow2_is(b)) {
		vs_blk_close(b);
		return usage_err("snapshot: the image format does not support snapshots");
	}
	if (op == 'l' || !op) {
		info_snapshots_human(b);
		r = 0;
	} else {
		r = op == 'c' ? qcow2_snapshot_create(b, name, &e)
		    : op == 'a' ? qcow2_snapshot_apply(b, name, &e)
				: qcow2_snapshot_delete(b, name, &e);
		if (r == 0)
			r = vs_blk_flush(b);
	}
	vs_blk_close(b);
	return r < 0 ? fail(e, 1) : 0;
}

/* ---- bench ---- */

static int bench_opt(struct vs_bench_opts *o, int c, const char **fmt)
{
	uint64_t v;

	switch (c) {
	case 'c': return vs_parse_uint(optarg, 1, UINT32_MAX, &o->count);
	case 'd': return vs_parse_uint(optarg, 1, 1024, &o->depth);
	case 's': return parse_size_arg(optarg, &o->size);
	case 'S': return parse_size_arg(optarg, &o->step);
	case 'o': return parse_size_arg(optarg, &o->offset);
	case 'w': o->write = true; return 0;
	case 'f': *fmt = optarg; return 0;
	case 'F': return vs_parse_uint(optarg, 1, UINT32_MAX, &o->flush_interval);
	case 'P':
		if (vs_parse_uint(optarg, 0, 255, &v) < 0)
			return -EINVAL;
		o->pattern = (int)v;
		return 0;
	case 'L': o->log_flushes = true; return 0;
	case 't': case 'i': case 'n': case 'q': case 'U': case 'N': return 0;
	default: return -EINVAL;
	}
}

static int img_bench(int argc, char **argv)
{
	static const struct option lo[] = { { "flush-interval", required_argument, NULL, 'F' },
					    { "pattern", required_argument, NULL, 'P' },
					    { "log-flushes", no_argument, NULL, 'L' },
					    { "no-drain", no_argument, NULL, 'N' },
					    { 0 } };
	struct vs_bench_opts o = { .count = 75000, .depth = 64, .size = 4096, .pattern = 0xa5 };
	const char *fmt = NULL;
	struct vs_err *e = NULL;
	struct vs_blk *b;
	double secs;
	int c, r;

	while ((c = getopt_long(argc, argv, "c:d:s:S:o:wf:t:i:nqU", lo, NULL)) != -1)
		if (bench_opt(&o, c, &fmt) < 0)
			return usage_err("bench [-c N] [-d N] [-s SIZE] [-S STEP] [-o OFF] [-w] "
					 "[--flush-interval N] [--pattern BYTE] [-f FMT] FILE");
	if (optind >= argc)
		return usage_err("bench: missing FILE");
	if (!o.step)
		o.step = o.size;
	if (open_image(argv[optind], fmt, o.write ? 0 : VS_BLK_RDONLY, &b) < 0)
		return 1;
	printf("Sending %" PRIu64 " %s requests, %" PRIu64 " bytes each, %" PRIu64
	       " in parallel (starting at offset %" PRIu64 ", step size %" PRIu64 ")\n",
	       o.count, o.write ? "write" : "read", o.size, o.depth, o.offset, o.step);
	fflush(stdout);
	r = vs_blk_bench(b, &o, &secs, &e);
	vs_blk_close(b);
	if (r < 0)
		return fail(e, 1);
	printf("Run completed in %.3f seconds.\n", secs);
	return 0;
}

/* ---- dispatch ---- */

struct img_verb {
	const char *name;
	int (*fn)(int argc, char **argv);
};

static const struct img_verb img_verbs[] = {
	{ "create", img_create }, { "info", img_info },	    { "check", img_check },
	{ "map", img_map },	  { "compare", img_compare }, { "convert", img_convert },
	{ "resize", img_resize }, { "snapshot", img_snapshot }, { "bench", img_bench },
};

int cmd_img(const struct vs_cli_global *g, int argc, char **argv)
{
	(void)g;
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		fprintf(argc < 2 ? stderr : stdout,
			"usage: vessel img VERB [OPTIONS] FILE...\nverbs: create info check map "
			"compare convert resize snapshot bench (qemu-img's flags)\n");
		return argc < 2 ? 1 : 0;
	}
	for (size_t i = 0; i < VS_ARRAY_SIZE(img_verbs); i++)
		if (strcmp(argv[1], img_verbs[i].name) == 0) {
			optind = 0;
			opterr = 1;
			return img_verbs[i].fn(argc - 1, argv + 1);
		}
	fprintf(stderr, "vessel img: unknown verb '%s'\n", argv[1]);
	return 1;
}
