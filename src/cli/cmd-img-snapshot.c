/* `vessel img snapshot` (-l/-c/-a/-d) and `vessel img resize`. */
#include "block/block.h"
#include "block/qcow2.h"
#include "cli/cmd-img.h"
#include "common/util.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

int img_resize(int argc, char **argv)
{
	static const struct option lo[] = { { "shrink", no_argument, NULL, 's' }, { 0 } };
	const char *fmt = NULL, *arg, *msg;
	struct vs_err *e = NULL;
	bool shrink = false;
	unsigned share = 0;
	struct vs_blk *b;
	uint64_t v, size;
	int c, r;

	while ((c = getopt_long(argc, argv, "+f:qU", lo, NULL)) != -1) {
		if (c == 'f')
			fmt = optarg;
		else if (c == 's')
			shrink = true;
		else if (c == 'U')
			share = VS_BLK_SHARE; /* refused: resize writes */
		else if (c == '?')
			return img_usage_err("resize [-f FMT] [--shrink] FILE [+|-]SIZE");
	}
	if (optind + 3 == argc && strcmp(argv[optind + 1], "--") == 0) /* FILE -- -SIZE */
		argv[optind + 1] = argv[optind + 2], argc--;
	if (optind + 2 != argc)
		return img_usage_err("resize: needs FILE and SIZE");
	arg = argv[optind + 1];
	if (img_parse_size(arg + (*arg == '+' || *arg == '-'), &v) < 0)
		return img_usage_err("resize: invalid size");
	if (img_open(argv[optind], fmt, share, &b) < 0)
		return 1;
	size = *arg == '+' ? vs_blk_size(b) + v :
	       *arg == '-' ? vs_blk_size(b) - VS_MIN(v, vs_blk_size(b)) :
			     v;
	/* qemu-img's checks, in its order and words */
	msg = (size == 0 || (*arg == '+' && size < v)) ? "New image size must be positive" :
	      size % 512			       ? "The new size must be a multiple of 512" :
	      size < vs_blk_size(b) && !shrink ?
			   "Use the --shrink option to perform a shrink operation." :
			   NULL;
	if (msg) {
		vs_blk_close(b);
		fprintf(stderr, "vessel img: %s\n", msg);
		return 1;
	}
	r = vs_blk_truncate(b, size, &e);
	if (r == 0)
		r = vs_blk_flush(b);
	vs_blk_close(b);
	if (r < 0)
		return img_fail(e, 1);
	printf("Image resized.\n");
	return 0;
}

/* ---- snapshot ---- */

int img_snapshot(int argc, char **argv)
{
	const char *fmt = NULL, *name = NULL;
	struct vs_err *e = NULL;
	unsigned share = 0;
	struct vs_blk *b;
	int c, op = 0, r;

	while ((c = getopt(argc, argv, "lc:a:d:f:qU")) != -1) {
		if (c == 'f') {
			fmt = optarg;
		} else if (c == 'U') {
			share = VS_BLK_SHARE;
		} else if (c == 'l' || c == 'c' || c == 'a' || c == 'd') {
			if (op)
				return img_usage_err("snapshot: only one of -l, -c, -a, -d");
			op = c;
			name = optarg;
		} else {
			return img_usage_err("snapshot [-l | -c|-a|-d NAME] FILE");
		}
	}
	if (optind >= argc)
		return img_usage_err("snapshot: missing FILE");
	if (img_open(argv[optind], fmt, share | (op == 'l' || !op ? VS_BLK_RDONLY : 0), &b) < 0)
		return 1;
	if (!qcow2_is(b)) {
		vs_blk_close(b);
		return img_usage_err("snapshot: the image format does not support snapshots");
	}
	if (op == 'l' || !op) {
		img_print_snapshots(b);
		r = 0;
	} else {
		r = op == 'c' ? qcow2_snapshot_create(b, name, &e) :
		    op == 'a' ? qcow2_snapshot_apply(b, name, &e) :
				qcow2_snapshot_delete(b, name, &e);
		if (r == 0)
			r = vs_blk_flush(b);
	}
	vs_blk_close(b);
	return r < 0 ? img_fail(e, 1) : 0;
}
