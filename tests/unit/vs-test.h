/* The one skip rule of the unit suites (docs/testing.md "Skipping").
 *
 * cmocka 1.1.5 prints a skip() as "not ok N - name # SKIP", which Meson
 * counts as a failure, so no test calls skip(). Instead main() decides
 * before running what cannot run here and hands it to vs_test_run():
 * - a case that cannot run is left out of the group, and a diagnostic line
 *   "# SKIP: <case>: <reason>" says so;
 * - when no case can run, the binary prints the TAP plan
 *   "1..0 # SKIP: <reason>" and exits 0 (Meson counts it as skipped). */
#ifndef VS_TESTS_UNIT_VS_TEST_H
#define VS_TESTS_UNIT_VS_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

/* The whole binary cannot run: prints the skipped plan; main returns this. */
static inline int vs_test_skip_all(const char *reason)
{
	printf("1..0 # SKIP: %s\n", reason);
	fflush(stdout);
	return 0;
}

/* Runs tests[0..n), leaving out each case i with skip[i] non-NULL (its
 * reason); skip may be NULL. Returns cmocka's result, or 0 when all were
 * left out (then the plan says SKIP with the first reason). */
static inline int vs_test_run(const char *group, const struct CMUnitTest *tests, size_t n,
			      const char *const *skip, CMFixtureFunction setup,
			      CMFixtureFunction teardown)
{
	struct CMUnitTest *run = calloc(n ? n : 1, sizeof(*run));
	const char *first = NULL;
	size_t m = 0;
	int r;

	for (size_t i = 0; i < n; i++) {
		if (skip && skip[i]) {
			printf("# SKIP: %s: %s\n", tests[i].name, skip[i]);
			first = first ? first : skip[i];
		} else {
			run[m++] = tests[i];
		}
	}
	if (m == 0) {
		free(run);
		return vs_test_skip_all(first ? first : "no test cases");
	}
	fflush(stdout);
	r = _cmocka_run_group_tests(group, run, m, setup, teardown);
	free(run);
	return r;
}

#endif
