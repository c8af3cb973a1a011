#ifndef CLIBEV_H
#define CLIBEV_H

#include <ev.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/uio.h>

// libev's initialisers and predicates are function-like macros, which Swift cannot
// import; each gets a one-line inline wrapper here.

typedef void (*clibev_io_cb)(struct ev_loop *, ev_io *, int);
typedef void (*clibev_timer_cb)(struct ev_loop *, ev_timer *, int);
typedef void (*clibev_async_cb)(struct ev_loop *, ev_async *, int);
typedef void (*clibev_prepare_cb)(struct ev_loop *, ev_prepare *, int);

static inline void clibev_io_init(ev_io *w, clibev_io_cb cb, int fd, int events) {
    ev_io_init(w, cb, fd, events);
}
static inline void clibev_io_set(ev_io *w, int fd, int events) { ev_io_set(w, fd, events); }
static inline void clibev_timer_init(ev_timer *w, clibev_timer_cb cb, double after, double repeat) {
    ev_timer_init(w, cb, after, repeat);
}
static inline void clibev_async_init(ev_async *w, clibev_async_cb cb) { ev_async_init(w, cb); }
static inline void clibev_prepare_init(ev_prepare *w, clibev_prepare_cb cb) { ev_prepare_init(w, cb); }
static inline int clibev_is_active(const void *w) { return ev_is_active((ev_watcher *)w); }
static inline int clibev_async_pending(ev_async *w) { return ev_async_pending(w); }

// What Glibc does not export to Swift.
int clibev_accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags);
long clibev_gettid(void);
void clibev_set_thread_name(const char *name);
/// Makes stdout line-buffered (a server's banner shows up at once when piped).
void clibev_line_buffer_stdout(void);
/// `writev` capped at IOV_MAX entries.
int clibev_iov_max(void);
/// The CPU time (user + system) of the calling thread in nanoseconds.
long long clibev_thread_cpu_ns(void);

#endif
