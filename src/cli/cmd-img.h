/* Shared by the files of `vessel img` (src/cli/cmd-img*.c): the verbs, which
 * cmd-img.c dispatches to, and the printing/opening helpers they share. Each
 * verb parses its own argv (argv[0] is the verb) and returns the exit status. */
#ifndef VS_CLI_CMD_IMG_H
#define VS_CLI_CMD_IMG_H

#include "block/qcow2.h"
#include "block/vmdk.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vs_blk;
struct vs_err;

int img_create(int argc, char **argv);
int img_convert(int argc, char **argv);
int img_info(int argc, char **argv);
int img_map(int argc, char **argv);
int img_check(int argc, char **argv);
int img_compare(int argc, char **argv);
int img_snapshot(int argc, char **argv);
int img_resize(int argc, char **argv);
int img_bench(int argc, char **argv);

/* `create -o` / `convert -o`: the options of every format. */
struct img_create_opts {
	struct qcow2_create_opts q; /* size, preallocation, backing, qcow2's own */
	bool fixed; /* vdi static=on */
	const char *subformat; /* vmdk: its five; vhdx: dynamic, fixed */
	uint64_t block_size, log_size; /* vhdx */
	bool block_state_zero; /* vhdx, default on as qemu-img */
	const char *adapter; /* vmdk adapter_type= */
	bool compat6, zeroed_grain; /* vmdk */
	unsigned keys; /* which -o keys were given (cmd-img-create.c OPT_*) */
	const char *key_name[16]; /* as given, for the error naming one */
};

/* Creates path as fmt with o (already checked against the format). Returns
 * 0 or -errno with *e; nothing is left at path on failure. */
int img_create_file(const char *fmt, const char *path, struct img_create_opts *o,
		    struct vs_err **e);

/* Prints e (or "failed") and frees it; returns code. */
int img_fail(struct vs_err *e, int code);
/* Prints a usage error; returns 1. */
int img_usage_err(const char *msg);
void img_human_size(char *buf, size_t len, uint64_t v);
int img_open(const char *path, const char *fmt, unsigned flags, struct vs_blk **b);
uint64_t img_disk_usage(const char *path);
/* qemu-img's sizes: a plain number is bytes; k/M/G/T suffixes are binary. */
int img_parse_size(const char *s, uint64_t *out);
/* qemu-img's integers (strtoul base 0: decimal, 0x hex, 0 octal) in
 * [min, max]. Returns 0, -EINVAL or -ERANGE. */
int img_parse_num(const char *s, uint64_t min, uint64_t max, uint64_t *out);
void img_json_str(const char *s);
/* The human "Snapshot list:" table (nothing if there are no snapshots). */
void img_print_snapshots(struct vs_blk *b);

#endif
