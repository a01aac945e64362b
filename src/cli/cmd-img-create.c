/* `vessel img create` and `vessel img convert` (they share -o parsing). */
#include "block/block.h"
#include "block/qcow2.h"
#include "block/raw.h"
#include "block/vdi.h"
#include "block/vhdx.h"
#include "block/vmdk.h"
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

/* -o keys, and which formats take them (qemu-img's per-format lists). */
enum {
	OPT_CLUSTER = 1u << 0,
	OPT_REFCOUNT = 1u << 1,
	OPT_CTYPE = 1u << 2,
	OPT_PREALLOC = 1u << 3,
	OPT_COMPAT = 1u << 4,
	OPT_BACKING = 1u << 5,
	OPT_LAZY = 1u << 6,
	OPT_STATIC = 1u << 7,
	OPT_SUBFORMAT = 1u << 8,
	OPT_ADAPTER = 1u << 9,
	OPT_COMPAT6 = 1u << 10,
	OPT_ZERO_GRAIN = 1u << 11,
	OPT_HW = 1u << 12,
	OPT_BLOCK_SIZE = 1u << 13,
	OPT_LOG_SIZE = 1u << 14,
	OPT_BLOCK_ZERO = 1u << 15,
};

/* off, falloc, full: every format but qcow2 has no metadata to preallocate */
#define PREALLOC_DATA \
	(1u << QCOW2_PREALLOC_OFF | 1u << QCOW2_PREALLOC_FALLOC | 1u << QCOW2_PREALLOC_FULL)

static const struct img_format {
	const char *name;
	unsigned keys; /* OPT_* the format takes */
	unsigned prealloc; /* 1 << QCOW2_PREALLOC_* modes it takes */
} img_formats[] = {
	{ "raw", OPT_PREALLOC, PREALLOC_DATA },
	{ "qcow2",
	  OPT_CLUSTER | OPT_REFCOUNT | OPT_CTYPE | OPT_PREALLOC | OPT_COMPAT | OPT_BACKING |
		  OPT_LAZY,
	  ~0u },
	{ "vdi", OPT_PREALLOC | OPT_STATIC, PREALLOC_DATA },
	{ "vmdk",
	  OPT_PREALLOC | OPT_SUBFORMAT | OPT_ADAPTER | OPT_COMPAT6 | OPT_ZERO_GRAIN | OPT_HW |
		  OPT_BACKING,
	  PREALLOC_DATA },
	{ "vhdx", OPT_PREALLOC | OPT_SUBFORMAT | OPT_BLOCK_SIZE | OPT_LOG_SIZE | OPT_BLOCK_ZERO,
	  PREALLOC_DATA },
};

static const struct img_format *find_format(const char *name)
{
	for (size_t i = 0; i < VS_ARRAY_SIZE(img_formats); i++)
		if (strcmp(img_formats[i].name, name) == 0)
			return &img_formats[i];
	return NULL;
}

static int parse_bool(const char *v, bool *out)
{
	if (strcmp(v, "on") == 0 || strcmp(v, "true") == 0)
		return *out = true, 0;
	if (strcmp(v, "off") == 0 || strcmp(v, "false") == 0)
		return *out = false, 0;
	return -EINVAL;
}

/* The keys of VDI, VMDK and VHDX (apply_create_opt has qcow2's). */
static int apply_other_opt(struct img_create_opts *o, const char *kv, char *v)
{
	if (strcmp(kv, "static") == 0)
		return parse_bool(v, &o->fixed) < 0 ? -EINVAL : OPT_STATIC;
	if (strcmp(kv, "subformat") == 0)
		return o->subformat = v, OPT_SUBFORMAT; /* checked by the format */
	if (strcmp(kv, "block_size") == 0)
		return img_parse_size(v, &o->block_size) < 0 ? -EINVAL : OPT_BLOCK_SIZE;
	if (strcmp(kv, "log_size") == 0)
		return img_parse_size(v, &o->log_size) < 0 ? -EINVAL : OPT_LOG_SIZE;
	if (strcmp(kv, "block_state_zero") == 0)
		return parse_bool(v, &o->block_state_zero) < 0 ? -EINVAL : OPT_BLOCK_ZERO;
	if (strcmp(kv, "adapter_type") == 0) {
		if (strcmp(v, "ide") && strcmp(v, "lsilogic") && strcmp(v, "buslogic") &&
		    strcmp(v, "legacyESX"))
			return -EINVAL;
		return o->adapter = v, OPT_ADAPTER;
	}
	if (strcmp(kv, "compat6") == 0)
		return parse_bool(v, &o->compat6) < 0 ? -EINVAL : OPT_COMPAT6;
	if (strcmp(kv, "zeroed_grain") == 0)
		return parse_bool(v, &o->zeroed_grain) < 0 ? -EINVAL : OPT_ZERO_GRAIN;
	if (strcmp(kv, "hwversion") == 0 || strcmp(kv, "toolsversion") == 0)
		return OPT_HW; /* recorded by VMware tools only; accepted as qemu-img does */
	return -ENOTSUP;
}

