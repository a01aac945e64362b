/* Helpers shared by the `vessel image` verbs (cmd-image.c, cmd-image-show.c). */
#ifndef VS_CLI_CMD_IMAGE_H
#define VS_CLI_CMD_IMAGE_H

struct vs_err;
struct vs_image_store;

/* Prints "vessel image: <msg>", frees e; returns 1. */
int image_fail(struct vs_err *e);
/* Prints a usage error; returns 2. */
int image_usage(const char *verb, const char *msg);
/* 2 (and the message) if argv[1..] holds an option, else 0. */
int image_no_options(const char *verb, int argc, char **argv);
/* Opens the store; returns 0 or 1 (printed). */
int image_open(struct vs_image_store **s);

int image_cmd_ls(int argc, char **argv);
int image_cmd_inspect(int argc, char **argv);
int image_cmd_mount(int argc, char **argv);

#endif
