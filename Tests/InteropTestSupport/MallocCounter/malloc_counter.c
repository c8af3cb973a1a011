// LD_PRELOAD interposer for the allocation-budget tests: counts the calls of the malloc
// family in a process, in a small file the test maps too, so the test reads the counts at any
// moment while the process keeps running. Compiled by the test (AllocationCounting.swift):
//
//     cc -O2 -Wall -shared -fPIC -o malloc_counter.so malloc_counter.c -ldl
//
// LOOP_MALLOC_COUNTER_FILE names the file (the test creates it, at least 4096 bytes); the
// counters are the first eight little-endian UInt64s of it, in the order of `struct counters`,
// bumped with relaxed atomics (any thread). Without the variable the counts stay in memory.
// Every call is passed on to the next definition (glibc's), found with dlsym(RTLD_NEXT).
// dlsym itself may call calloc/malloc before the real ones are known: those few requests are
// served from a static arena, and free/realloc recognise its pointers.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

struct counters {
    uint64_t malloc;
    uint64_t calloc;
    uint64_t realloc;
    uint64_t posix_memalign;
    uint64_t aligned_alloc;
    uint64_t memalign;  // memalign, valloc, pvalloc
    uint64_t free;      // non-null pointers only
    uint64_t magic;     // COUNTER_MAGIC once the file is mapped
};

#define COUNTER_MAGIC 0x4c6f6f704d616c63ull  // "LoopMalc"

static struct counters local_counters;
static struct counters *counters = &local_counters;

static void *(*real_malloc)(size_t);
static void *(*real_calloc)(size_t, size_t);
static void *(*real_realloc)(void *, size_t);
static int (*real_posix_memalign)(void **, size_t, size_t);
static void *(*real_aligned_alloc)(size_t, size_t);
static void *(*real_memalign)(size_t, size_t);
static void *(*real_valloc)(size_t);
static void *(*real_pvalloc)(size_t);
static void (*real_free)(void *);

// The arena for allocations made while dlsym runs (before the real functions are known).
static _Alignas(64) unsigned char arena[16384];
static size_t arena_used;
static int resolving;

static int in_arena(const void *pointer) {
    return (const unsigned char *)pointer >= arena && (const unsigned char *)pointer < arena + sizeof arena;
}

static void *arena_alloc(size_t size) {
    size_t start = (arena_used + 63) & ~(size_t)63;
    if (start + size > sizeof arena) return NULL;
    arena_used = start + size;
    return arena + start;  // zeroed: static storage, never reused
}

static void count(uint64_t *counter) { __atomic_fetch_add(counter, 1, __ATOMIC_RELAXED); }

static void resolve(void) {
    if (real_free || resolving) return;
    resolving = 1;
    real_malloc = dlsym(RTLD_NEXT, "malloc");
    real_calloc = dlsym(RTLD_NEXT, "calloc");
    real_realloc = dlsym(RTLD_NEXT, "realloc");
    real_posix_memalign = dlsym(RTLD_NEXT, "posix_memalign");
    real_aligned_alloc = dlsym(RTLD_NEXT, "aligned_alloc");
    real_memalign = dlsym(RTLD_NEXT, "memalign");
    real_valloc = dlsym(RTLD_NEXT, "valloc");
    real_pvalloc = dlsym(RTLD_NEXT, "pvalloc");
    real_free = dlsym(RTLD_NEXT, "free");
    resolving = 0;
}

// Maps the counter file before main (calls made earlier are counted in local_counters).
__attribute__((constructor)) static void map_counter_file(void) {
    resolve();
    const char *path = getenv("LOOP_MALLOC_COUNTER_FILE");
    if (!path || !*path) return;
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0) return;
    void *mapped = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (mapped == MAP_FAILED) return;
    struct counters *shared = mapped;
    __atomic_store_n(&shared->magic, COUNTER_MAGIC, __ATOMIC_RELEASE);
    __atomic_store_n(&counters, shared, __ATOMIC_RELEASE);
}

static struct counters *current(void) { return __atomic_load_n(&counters, __ATOMIC_ACQUIRE); }

void *malloc(size_t size) {
    if (!real_malloc) {
        if (resolving) return arena_alloc(size);
        resolve();
    }
    count(&current()->malloc);
    return real_malloc(size);
}

void *calloc(size_t count_, size_t size) {
    if (!real_calloc) {
        if (resolving) return (size && count_ > SIZE_MAX / size) ? NULL : arena_alloc(count_ * size);
        resolve();
    }
    count(&current()->calloc);
    return real_calloc(count_, size);
}

void *realloc(void *pointer, size_t size) {
    if (!real_realloc) resolve();
    count(&current()->realloc);
    if (pointer && in_arena(pointer)) {  // never handed to glibc: copy out of the arena
        size_t available = (size_t)(arena + sizeof arena - (unsigned char *)pointer);
        void *moved = real_malloc(size);
        if (moved) memcpy(moved, pointer, size < available ? size : available);
        return moved;
    }
    return real_realloc(pointer, size);
}

int posix_memalign(void **out, size_t alignment, size_t size) {
    if (!real_posix_memalign) resolve();
    count(&current()->posix_memalign);
    return real_posix_memalign(out, alignment, size);
}

void *aligned_alloc(size_t alignment, size_t size) {
    if (!real_aligned_alloc) resolve();
    count(&current()->aligned_alloc);
    return real_aligned_alloc(alignment, size);
}

void *memalign(size_t alignment, size_t size) {
    if (!real_memalign) resolve();
    count(&current()->memalign);
    return real_memalign(alignment, size);
}

void *valloc(size_t size) {
    if (!real_valloc) resolve();
    count(&current()->memalign);
    return real_valloc(size);
}

void *pvalloc(size_t size) {
    if (!real_pvalloc) resolve();
    count(&current()->memalign);
    return real_pvalloc(size);
}

void free(void *pointer) {
    if (!pointer || in_arena(pointer)) return;
    if (!real_free) resolve();
    count(&current()->free);
    real_free(pointer);
}
