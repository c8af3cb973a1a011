#define _GNU_SOURCE
#include "CLibev.h"
#include <limits.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <pthread.h>
#include <stdio.h>

void clibev_line_buffer_stdout(void) { setvbuf(stdout, NULL, _IOLBF, 0); }

void clibev_set_thread_name(const char *name) { pthread_setname_np(pthread_self(), name); }

int clibev_accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags) {
    return accept4(fd, addr, len, flags);
}

long clibev_gettid(void) { return syscall(SYS_gettid); }

int clibev_iov_max(void) { return IOV_MAX; }

long long clibev_thread_cpu_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}
