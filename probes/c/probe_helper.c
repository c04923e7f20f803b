/*
 * probe_helper: the timed inner loops of the reportgen probes.
 *
 * Python cannot time a 50 ns system call or a fork without measuring its own
 * interpreter, so these loops live here.  Every mode times itself with
 * CLOCK_MONOTONIC and prints one line on stdout:
 *
 *   cpu N                       -> "<elapsed_ns> <checksum>"
 *   getpid N                    -> "<elapsed_ns>"
 *   fork N                      -> "<elapsed_ns>"
 *   mem read|write BLOCK THREADS MILLISECONDS
 *                               -> "<bytes> <elapsed_ns>"
 *
 * Portable C99 + POSIX (FreeBSD and Linux); build: cc -O2 -pthread.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static long parse_count(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);
	if (*end != '\0' || v <= 0) {
		fprintf(stderr, "probe_helper: bad count '%s'\n", s);
		exit(2);
	}
	return v;
}

/*
 * Integer-only work: a 64-bit LCG step, an xorshift and a modulo by a value
 * the compiler cannot know, so the loop can neither be folded nor vectorised.
 * worker.py implements the same sequence for the Python fallback.
 */
static int mode_cpu(long n, uint64_t seed)
{
	uint64_t x = seed, acc = 0, m = (seed | 1u) + 1000003u;
	uint64_t t0 = now_ns();
	for (long i = 0; i < n; i++) {
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		x ^= x >> 29;
		acc += x % m;
	}
	uint64_t t1 = now_ns();
	printf("%llu %llu\n", (unsigned long long)(t1 - t0), (unsigned long long)acc);
	return 0;
}

/* syscall() rather than getpid(): no libc may answer from a cache. */
static int mode_getpid(long n)
{
	uint64_t t0 = now_ns();
	for (long i = 0; i < n; i++)
		(void)syscall(SYS_getpid);
	uint64_t t1 = now_ns();
	printf("%llu\n", (unsigned long long)(t1 - t0));
	return 0;
}

static int mode_fork(long n)
{
	uint64_t t0 = now_ns();
	for (long i = 0; i < n; i++) {
		pid_t pid = fork();
		if (pid < 0) {
			perror("probe_helper: fork");
			return 1;
		}
		if (pid == 0)
			_exit(0);
		int status;
		while (waitpid(pid, &status, 0) < 0) {
			if (errno != EINTR) {
				perror("probe_helper: waitpid");
				return 1;
			}
		}
	}
	uint64_t t1 = now_ns();
	printf("%llu\n", (unsigned long long)(t1 - t0));
	return 0;
}

/* Memory fallback for a missing sysbench, in the shape the probe asks of
 * sysbench: each thread has a block of its own (--memory-scope=local) and
 * each event reads or writes every word of it, sequentially. */
struct mem_job {
	size_t *block;
	size_t words;
	int write;
	uint64_t events;
	size_t sink;
};

static volatile int mem_stop;

static void *mem_thread(void *arg)
{
	struct mem_job *job = arg;
	size_t sink = 0;
	while (!mem_stop) {
		if (job->write) {
			for (size_t i = 0; i < job->words; i++)
				((volatile size_t *)job->block)[i] = i;
		} else {
			for (size_t i = 0; i < job->words; i++)
				sink += ((volatile size_t *)job->block)[i];
		}
		job->events++;
	}
	job->sink = sink;
	return NULL;
}

static int mode_mem(const char *oper, long block, long threads, long millis)
{
	size_t words = (size_t)block / sizeof(size_t);
	struct mem_job *jobs = calloc((size_t)threads, sizeof(*jobs));
	pthread_t *tids = calloc((size_t)threads, sizeof(*tids));
	if (!jobs || !tids || words == 0) {
		fprintf(stderr, "probe_helper: bad memory parameters\n");
		return 2;
	}
	for (long t = 0; t < threads; t++) {
		/* cache-line aligned, so no two threads' blocks share a line */
		void *block = NULL;
		if (posix_memalign(&block, 64, words * sizeof(size_t)) != 0) {
			fprintf(stderr, "probe_helper: out of memory\n");
			return 2;
		}
		memset(block, 0, words * sizeof(size_t));
		jobs[t].block = block;
	}
	uint64_t t0 = now_ns();
	for (long t = 0; t < threads; t++) {
		jobs[t].words = words;
		jobs[t].write = strcmp(oper, "write") == 0;
		pthread_create(&tids[t], NULL, mem_thread, &jobs[t]);
	}
	struct timespec d = {millis / 1000, (millis % 1000) * 1000000L};
	while (nanosleep(&d, &d) < 0 && errno == EINTR)
		;
	mem_stop = 1;
	uint64_t events = 0;
	for (long t = 0; t < threads; t++) {
		pthread_join(tids[t], NULL);
		events += jobs[t].events;
	}
	uint64_t t1 = now_ns();
	printf("%llu %llu\n", (unsigned long long)(events * words * sizeof(size_t)),
	       (unsigned long long)(t1 - t0));
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "cpu") == 0)
		return mode_cpu(parse_count(argv[2]), (uint64_t)getpid());
	if (argc == 3 && strcmp(argv[1], "getpid") == 0)
		return mode_getpid(parse_count(argv[2]));
	if (argc == 3 && strcmp(argv[1], "fork") == 0)
		return mode_fork(parse_count(argv[2]));
	if (argc == 6 && strcmp(argv[1], "mem") == 0)
		return mode_mem(argv[2], parse_count(argv[3]), parse_count(argv[4]),
		                parse_count(argv[5]));
	fprintf(stderr, "usage: probe_helper cpu N | getpid N | fork N | "
	                "mem read|write BLOCK THREADS MILLISECONDS\n");
	return 2;
}
