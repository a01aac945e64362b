/* `vessel img`: disk image verbs with qemu-img's names, flags and exit codes.
 * This file holds the verb table and the helpers the verbs share; each verb
 * lives in cmd-img-<group>.c (create+convert, info+map, check+compare,
 * snapshot+resize, bench). Parsing and printing only; the work is in
 * src/block. */
#include "block/block.h"
#include "cli/cmd-img.h"
#include "cli/cmds.h"
#include "common/err.h"
#include "common/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Prints e (or "failed") and frees it; returns code. */
int img_fail(struct vs_err *e, int code)
{
	fprintf(stderr, "vessel img: %s\n", e ? e->msg : "failed");
	vs_err_free(e);
	return code;
}

int img_usage_err(const char *msg)
{
	fprintf(stderr, "vessel img: %s (see vessel img --help)\n", msg);
	return 1;
}

/* "1.5 GiB"-style sizes, as qemu-img prints them (QEMU's size_to_str: the
 * next unit from 1000 of the current one on, so "%0.3g" never prints an
 * exponent: 1000 bytes are "0.977 KiB"). */
void img_human_size(char *buf, size_t len, uint64_t v)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
	unsigned i = 0;
	double d = (double)v;

	while (d >= 1000 && i + 1 < VS_ARRAY_SIZE(units)) {
		d /= 1024;
		i++;
	}
	snprintf(buf, len, "%0.3g %s", d, units[i]);
}

/* Opens path (probing the format when fmt is NULL); prints the error.
 * Returns 0 and *b, or -errno. */
int img_open(const char *path, const char *fmt, unsigned flags, struct vs_blk **b)
{
	struct vs_err *e = NULL;
	int r = vs_blk_open(path, fmt, flags | (fmt ? 0 : VS_BLK_PROBE), b, &e);

	if (r < 0)
		img_fail(e, 1);
	return r;
}

/* Bytes the file occupies on disk (0 if it cannot be stat'ed). */
uint64_t img_disk_usage(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (uint64_t)st.st_blocks * 512 : 0;
}

int img_parse_num(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	if (!*s || *s == '-')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *end || v < min || v > max)
		return errno == ERANGE || (!*end && !errno) ? -ERANGE : -EINVAL;
	*out = v;
	return 0;
}

int img_parse_size(const char *s, uint64_t *out)
{
	/* qemu-img: a plain number is bytes; k/M/G/T suffixes are binary */
	return vs_parse_size(s, 1, out);
}

/* Prints s as a JSON string literal. */
void img_json_str(const char *s)
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

/* ---- dispatch ---- */

struct img_verb {
	const char *name;
	int (*fn)(int argc, char **argv);
};

static const struct img_verb img_verbs[] = {
	{ "create", img_create }, { "info", img_info },		{ "check", img_check },
	{ "map", img_map },	  { "compare", img_compare },	{ "convert", img_convert },
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
