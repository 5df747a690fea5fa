/* The session's approval memory. See approval_memory.h (and its residual
 * risk note). */
#include "approval_memory.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "guard.h"

#define SLOTS 128

struct slot {
	uint64_t key;   /* 0 = empty (or being written) */
	uint64_t since; /* CLOCK_BOOTTIME ns when stored: system-wide, survives suspend */
	uint64_t until; /* CLOCK_BOOTTIME ns */
	uint32_t kind;
	uint32_t unused;
};

struct page {
	struct slot slot[SLOTS];
};

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void mix(uint64_t *h, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		*h ^= *p;
		*h *= 1099511628211ull;
	}
	*h ^= 0x100; /* word separator: "a b" and "ab" differ */
	*h *= 1099511628211ull;
}

uint64_t eg_memory_key(char *const *argv, const char *cwd)
{
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; argv && argv[i]; i++)
		mix(&h, argv[i]);
	if (cwd) {
		h ^= 0x200; /* with a cwd: never the key of the same argv without */
		mix(&h, cwd);
	}
	return h ? h : 1;
}

/* Only a session name of plain characters becomes part of a file name. */
static bool session_ok(const char *s)
{
	size_t n = 0;
	for (; s[n]; n++) {
		char c = s[n];
		if (n >= 64 || !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
			(c >= 'A' && c <= 'Z') || c == '-' || c == '_'))
			return false;
	}
	return n > 0;
}

/* Map the session's page (created if `create`); NULL if there is none. */
static struct page *map_page(bool create)
{
	const char *session = eg_guard_cfg.session;
	const char *runtime = eg_guard_cfg.runtime_dir;
	if (!session_ok(session) || runtime[0] != '/')
		return NULL;
	char path[EG_GUARD_PATH_MAX];
	size_t lr = strlen(runtime), ls = strlen(session);
	static const char dir[] = "/execguard", name[] = "/memory-";
	if (lr + sizeof dir + sizeof name + ls >= sizeof path)
		return NULL;
	memcpy(path, runtime, lr);
	memcpy(path + lr, dir, sizeof dir);
	if (create)
		(void)mkdir(path, 0700);
	size_t l = lr + sizeof dir - 1;
	memcpy(path + l, name, sizeof name - 1);
	memcpy(path + l + sizeof name - 1, session, ls + 1);

	int fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK |
	    (create ? O_CREAT : 0), 0600);
	if (fd < 0)
		return NULL;
	struct stat st;
	/* ours, private, a plain file: anything else is not our memory */
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
	    (st.st_mode & 077) != 0 ||
	    (st.st_size < (off_t)sizeof(struct page) &&
		(!create || ftruncate(fd, sizeof(struct page)) < 0))) {
		close(fd);
		return NULL;
	}
	void *m = mmap(NULL, sizeof(struct page), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	return m == MAP_FAILED ? NULL : m;
}

bool eg_memory_recall(enum eg_memory_kind kind, uint64_t key, unsigned *age_sec)
{
	int saved = errno;
	struct page *pg = map_page(false);
	bool found = false;
	if (pg) {
		uint64_t now = now_ns();
		for (int i = 0; i < SLOTS && !found; i++) {
			struct slot *s = &pg->slot[i];
			if (__atomic_load_n(&s->key, __ATOMIC_ACQUIRE) != key)
				continue;
			uint32_t k = __atomic_load_n(&s->kind, __ATOMIC_RELAXED);
			uint64_t since = __atomic_load_n(&s->since, __ATOMIC_RELAXED);
			uint64_t until = __atomic_load_n(&s->until, __ATOMIC_RELAXED);
			__atomic_thread_fence(__ATOMIC_ACQUIRE);
			if (__atomic_load_n(&s->key, __ATOMIC_RELAXED) != key)
				continue; /* rewritten while we read it */
			if (k == (uint32_t)kind && now < until && since <= now) {
				found = true;
				if (age_sec)
					*age_sec = (unsigned)((now - since) / 1000000000ull);
			}
		}
		munmap(pg, sizeof *pg);
	}
	errno = saved;
	return found;
}

void eg_memory_store(enum eg_memory_kind kind, uint64_t key, unsigned seconds)
{
	if (seconds == 0)
		return;
	int saved = errno;
	struct page *pg = map_page(true);
	if (pg) {
		uint64_t now = now_ns();
		/* the slot of the same key and kind, else the one that ends first */
		int pick = 0;
		uint64_t first_end = UINT64_MAX;
		for (int i = 0; i < SLOTS; i++) {
			struct slot *s = &pg->slot[i];
			uint64_t k = __atomic_load_n(&s->key, __ATOMIC_RELAXED);
			uint64_t until = __atomic_load_n(&s->until, __ATOMIC_RELAXED);
			if (k == key && __atomic_load_n(&s->kind, __ATOMIC_RELAXED) == (uint32_t)kind) {
				pick = i;
				break;
			}
			if (k == 0 || until < now)
				until = 0;
			if (until < first_end) {
				first_end = until;
				pick = i;
			}
		}
		struct slot *s = &pg->slot[pick];
		__atomic_store_n(&s->key, 0, __ATOMIC_RELAXED);
		__atomic_thread_fence(__ATOMIC_RELEASE);
		__atomic_store_n(&s->kind, (uint32_t)kind, __ATOMIC_RELAXED);
		__atomic_store_n(&s->since, now, __ATOMIC_RELAXED);
		__atomic_store_n(&s->until, now + (uint64_t)seconds * 1000000000ull, __ATOMIC_RELAXED);
		__atomic_store_n(&s->key, key, __ATOMIC_RELEASE);
		munmap(pg, sizeof *pg);
	}
	errno = saved;
}