/* One KEY=VALUE of -o into o; returns the OPT_* bit, or -EINVAL/-ENOTSUP. */
static int apply_create_opt(struct img_create_opts *o, char *kv)
{
	struct qcow2_create_opts *q = &o->q;
	char *v = strchr(kv, '=');
	uint64_t n;

	if (!v)
		return -EINVAL;
	*v++ = 0;
	if (strcmp(kv, "cluster_size") == 0)
		return img_parse_size(v, &q->cluster_size) < 0 ? -EINVAL : OPT_CLUSTER;
	if (strcmp(kv, "refcount_bits") == 0) {
		if (vs_parse_uint(v, 1, 64, &n) < 0)
			return -EINVAL;
		q->refcount_bits = (unsigned)n;
		return OPT_REFCOUNT;
	}
	if (strcmp(kv, "compression_type") == 0) {
		if (strcmp(v, "zlib") && strcmp(v, "zstd"))
			return -EINVAL;
		q->compression_type = strcmp(v, "zstd") == 0;
		return OPT_CTYPE;
	}
	if (strcmp(kv, "preallocation") == 0) {
		static const char *const m[] = { "off", "metadata", "falloc", "full" };

		for (unsigned i = 0; i < VS_ARRAY_SIZE(m); i++)
			if (strcmp(v, m[i]) == 0)
				return q->prealloc = (enum qcow2_prealloc)i, OPT_PREALLOC;
		return -EINVAL;
	}
	if (strcmp(kv, "compat") == 0) {
		q->version = strcmp(v, "0.10") == 0 || strcmp(v, "v2") == 0 ? 2 : 3;
		return strcmp(v, "0.10") && strcmp(v, "v2") && strcmp(v, "1.1") && strcmp(v, "v3") ?
			       -EINVAL :
			       OPT_COMPAT;
	}
	if (strcmp(kv, "backing_file") == 0)
		return q->backing = v, OPT_BACKING;
	if (strcmp(kv, "backing_fmt") == 0)
		return q->backing_fmt = v, OPT_BACKING;
	if (strcmp(kv, "lazy_refcounts") == 0 && strcmp(v, "off") == 0)
		return OPT_LAZY;
	return apply_other_opt(o, kv, v);
}

static int parse_create_opts(struct img_create_opts *o, char *list)
{
	for (char *save = NULL, *kv = strtok_r(list, ",", &save); kv;
	     kv = strtok_r(NULL, ",", &save)) {
		char *copy = kv;
		int bit = apply_create_opt(o, copy);

		if (bit < 0) {
			fprintf(stderr, "vessel img: invalid or unsupported option '%s'\n", kv);
			return -EINVAL;
		}
		o->keys |= (unsigned)bit;
		o->key_name[__builtin_ctz((unsigned)bit)] = kv; /* the '=' is now a NUL */
	}
	return 0;
}

/* Refuses options fmt does not take, in qemu-img's words. */
static int check_format_opts(const struct img_format *f, const struct img_create_opts *o,
			     const char *path)
{
	static const char *const modes[] = { "off", "metadata", "falloc", "full" };
	unsigned bad = o->keys & ~f->keys;

	if (bad) {
		fprintf(stderr, "vessel img: %s: Invalid parameter '%s'\n", path,
			o->key_name[__builtin_ctz(bad)]);
		return -EINVAL;
	}
	if (!(f->prealloc & (1u << o->q.prealloc))) {
		fprintf(stderr, "vessel img: %s: Unsupported preallocation mode: %s\n", path,
			modes[o->q.prealloc]);
		return -EINVAL;
	}
	return 0;
}

