/* `vessel img check` (qemu-img's output and exit codes) and `vessel img compare`. */
#include "block/block.h"
#include "block/qcow2.h"
#include "block/tools.h"
#include "cli/cmd-img.h"
#include "common/util.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static void check_print(struct vs_blk *b, const struct vs_blk_check_result *r, bool json)
{
	uint64_t tot = r->total_clusters ? r->total_clusters : 1;

	if (json) {
		/* qemu-img's order: its QDict's hash buckets (qobject/qdict.c).
		 * Numbers are printed only when nonzero, except check-errors;
		 * NULL keys stand for the two strings. */
		const struct {
			const char *k;
			uint64_t v;
		} f[] = {
			{ "image-end-offset", r->image_end_offset },
			{ "compressed-clusters", r->compressed_clusters },
			{ "total-clusters", r->total_clusters },
			{ "corruptions", r->corruptions },
			{ "corruptions-fixed", r->corruptions_fixed },
			{ "check-errors", r->check_errors },
			{ "leaks", r->leaks },
			{ "leaks-fixed", r->leaks_fixed },
			{ "allocated-clusters", r->allocated_clusters },
			{ NULL, 0 },
			{ "fragmented-clusters", r->fragmented_clusters },
		};
		const char *sep = "{\n";

		for (size_t i = 0; i < VS_ARRAY_SIZE(f); i++) {
			if (!f[i].k) {
				printf("%s    \"filename\": ", sep);
				img_json_str(b->filename);
				printf(",\n    \"format\": \"%s\"", vs_blk_format(b));
			} else if (f[i].v || strcmp(f[i].k, "check-errors") == 0) {
				printf("%s    \"%s\": %" PRIu64, sep, f[i].k, f[i].v);
			} else {
				continue;
			}
			sep = ",\n";
		}
		printf("\n}\n");
		return;
	}
	if (r->corruptions)
		printf("\n%" PRIu64 " errors were found on the image.\nData may be corrupted, or "
		       "further writes to the image may corrupt it.\n",
		       r->corruptions);
	if (r->leaks)
		printf("\n%" PRIu64
		       " leaked clusters were found on the image.\nThis means waste of "
		       "disk space, but no harm to data.\n",
		       r->leaks);
	if (!r->corruptions && !r->leaks)
		printf("No errors were found on the image.\n");
	if (r->total_clusters && r->allocated_clusters) /* qemu-img's rules */
		printf("%" PRIu64 "/%" PRIu64 " = %.2f%% allocated, %.2f%% fragmented, %.2f%% "
		       "compressed clusters\n",
		       r->allocated_clusters, r->total_clusters,
		       100.0 * (double)r->allocated_clusters / (double)tot,
		       100.0 * (double)r->fragmented_clusters / (double)tot,
		       100.0 * (double)r->compressed_clusters / (double)tot);
	if (r->image_end_offset)
		printf("Image end offset: %" PRIu64 "\n", r->image_end_offset);
}

static int check_run(struct vs_blk *b, enum vs_blk_repair rep, bool json)
{
	struct vs_blk_check_result res, first;
	struct vs_err *e = NULL;

	int ret = vs_blk_check(b, rep, &first, &e);

	if (ret == -ENOTSUP) {
		fprintf(stderr, "vessel img: This image format does not support checks\n");
		return 63;
	}
	if (ret < 0)
		return img_fail(e, 1);
	res = first;
	if (rep != VS_BLK_REPAIR_NONE && (first.leaks_fixed || first.corruptions_fixed)) {
		if (!json)
			printf("The following inconsistencies were found and repaired:\n\n"
			       "    %" PRIu64 " leaked clusters\n    %" PRIu64 " corruptions\n\n"
			       "Double checking the fixed image now...\n",
			       first.leaks_fixed, first.corruptions_fixed);
		if (vs_blk_check(b, VS_BLK_REPAIR_NONE, &res, &e) < 0)
			return img_fail(e, 1);
		res.leaks_fixed = first.leaks_fixed;
		res.corruptions_fixed = first.corruptions_fixed;
	}
	check_print(b, &res, json);
	return res.corruptions ? 2 : res.leaks ? 3 : 0;
}

int img_check(int argc, char **argv)
{
	static const struct option lo[] = { { "output", required_argument, NULL, 'O' },
					    { "repair", required_argument, NULL, 'r' },
					    { "force-share", no_argument, NULL, 'U' },
					    { 0 } };
	enum vs_blk_repair rep = VS_BLK_REPAIR_NONE;
	unsigned share = 0;
	const char *fmt = NULL;
	bool json = false;
	struct vs_blk *b;
	int c, r;

	while ((c = getopt_long(argc, argv, "f:r:qU", lo, NULL)) != -1) {
		if (c == 'f')
			fmt = optarg;
		else if (c == 'U')
			share = VS_BLK_SHARE;
		else if (c == 'O')
			json = strcmp(optarg, "json") == 0;
		else if (c == 'r' && (strcmp(optarg, "leaks") == 0 || strcmp(optarg, "all") == 0))
			rep = strcmp(optarg, "all") == 0 ? VS_BLK_REPAIR_ALL : VS_BLK_REPAIR_LEAKS;
		else if (c == 'r' || c == '?')
			return img_usage_err("check [-f FMT] [-r leaks|all] [--output json] FILE");
	}
	if (optind >= argc)
		return img_usage_err("check: missing FILE");
	if (img_open(argv[optind], fmt,
		     share | VS_BLK_NO_BACKING |
			     (rep == VS_BLK_REPAIR_NONE ? VS_BLK_RDONLY : VS_BLK_REPAIR),
		     &b) < 0)
		return 1;
	r = check_run(b, rep, json);
	vs_blk_close(b);
	return r;
}

/* ---- compare ---- */

int img_compare(int argc, char **argv)
{
	const char *fa = NULL, *fb = NULL;
	struct vs_blk *a = NULL, *b = NULL;
	bool strict = false;
	unsigned share = 0;
	int64_t diff = -1;
	int c, r = 2;

	while ((c = getopt(argc, argv, "f:F:sqpU")) != -1) {
		if (c == 'f')
			fa = optarg;
		else if (c == 'F')
			fb = optarg;
		else if (c == 's')
			strict = true;
		else if (c == 'U')
			share = VS_BLK_SHARE;
		else if (c == '?')
			return img_usage_err("compare [-f FMT] [-F FMT] [-s] A B") + 1;
	}
	if (optind + 2 > argc)
		return img_usage_err("compare: needs two images") + 1;
	if (img_open(argv[optind], fa, share | VS_BLK_RDONLY, &a) < 0 ||
	    img_open(argv[optind + 1], fb ? fb : fa, share | VS_BLK_RDONLY, &b) < 0)
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
