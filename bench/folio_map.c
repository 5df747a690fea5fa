/*
 * What a process pays the kernel for each page of a file it maps, by the
 * state of the file's pages in the page cache: as a write leaves them (in
 * folios of up to 64 KiB, written 64 KiB at a time as eg_write_file_whole
 * writes a session copy of the library) and as read back after an eviction
 * by the faults of processes that map it (pages of 4 KiB).
 *
 *   build/bench/folio_map [DIR] [ROUNDS]
 *
 * Writes a 1 MiB file in DIR (default /var/tmp: a disk file system, not a
 * tmpfs), then, in each state, times ROUNDS (default 20000) of: map 64 KiB
 * of the file, read its first page (the kernel maps the 16 pages of its
 * window of fault-around that are in the page cache), unmap; and the same
 * with a mapping of one page. The difference over 15 is the cost of one
 * more page mapped and unmapped. A guarded process maps about 20 pages of
 * the session copy where the empty library maps 4; a fork child that runs
 * the exec hook maps 16 more. Prints medians of the time-stamp counter and
 * of the clock, and, for root, the folios the pages are in
 * (/proc/kpageflags).
 */
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#define cycles_now() __rdtsc()
#else
#define cycles_now() ((uint64_t)0) /* the clock's figures only */
#endif

#define FILE_SIZE ((size_t)1 << 20)
#define WINDOW ((size_t)64 << 10)
#define PAGE ((size_t)4096)

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Median cycles and nanoseconds of rounds of map len, read, unmap, at the
 * windows of the file in turn. */
static void time_maps(int fd, size_t len, int rounds, uint64_t *cycles, uint64_t *ns)
{
	uint64_t *c = malloc(sizeof *c * (size_t)rounds), *t = malloc(sizeof *t * (size_t)rounds);
	if (c == NULL || t == NULL) {
		perror("folio_map");
		exit(1);
	}
	for (int r = 0; r < rounds; r++) {
		off_t off = (off_t)((size_t)r % (FILE_SIZE / WINDOW) * WINDOW);
		struct timespec a, b;
		clock_gettime(CLOCK_MONOTONIC, &a);
		uint64_t t0 = cycles_now();
		volatile unsigned char *m = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, off);
		if (m == MAP_FAILED) {
			perror("folio_map: mmap");
			exit(1);
		}
		(void)m[0];
		munmap((void *)m, len);
		c[r] = cycles_now() - t0;
		clock_gettime(CLOCK_MONOTONIC, &b);
		t[r] = (uint64_t)((b.tv_sec - a.tv_sec) * 1000000000L + (b.tv_nsec - a.tv_nsec));
	}
	qsort(c, (size_t)rounds, sizeof *c, cmp_u64);
	qsort(t, (size_t)rounds, sizeof *t, cmp_u64);
	*cycles = c[rounds / 2];
	*ns = t[rounds / 2];
	free(c);
	free(t);
}

/* The folios of the file's pages, as "N pages in folios of 4 KiB, M in
 * larger (the largest K pages)"; nothing without root. */
static void describe_folios(int fd)
{
	int kf = open("/proc/kpageflags", O_RDONLY), pm = open("/proc/self/pagemap", O_RDONLY);
	volatile unsigned char *m = mmap(NULL, FILE_SIZE, PROT_READ, MAP_SHARED, fd, 0);
	if (kf < 0 || pm < 0 || m == MAP_FAILED) {
		printf("   (folios: not visible here)\n");
		goto out;
	}
	size_t small = 0, large = 0, run = 0, largest = 0;
	for (size_t p = 0; p < FILE_SIZE / PAGE; p++) {
		(void)m[p * PAGE];
		uint64_t e = 0, fl = 0;
		if (pread(pm, &e, 8, (off_t)(((uintptr_t)m / PAGE + p) * 8)) != 8 || (e >> 63) == 0 ||
		    (e & ((UINT64_C(1) << 55) - 1)) == 0 ||
		    pread(kf, &fl, 8, (off_t)((e & ((UINT64_C(1) << 55) - 1)) * 8)) != 8) {
			printf("   (folios: not visible here)\n");
			goto out;
		}
		bool head = fl & (UINT64_C(1) << 15), tail = fl & (UINT64_C(1) << 16);
		run = tail ? run + 1 : 1;
		largest = run > largest ? run : largest;
		if (head || tail)
			large++;
		else
			small++;
	}
	printf("   folios: %zu pages in folios of 4 KiB, %zu in larger ones (the largest %zu pages)\n",
	    small, large, largest);
out:
	if (m != MAP_FAILED)
		munmap((void *)m, FILE_SIZE);
	if (kf >= 0)
		close(kf);
	if (pm >= 0)
		close(pm);
}

static void report(const char *state, int fd, int rounds)
{
	uint64_t c1, n1, c16, n16;
	time_maps(fd, PAGE, rounds, &c1, &n1);
	time_maps(fd, WINDOW, rounds, &c16, &n16);
	printf("%s\n", state);
	describe_folios(fd);
	printf("   map, read, unmap: 1 page %6lu cycles %6lu ns; 16 pages %6lu cycles %6lu ns\n",
	    (unsigned long)c1, (unsigned long)n1, (unsigned long)c16, (unsigned long)n16);
	printf("   one more page: %ld cycles, %ld ns\n", ((long)c16 - (long)c1) / 15,
	    ((long)n16 - (long)n1) / 15);
}

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : "/var/tmp";
	int rounds = argc > 2 ? atoi(argv[2]) : 20000;
	if (rounds < 1) {
		fprintf(stderr, "usage: folio_map [DIR] [ROUNDS]\n");
		return 64;
	}
	char path[4096];
	snprintf(path, sizeof path, "%s/eg-folio-map.XXXXXX", dir);
	int fd = mkstemp(path);
	if (fd < 0) {
		perror("folio_map: mkstemp");
		return 1;
	}
	unlink(path);
	static unsigned char bytes[FILE_SIZE];
	memset(bytes, 0x5a, sizeof bytes);
	for (size_t at = 0; at < FILE_SIZE; at += WINDOW)
		if (pwrite(fd, bytes + at, WINDOW, (off_t)at) != (ssize_t)WINDOW) {
			perror("folio_map: write");
			return 1;
		}
	fdatasync(fd);
	report("as written, 64 KiB at a time (a session copy as execguard run leaves it)", fd, rounds);

	/* evicted, then read back one fault at a time, as the processes that
	 * map a copy read it after the kernel evicted it */
	posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	for (size_t at = 0; at < FILE_SIZE; at += WINDOW) {
		volatile unsigned char *m = mmap(NULL, WINDOW, PROT_READ, MAP_PRIVATE, fd, (off_t)at);
		if (m == MAP_FAILED) {
			perror("folio_map: mmap");
			return 1;
		}
		for (size_t p = 0; p < WINDOW; p += PAGE)
			(void)m[p];
		munmap((void *)m, WINDOW);
	}
	report("read back by page faults after an eviction", fd, rounds);
	close(fd);
	return 0;
}