int img_create_file(const char *fmt, const char *path, struct img_create_opts *o, struct vs_err **e)
{
	struct qcow2_create_opts *q = &o->q;

	if (strcmp(fmt, "raw") == 0)
		return raw_create(path, q->size, q->prealloc == QCOW2_PREALLOC_FALLOC,
				  q->prealloc == QCOW2_PREALLOC_FULL, e);
	if (strcmp(fmt, "qcow2") == 0)
		return qcow2_create(path, q, e);
	if (strcmp(fmt, "vdi") == 0)
		return vdi_create(path,
				  &(struct vdi_create_opts){
					  .size = q->size,
					  .fixed = o->fixed,
					  .prealloc_falloc = q->prealloc == QCOW2_PREALLOC_FALLOC,
					  .prealloc_full = q->prealloc == QCOW2_PREALLOC_FULL },
				  e);
	if (strcmp(fmt, "vmdk") == 0) {
		enum vmdk_subformat sub = VMDK_MONOLITHIC_SPARSE;

		if (q->backing_fmt && strcmp(q->backing_fmt, "vmdk"))
			return vs_err_set(e, -EINVAL, "%s: backing_fmt: Must be 'vmdk' if present",
					  path);
		if (o->subformat && vmdk_parse_subformat(o->subformat, &sub) < 0)
			return vs_err_set(e, -EINVAL, "%s: unknown VMDK subformat '%s'", path,
					  o->subformat);
		return vmdk_create(path,
				   &(struct vmdk_create_opts){
					   .size = q->size,
					   .sub = sub,
					   .adapter_type = o->adapter,
					   .compat6 = o->compat6,
					   .zeroed_grain = o->zeroed_grain,
					   .prealloc_falloc = q->prealloc == QCOW2_PREALLOC_FALLOC,
					   .prealloc_full = q->prealloc == QCOW2_PREALLOC_FULL,
					   .backing = q->backing },
				   e);
	}
	if (strcmp(fmt, "vhdx") == 0) {
		if (o->subformat && strcmp(o->subformat, "dynamic") &&
		    strcmp(o->subformat, "fixed"))
			return vs_err_set(e, -EINVAL, "%s: unknown VHDX subformat '%s'", path,
					  o->subformat);
		return vhdx_create(path,
				   &(struct vhdx_create_opts){
					   .size = q->size,
					   .block_size = o->block_size,
					   .log_size = o->log_size,
					   .fixed = o->subformat && !strcmp(o->subformat, "fixed"),
					   .zero_state = !(o->keys & OPT_BLOCK_ZERO) ||
							 o->block_state_zero,
					   .prealloc_falloc = q->prealloc == QCOW2_PREALLOC_FALLOC,
					   .prealloc_full = q->prealloc == QCOW2_PREALLOC_FULL },
				   e);
	}
	return vs_err_set(e, -EINVAL, "unknown image format '%s'", fmt);
}

static int create_image(const char *fmt, const char *path, struct img_create_opts *o)
{
	const struct img_format *f = find_format(fmt);
	struct vs_err *e = NULL;

	if (!f)
		return img_usage_err("unknown format");
	if (check_format_opts(f, o, path) < 0)
		return 1;
	if (img_create_file(fmt, path, o, &e) < 0)
		return img_fail(e, 1);
	printf("Formatting '%s', fmt=%s size=%" PRIu64 "\n", path, fmt, o->q.size);
	return 0;
}

int img_create(int argc, char **argv)
{
	static const struct option lo[] = { { "help", no_argument, NULL, 'h' }, { 0 } };
	struct img_create_opts o = { 0 };
	const char *fmt = "raw";
	int c;

	while ((c = getopt_long(argc, argv, "f:o:b:F:uq", lo, NULL)) != -1) {
		if (c == 'f')
			fmt = optarg;
		else if (c == 'o' && parse_create_opts(&o, optarg) < 0)
			return 1;
		else if (c == 'b')
			o.q.backing = optarg, o.keys |= OPT_BACKING, o.key_name[5] = "backing_file";
		else if (c == 'F')
			o.q.backing_fmt = optarg;
		else if (c == '?' || c == 'h')
			return img_usage_err(
				"create [-f FMT] [-o OPTS] [-b BACKING -F FMT] FILE [SIZE]");
	}
	if (optind >= argc)
		return img_usage_err("create: missing FILE");
	if (optind + 1 < argc && img_parse_size(argv[optind + 1], &o.q.size) < 0)
		return img_usage_err("create: invalid size");
	if (optind + 1 >= argc && !o.q.backing)
		return img_usage_err("create: missing SIZE");
	if (o.q.backing && !o.q.backing_fmt)
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
		       const char *dfmt, struct img_create_opts *o, struct vs_convert_opts *co)
{
	struct vs_blk *src = NULL, *dst = NULL;
	struct vs_err *e = NULL;
	int r;

	if (img_open(src_path, sfmt, share | VS_BLK_RDONLY, &src) < 0)
		return 1;
	o->q.size = vs_blk_size(src);
	r = check_not_source(src, dst_path, &e);
	if (r == 0)
		r = img_create_file(dfmt, dst_path, o, &e);
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
	struct img_create_opts o = { 0 };
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
	if (!find_format(dfmt))
		return img_usage_err("convert: unknown output format");
	if (check_format_opts(find_format(dfmt), &o, argv[optind + 1]) < 0)
		return 1;
	return convert_run(argv[optind], sfmt, share, argv[optind + 1], dfmt, &o, &co);
}
