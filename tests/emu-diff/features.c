/* Which optional instructions the host CPU has (CPUID, as /proc/cpuinfo
 * shows them): corpus cases that need one are skipped without it. */
#include "diff.h"

#include <cpuid.h>

uint64_t diff_host_features(void)
{
	unsigned a, b, c, d;
	uint64_t f = 0;

	if (__get_cpuid(1, &a, &b, &c, &d)) {
		f |= (c & bit_POPCNT) ? DIFF_REQ_POPCNT : 0;
		f |= (c & bit_MOVBE) ? DIFF_REQ_MOVBE : 0;
		f |= (c & bit_CMPXCHG16B) ? DIFF_REQ_CX16 : 0;
		f |= (c & bit_SSE3) ? DIFF_REQ_SSE3 : 0;
		f |= (c & bit_SSSE3) ? DIFF_REQ_SSSE3 : 0;
		f |= (c & bit_SSE4_1) ? DIFF_REQ_SSE41 : 0;
		f |= (c & bit_SSE4_2) ? DIFF_REQ_SSE42 : 0;
		f |= (d & bit_MMX) ? DIFF_REQ_MMX : 0;
	}
	if (__get_cpuid(0x80000001, &a, &b, &c, &d))
		f |= (c & bit_ABM) ? DIFF_REQ_LZCNT : 0;
	if (__get_cpuid_count(7, 0, &a, &b, &c, &d))
		f |= (b & bit_BMI) ? DIFF_REQ_BMI1 : 0;
	return f;
}
