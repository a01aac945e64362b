/* Unit tests for ctr/state (unprivileged): save/load round trip, the live
 * status derived from pid + start time + exec.fifo, runc's state JSON, ids. */
#include "ctr/state.h"
#include "common/err.h"

#include <errno.h>
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

static char root[64];

static int setup(void **state)
{
	(void)state;
	snprintf(root, sizeof(root), "/tmp/vs-statetest.XXXXXX");
	return mkdtemp(root) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	return system(cmd) == 0 ? 0 : -1;
}

static struct vs_ctr_state *make(const char *id, pid_t pid)
{
	struct vs_ctr_state *st = calloc(1, sizeof(*st));
	char dir[128];

	st->id = strdup(id);
	st->pid = pid;
	assert_int_equal(vs_proc_start_time(pid, &st->start_time), 0);
	st->bundle = strdup("/b");
	st->rootfs = strdup("/b/rootfs");
	st->created = vs_rfc3339_now();
	st->cgroup_path = strdup("/vessel/none-such");
	st->pid_ns = true;
	st->annotations = json_pack("{s:s}", "k", "v");
	snprintf(dir, sizeof(dir), "%s/%s", root, id);
	assert_int_equal(mkdir(dir, 0711), 0);
	return st;
}

static void test_round_trip_and_status(void **state)
{
	struct vs_ctr_state *st = make("c1", getpid()), *back = NULL;
	struct vs_err *e = NULL;
	char fifo[160];
	json_t *j;

	(void)state;
	assert_int_equal(vs_state_save(root, st, &e), 0);
	assert_int_equal(vs_state_load(root, "c1", &back, &e), 0);
	assert_string_equal(back->bundle, "/b");
	assert_int_equal(back->pid, getpid());
	assert_int_equal(back->start_time, st->start_time);
	assert_string_equal(back->cgroup_path, "/vessel/none-such");
	assert_true(back->pid_ns);
	/* fifo present: created; gone: running */
	snprintf(fifo, sizeof(fifo), "%s/c1/%s", root, VS_STATE_FIFO);
	assert_int_equal(mkfifo(fifo, 0622), 0);
	assert_int_equal(vs_state_status(root, back), VS_CTR_CREATED);
	unlink(fifo);
	assert_int_equal(vs_state_status(root, back), VS_CTR_RUNNING);
	/* a recycled pid (other start time) is not our container */
	back->start_time++;
	assert_int_equal(vs_state_status(root, back), VS_CTR_STOPPED);
	j = vs_state_to_json(back, VS_CTR_STOPPED);
	assert_int_equal(json_integer_value(json_object_get(j, "pid")), 0);
	assert_string_equal(json_string_value(json_object_get(j, "status")), "stopped");
	assert_string_equal(json_string_value(json_object_get(j, "ociVersion")), "1.0.2-dev");
	assert_string_equal(
		json_string_value(json_object_get(json_object_get(j, "annotations"), "k")), "v");
	json_decref(j);
	vs_state_free(st);
	vs_state_free(back);
}

static void test_dead_and_zombie(void **state)
{
	struct vs_ctr_state *st;
	pid_t child = fork();

	(void)state;
	if (child == 0)
		_exit(0);
	st = make("c2", child);
	usleep(50000); /* a zombie until we reap it */
	assert_int_equal(vs_state_status(root, st), VS_CTR_STOPPED);
	waitpid(child, NULL, 0);
	assert_false(vs_proc_is_alive(child, st->start_time));
	assert_int_equal(vs_state_status(root, st), VS_CTR_STOPPED);
	vs_state_free(st);
}

static void test_missing_and_corrupt(void **state)
{
	struct vs_ctr_state *st = NULL;
	struct vs_err *e = NULL;
	char p[160];
	FILE *f;

	(void)state;
	assert_int_equal(vs_state_load(root, "nope", &st, &e), -ENOENT);
	assert_string_equal(e->msg, "container \"nope\" does not exist");
	vs_err_free(e);
	e = NULL;
	assert_int_equal(vs_state_load(root, "../x", &st, &e), -EINVAL);
	vs_err_free(e);
	e = NULL;
	snprintf(p, sizeof(p), "%s/bad", root);
	mkdir(p, 0711);
	snprintf(p, sizeof(p), "%s/bad/%s", root, VS_STATE_FILE);
	f = fopen(p, "w");
	fputs("{\"id\":1}", f);
	fclose(f);
	assert_int_equal(vs_state_load(root, "bad", &st, &e), -EINVAL);
	assert_non_null(strstr(e->msg, "corrupt state file"));
	assert_null(st);
	vs_err_free(e);
}

/* delete --force's salvage (issue 10): a truncated state.json still gives
 * the pid (only with its start time, so a recycled pid is never taken),
 * the cgroup path and pid_ns; garbage falls back to the cgroup symlink. */
static void test_salvage(void **state)
{
	struct vs_ctr_state *st = make("s1", getpid()), *got;
	char p[200], link[200], *text;
	size_t len;
	FILE *f;

	(void)state;
	assert_int_equal(vs_state_save(root, st, NULL), 0);
	snprintf(p, sizeof(p), "%s/s1/%s", root, VS_STATE_FILE);
	f = fopen(p, "r");
	text = calloc(1, 4096);
	len = fread(text, 1, 4095, f);
	fclose(f);
	f = fopen(p, "w"); /* cut right after pid_ns, in the middle of the file */
	fwrite(text, 1, (size_t)(strstr(text, "\"creating\"") - text) + 5, f);
	fclose(f);
	assert_true(len > 0);
	got = vs_state_salvage(root, "s1");
	assert_int_equal(got->pid, getpid());
	assert_true(got->start_time == st->start_time);
	assert_string_equal(got->cgroup_path, "/vessel/none-such");
	assert_true(got->pid_ns);
	assert_true(got->cgroup_shared); /* never signalled as a whole */
	vs_state_free(got);
	/* a start time that does not match: the pid is not taken */
	f = fopen(p, "w");
	fprintf(f, "{\"pid\":%d,\"start_time\":1,\"cgroup_pa", (int)getpid());
	fclose(f);
	snprintf(link, sizeof(link), "%s/s1/%s", root, VS_STATE_CGROUP_LINK);
	assert_int_equal(symlink("/vessel-test/from-link", link), 0);
	got = vs_state_salvage(root, "s1");
	assert_int_equal(got->pid, 0);
	assert_string_equal(got->cgroup_path, "/vessel-test/from-link");
	vs_state_free(got);
	/* nothing readable at all */
	f = fopen(p, "w");
	fputs("\x01garbage{", f);
	fclose(f);
	got = vs_state_salvage(root, "s1");
	assert_int_equal(got->pid, 0);
	assert_string_equal(got->cgroup_path, "/vessel-test/from-link");
	vs_state_free(got);
	free(text);
	vs_state_free(st);
}

static void test_rfc3339(void **state)
{
	char *t = vs_rfc3339_now();

	(void)state;
	/* 2026-11-20T22:43:05.524697011Z */
	assert_int_equal(strlen(t), 30);
	assert_int_equal(t[10], 'T');
	assert_int_equal(t[29], 'Z');
	free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_trip_and_status, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dead_and_zombie, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_and_corrupt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_salvage, setup, teardown),
		cmocka_unit_test(test_rfc3339),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
