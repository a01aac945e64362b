/* Unit tests for src/store: open and migrate, the vms table, conditional
 * run updates, transactions, a newer schema refused, concurrent writers. */
#include "store/store.h"
#include "store/vms.h"
#include "common/err.h"
#include "common/util.h"

#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <sqlite3.h>
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

static char root[256];

static int setup(void **state)
{
	(void)state;
	snprintf(root, sizeof(root), "/tmp/vessel-test-store-%d-XXXXXX", getpid());
	if (!mkdtemp(root))
		return -1;
	/* a nested root that does not exist yet: open creates it */
	strcat(root, "/a/b");
	return 0;
}

static int teardown(void **state)
{
	char cmd[300];

	(void)state;
	root[strlen(root) - 4] = 0;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd) == 0 ? 0 : -1;
}

static struct vs_store_vm row(const char *name)
{
	return (struct vs_store_vm){ .name = (char *)name,
				     .spec = (char *)"{\"cpus\":1}",
				     .cpus = 1,
				     .mem = 64 << 20,
				     .created_at = 1 };
}

static void test_open_migrates(void **state)
{
	struct vs_store *s = NULL;
	struct vs_err *e = NULL;
	struct stat st;

	(void)state;
	assert_int_equal(vs_store_open(root, &s, &e), 0);
	assert_int_equal(vs_store_schema_version(s), vs_store_schema_latest());
	assert_true(vs_store_schema_latest() >= 1);
	assert_int_equal(stat(root, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	vs_store_close(s);
	/* reopening migrates nothing and keeps the version */
	assert_int_equal(vs_store_open(root, &s, &e), 0);
	assert_int_equal(vs_store_schema_version(s), vs_store_schema_latest());
	vs_store_close(s);
}

static void test_vms_table(void **state)
{
	struct vs_store *s = NULL;
	struct vs_err *e = NULL;
	struct vs_store_vm r = row("alpha"), *got = NULL, **all = NULL;
	size_t n = 0;

	(void)state;
	assert_int_equal(vs_store_open(root, &s, &e), 0);
	assert_int_equal(vs_store_vm_insert(s, &r, &e), 0);
	r.name = (char *)"beta";
	assert_int_equal(vs_store_vm_insert(s, &r, &e), 0);
	assert_int_equal(vs_store_vm_insert(s, &r, &e), -EEXIST);
	assert_non_null(strstr(e->msg, "already exists"));
	vs_err_free(e);
	e = NULL;
	assert_int_equal(vs_store_vm_get(s, "alpha", &got, &e), 0);
	assert_string_equal(got->state, "created");
	assert_int_equal(got->mem, 64 << 20);
	assert_null(got->exit_reason);
	vs_store_vm_free(got);
	assert_int_equal(vs_store_vm_get(s, "nosuch", &got, &e), -ENOENT);
	assert_null(e);
	assert_int_equal(vs_store_vm_list(s, &all, &n, &e), 0);
	assert_int_equal(n, 2);
	assert_string_equal(all[0]->name, "alpha");
	assert_string_equal(all[1]->name, "beta");
	vs_store_vm_list_free(all, n);
	assert_int_equal(vs_store_vm_delete(s, "beta", &e), 0);
	assert_int_equal(vs_store_vm_delete(s, "beta", &e), -ENOENT);
	assert_int_equal(vs_store_vm_delete(s, "alpha", &e), 0);
	vs_store_close(s);
}

/* A write from an old run (a late VMM, a stale liveness check) changes nothing. */
static void test_run_updates_are_conditional(void **state)
{
	struct vs_store *s = NULL;
	struct vs_err *e = NULL;
	struct vs_store_vm r = row("gamma"), *got = NULL;

	(void)state;
	assert_int_equal(vs_store_open(root, &s, &e), 0);
	assert_int_equal(vs_store_vm_insert(s, &r, &e), 0);
	r.pid = 42;
	assert_int_equal(vs_store_vm_begin_run(s, &r, &e), 0);
	assert_int_equal(r.run_id, 1);
	assert_string_equal(r.state, "starting");
	snprintf(r.state, sizeof(r.state), "running");
	assert_int_equal(vs_store_vm_update_run(s, &r, &e), 1);
	assert_int_equal(vs_store_vm_begin_run(s, &r, &e), 0);
	assert_int_equal(r.run_id, 2);
	r.run_id = 1;
	snprintf(r.state, sizeof(r.state), "stopped");
	r.exit_reason = (char *)"old";
	assert_int_equal(vs_store_vm_update_run(s, &r, &e), 0);
	assert_int_equal(vs_store_vm_get(s, "gamma", &got, &e), 0);
	assert_string_equal(got->state, "starting");
	assert_null(got->exit_reason);
	assert_int_equal(got->pid, 42);
	vs_store_vm_free(got);
	r.name = (char *)"nosuch";
	assert_int_equal(vs_store_vm_begin_run(s, &r, &e), -ENOENT);
	vs_store_close(s);
}

static void test_rollback_leaves_nothing(void **state)
{
	struct vs_store *s = NULL;
	struct vs_err *e = NULL;
	struct vs_store_vm r = row("delta"), *got = NULL;

	(void)state;
	assert_int_equal(vs_store_open(root, &s, &e), 0);
	assert_int_equal(vs_store_begin(s, &e), 0);
	assert_int_equal(vs_store_vm_insert(s, &r, &e), 0);
	vs_store_rollback(s);
	assert_int_equal(vs_store_vm_get(s, "delta", &got, &e), -ENOENT);
	vs_store_close(s);
}

/* A process killed inside a transaction leaves no trace of it. */
static void test_killed_writer_leaves_nothing(void **state)
{
	struct vs_store *s = NULL;
	struct vs_err *e = NULL;
	struct vs_store_vm *got = NULL;
	int status;
	pid_t pid;

	(void)state;
	pid = fork();
	if (pid == 0) {
		struct vs_store_vm r = row("epsilon");

		if (vs_store_open(root, &s, &e) < 0 || vs_store_begin(s, &e) < 0 ||
		    vs_store_vm_insert(s, &r, &e) < 0)
			_exit(1);
		kill(getpid(), SIGKILL);
		_exit(2);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(vs_store_open(root, &s, &e), 0);
	assert_int_equal(vs_store_vm_get(s, "epsilon", &got, &e), -ENOENT);
	vs_store_close(s);
}

static void test_newer_schema_refused(void **state)
{
	struct vs_store *s = NULL;
	struct vs_err *e = NULL;
	char path[300];
	sqlite3 *db;

	(void)state;
	snprintf(path, sizeof(path), "%s/%s", root, VS_STORE_DB_NAME);
	assert_int_equal(vs_store_open(root, &s, &e), 0);
	vs_store_close(s);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 999", NULL, NULL, NULL),
			 SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(vs_store_open(root, &s, &e), -EPROTO);
	assert_non_null(strstr(e->msg, "newer"));
	vs_err_free(e);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	sqlite3_exec(db, "PRAGMA user_version = 1", NULL, NULL, NULL);
	sqlite3_close(db);
}

/* Writers in several processes at once, on a database none has opened yet. */
static void test_concurrent_writers(void **state)
{
	enum { WRITERS = 8, ROWS = 10 };
	struct vs_store *s = NULL;
	struct vs_err *e = NULL;
	struct vs_store_vm **all = NULL;
	size_t n = 0;
	char fresh[300];

	(void)state;
	snprintf(fresh, sizeof(fresh), "%s/fresh", root);
	for (int w = 0; w < WRITERS; w++) {
		if (fork() != 0)
			continue;
		for (int i = 0; i < ROWS; i++) {
			char name[32];
			struct vs_store_vm r = row(name);

			snprintf(name, sizeof(name), "w%d-%d", w, i);
			if (vs_store_open(fresh, &s, &e) < 0 || vs_store_vm_insert(s, &r, &e) < 0)
				_exit(1);
			vs_store_close(s);
		}
		_exit(0);
	}
	for (int w = 0; w < WRITERS; w++) {
		int status;

		wait(&status);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	assert_int_equal(vs_store_open(fresh, &s, &e), 0);
	assert_int_equal(vs_store_vm_list(s, &all, &n, &e), 0);
	assert_int_equal(n, WRITERS * ROWS);
	vs_store_vm_list_free(all, n);
	vs_store_close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_migrates),
		cmocka_unit_test(test_vms_table),
		cmocka_unit_test(test_run_updates_are_conditional),
		cmocka_unit_test(test_rollback_leaves_nothing),
		cmocka_unit_test(test_killed_writer_leaves_nothing),
		cmocka_unit_test(test_newer_schema_refused),
		cmocka_unit_test(test_concurrent_writers),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
