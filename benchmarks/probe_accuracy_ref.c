/*
 * Independent references for benchmarks/probe_accuracy: the same loops as
 * probes/c/probe_helper.c, written apart and built apart, so that a mistake
 * in the probe's helper (or in how the runner reads it) shows up as a ratio
 * away from 1.  Times with gettimeofday(), not the helper's clock_gettime().
 *
 *   cpu N | getpid N | fork N   ->  "<elapsed_ns>"
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

static double wall_ns(void)
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	return tv.tv_sec * 1e9 + tv.tv_usec * 1e3;
}

int main(int argc, char **argv)
{
	if (argc != 3)
		return 2;
	long n = atol(argv[2]);
	volatile uint64_t out = 0;
	double t0 = wall_ns();
	if (strcmp(argv[1], "cpu") == 0) {
		/* the probe's kernel: LCG step, xorshift, modulo by a runtime value */
		uint64_t seed = (uint64_t)getpid(), x = seed, sum = 0;
		uint64_t mod = (seed | 1u) + 1000003u;
		for (long i = 0; i < n; i++) {
			x = x * 6364136223846793005ull + 1442695040888963407ull;
			x ^= x >> 29;
			sum += x % mod;
		}
		out = sum;
	} else if (strcmp(argv[1], "getpid") == 0) {
		/* libc's getpid(): a real system call in glibc >= 2.25 and on FreeBSD */
		for (long i = 0; i < n; i++)
			out += (uint64_t)getpid();
	} else if (strcmp(argv[1], "fork") == 0) {
		for (long i = 0; i < n; i++) {
			pid_t child = fork();
			if (child == 0)
				_exit(0);
			if (child < 0 || waitpid(child, NULL, 0) != child)
				return 1;
		}
	} else {
		return 2;
	}
	printf("%.0f\n", wall_ns() - t0);
	return out == 42 ? 3 : 0; /* keep `out` alive */
}
