/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the per-arch exit benchmarks share: the clock, the result line and
 * main().  Included once by bench/<arch>/exit_bench.c, after the selftest
 * headers.
 */
#ifndef BENCH_MAIN_H
#define BENCH_MAIN_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Guest time under icount/Bochs: instructions, scaled by the cell. */
static u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* One machine-readable line per kind: "bench KIND N TOTAL_NS NS_PER_RT". */
static void bench_report(const char *name, u64 n, u64 t0, u64 t1)
{
	printf("bench %s %lu %lu %.1f\n", name, n, t1 - t0, (double)(t1 - t0) / n);
	fflush(stdout);
}

/* bench [-n N] [-w WARM] [KIND...]: run fn(kind, n, warm) for each KIND (default: all). */
static int bench_main(int argc, char *argv[], const char *const *names, int nr,
		      void (*fn)(int kind, u64 n, u64 warm))
{
	u64 n = 10000, warm = 100;
	int opt, k, i;

	while ((opt = getopt(argc, argv, "n:w:")) != -1) {
		switch (opt) {
		case 'n':
			n = strtoull(optarg, NULL, 0);
			break;
		case 'w':
			warm = strtoull(optarg, NULL, 0);
			break;
		default:
			TEST_FAIL("usage: %s [-n N] [-w WARM] [KIND...]", argv[0]);
		}
	}
	TEST_ASSERT(n > 0 && warm > 0, "N and WARM must be > 0");

	if (optind == argc) {
		for (k = 0; k < nr; k++)
			fn(k, n, warm);
		return 0;
	}
	for (i = optind; i < argc; i++) {
		for (k = 0; k < nr; k++)
			if (!strcmp(argv[i], names[k]))
				break;
		TEST_ASSERT(k < nr, "unknown kind '%s'", argv[i]);
		fn(k, n, warm);
	}
	return 0;
}

#endif
