/* `vessel img bench`: qemu-img bench's flags, plus --pattern and --log-flushes. */
#include "block/block.h"
#include "block/tools.h"
#include "cli/cmd-img.h"
#include "common/util.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* Numbers as qemu-img bench parses them: integers in any base (strtoul's
 * base 0: 0x.., 0..), sizes with suffixes (cvtnum). */
static int bench_opt(struct vs_bench_opts *o, int c, const char **fmt, unsigned *flags)
{
	uint64_t v;

	switch (c) {
	case 'c':
		return img_parse_num(optarg, 1, UINT32_MAX, &o->count);
	case 'd':
		return img_parse_num(optarg, 1, 1024, &o->depth);
	case 's':
		return img_parse_size(optarg, &o->size);
	case 'S':
		return img_parse_size(optarg, &o->step);
	case 'o':
		return img_parse_size(optarg, &o->offset);
	case 'w':
		o->write = true;
		return 0;
	case 'f':
		*fmt = optarg;
		return 0;
	case 'F':
		return img_parse_num(optarg, 1, UINT32_MAX, &o->flush_interval);
	case 'P':
		if (img_parse_num(optarg, 0, 255, &v) < 0)
			return -EINVAL;
		o->pattern = (int)v;
		return 0;
	case 'L':
		o->log_flushes = true;
		return 0;
	case 't': /* cache=unsafe: no write barriers; other modes keep them */
		o->unsafe = strcmp(optarg, "unsafe") == 0;
		return 0;
	case 'U':
		*flags |= VS_BLK_SHARE;
		return 0;
	case 'i':
	case 'n':
	case 'q':
	case 'N':
		return 0;
	default:
		return -EINVAL;
	}
}

int img_bench(int argc, char **argv)
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
	unsigned flags = 0;
	double secs;
	int c, r;

	while ((c = getopt_long(argc, argv, "c:d:s:S:o:wf:t:i:nqU", lo, NULL)) != -1)
		if (bench_opt(&o, c, &fmt, &flags) < 0)
			return img_usage_err(
				"bench [-c N] [-d N] [-s SIZE] [-S STEP] [-o OFF] [-w] "
				"[--flush-interval N] [--pattern BYTE] [-f FMT] FILE");
	if (optind >= argc)
		return img_usage_err("bench: missing FILE");
	if (!o.step)
		o.step = o.size;
	if (img_open(argv[optind], fmt,
		     flags | (o.write ? 0 : VS_BLK_RDONLY) | (o.unsafe ? VS_BLK_UNSAFE : 0),
		     &b) < 0)
		return 1;
	printf("Sending %" PRIu64 " %s requests, %" PRIu64 " bytes each, %" PRIu64
	       " in parallel (starting at offset %" PRIu64 ", step size %" PRIu64 ")\n",
	       o.count, o.write ? "write" : "read", o.size, o.depth, o.offset, o.step);
	fflush(stdout);
	r = vs_blk_bench(b, &o, &secs, &e);
	vs_blk_close(b);
	if (r < 0)
		return img_fail(e, 1);
	printf("Run completed in %.3f seconds.\n", secs);
	return 0;
}
