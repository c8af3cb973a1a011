// LD_PRELOAD shim for running Swift programs with an async main under valgrind 3.19.
//
// A Swift program whose top level uses `await` ends its main thread in libdispatch's
// _dispatch_sigsuspend(), which calls sigsuspend() with a mask in read-only memory
// (a `static const sigset_t`). valgrind 3.19's sigsuspend wrapper edits the mask in place
// and dies with "VALGRIND INTERNAL ERROR: Valgrind received a signal 11 (SIGSEGV)".
// This shim passes a writable copy of the mask instead. It changes nothing else, and runs
// once per process, so it does not disturb instruction counts.
//
// Build: gcc -O2 -shared -fPIC -o sigsuspend_shim.so sigsuspend_shim.c
#define _GNU_SOURCE
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

int sigsuspend(const sigset_t *mask) {
    sigset_t copy = *mask;
    return (int)syscall(SYS_rt_sigsuspend, &copy, (long)(_NSIG / 8));
}
