/* `vessel img create` and `vessel img convert` (they share -o parsing). */
#include "block/block.h"
#include "block/qcow2.h"
#include "block/raw.h"
#include "block/tools.h"
#include "cli/cmd-img.h"
#include "common/err.h"
#include "common/util.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static int apply_create_opt(struct qcow2_create_opts *o, char *kv)
{
	char *v = strchr(kv, '=');
	uint64_t n;

	if (!v)
		return -EINVAL;
	*v++ = 0;
	if (strcmp(kv, "cluster_size") == 0)
		return img_parse_size(v, &o->cluster_size);
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
		return strcmp(v, "0.10") && strcmp(v, "v2") && strcmp(v, "1.1") && strcmp(v, "v3") ?
			       -EINVAL :
			       0;
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
			return img_usage_err("raw images have no backing file");
		r = raw_create(path, o->size, o->prealloc >= QCOW2_PREALLOC_FALLOC, &e);
	} else if (strcmp(fmt, "qcow2") == 0) {
		r = qcow2_create(path, o, &e);
	} else {
		return img_usage_err("unknown format");
	}
	if (r < 0)
		return img_fail(e, 1);
	printf("Formatting '%s', fmt=%s size=%" PRIu64 "\n", path, fmt, o->size);
	return 0;
}

int img_create(int argc, char **argv)
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
			return img_usage_err(
				"create [-f FMT] [-o OPTS] [-b BACKING -F FMT] FILE [SIZE]");
	}
	if (optind >= argc)
		return img_usage_err("create: missing FILE");
	if (optind + 1 < argc && img_parse_size(argv[optind + 1], &o.size) < 0)
		return img_usage_err("create: invalid size");
	if (optind + 1 >= argc && !o.backing)
		return img_usage_err("create: missing SIZE");
	if (o.backing && !o.backing_fmt)
		return img_usage_err("create: -b needs the backing format (-F raw|qcow2)");
	return create_image(fmt, argv[optind], &o);
}

/* ---- convert ---- */

static void progress_bar(void *opaque, uint64_t done, uint64_t total)
{
	(void)opaque;
	printf("    (%.2f/100%%)\r", total ? 100.0 * (double)done / (double)total : 100.0);
	fflush(stdout);
}

/* Refuses a destination that is the source or a file of its backing chain
 * (same inode): creating it would destroy what is to be copied. The image
 * locks refuse it too, but not with -U or where locks are not supported. */
static int check_not_source(struct vs_blk *src, const char *dst_path, struct vs_err **e)
{
	struct stat d, s;

	if (stat(dst_path, &d) < 0)
		return 0;
	for (struct vs_blk *i = src; i; i = qcow2_backing(i))
		if (stat(i->filename, &s) == 0 && s.st_dev == d.st_dev && s.st_ino == d.st_ino)
			return vs_err_set(e, -EINVAL, "%s: the destination is %s image '%s'",
					  dst_path,
					  i == src ? "the source" : "a backing file of the source",
					  i->filename);
	return 0;
}

static int convert_run(const char *src_path, const char *sfmt, unsigned share, const char *dst_path,
		       const char *dfmt, struct qcow2_create_opts *o, struct vs_convert_opts *co)
{
	struct vs_blk *src = NULL, *dst = NULL;
	struct vs_err *e = NULL;
	int r;

	if (img_open(src_path, sfmt, share | VS_BLK_RDONLY, &src) < 0)
		return 1;
	o->size = vs_blk_size(src);
	r = check_not_source(src, dst_path, &e);
	if (r == 0 && strcmp(dfmt, "raw") == 0)
		r = raw_create(dst_path, o->size, false, &e);
	else if (r == 0 && strcmp(dfmt, "qcow2") == 0)
		r = qcow2_create(dst_path, o, &e);
	else if (r == 0)
		r = vs_err_set(&e, -EINVAL, "unknown output format '%s'", dfmt);
	if (r == 0) /* a half-converted image is lost anyway: barriers only with -t */
		r = vs_blk_open(dst_path, dfmt, co->flush ? 0 : VS_BLK_UNSAFE, &dst, &e);
	if (r == 0)
		r = vs_blk_convert(src, dst, co, &e);
	if (r == 0 && co->progress)
		printf("    (100.00/100%%)\n");
	vs_blk_close(src);
	vs_blk_close(dst);
	return r < 0 ? img_fail(e, 1) : 0;
}

int img_convert(int argc, char **argv)
{
	struct qcow2_create_opts o = { 0 };
	struct vs_convert_opts co = { .dst_is_zeroed = true };
	const char *sfmt = NULL, *dfmt = "raw";
	unsigned share = 0;
	uint64_t n;
	int c;

	while ((c = getopt(argc, argv, "pcf:O:o:m:t:T:WqU")) != -1) {
		if (c == 'p')
			co.progress = progress_bar;
		else if (c == 'U')
			share = VS_BLK_SHARE;
		else if (c == 'c')
			co.compress = true;
		else if (c == 'f')
			sfmt = optarg;
		else if (c == 'O')
			dfmt = optarg;
		else if (c == 'o' && parse_create_opts(&o, optarg) < 0)
			return 1;
		else if (c == 'm' && img_parse_num(optarg, 1, 16, &n) == 0)
			co.threads = (unsigned)n;
		else if (c == 't') /* qemu-img's default for convert is unsafe: no sync */
			co.flush = strcmp(optarg, "unsafe") != 0;
		else if (c == '?' || c == 'm')
			return img_usage_err(
				"convert [-p] [-c] [-f FMT] [-O FMT] [-o OPTS] SRC DST");
	}
	if (optind + 2 != argc)
		return img_usage_err("convert: needs SRC and DST");
	if (co.compress && strcmp(dfmt, "qcow2") != 0)
		return img_usage_err("convert: -c needs -O qcow2");
	return convert_run(argv[optind], sfmt, share, argv[optind + 1], dfmt, &o, &co);
}
