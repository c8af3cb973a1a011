// echo_load: ping-pong load client for echo servers (Loop's EchoServer, NIOEchoServer).
//
// N connections to 127.0.0.1:PORT; each sends a message of S bytes, waits until all S bytes
// have come back (and checks them), then sends the next one. One epoll loop, one thread.
//
//   duration mode: echo_load --port P --connections N --size S --warmup 1 --duration 5
//                  [--server-pid PID]   (reads the server's utime+stime across the timed window)
//   count mode:    echo_load --port P --connections 1 --size 64 --count 20000
//                  (stops after exactly COUNT completed messages; no warm-up)
//
// Bounded: it only connects to loopback addresses, every run ends after the given duration
// or count, and --timeout seconds without any progress (default 10) is an error (a stall).
// Last line of output: RESULT key=value ... for scripts. Exit 0 on success, 1 on bad usage or
// connection errors, 2 on a stall or wrong echoed bytes.
//
// Build: gcc -O2 -o echo_load echo_load.c
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

typedef struct {
    int fd;
    size_t sent;      // bytes of the current message written so far
    size_t received;  // bytes of the current message echoed back so far
    int want_write;   // EPOLLOUT registered
    int active;       // a message is in flight
} conn_t;

static const char *host = "127.0.0.1";
static int port = 9999;
static int nconn = 1;
static size_t size = 64;
static double warmup = 1.0;
static double duration = 5.0;
static long long count = 0;  // > 0: count mode
static double timeout_s = 10.0;
static long server_pid = 0;

static unsigned char *message;
static unsigned char *rbuf;
static size_t rbuf_size;

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void usage(const char *argv0) {
    fprintf(stderr,
            "usage: %s [--host 127.0.0.1] [--port 9999] [--connections 1] [--size 64]\n"
            "          [--warmup 1] [--duration 5] [--count N] [--timeout 10] [--server-pid PID]\n",
            argv0);
    exit(1);
}

// utime + stime of a process (all its threads) in clock ticks; -1 if unreadable.
static long long process_cpu_ticks(long pid) {
    if (pid <= 0) return -1;
    char path[64], buf[4096];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *p = strrchr(buf, ')');  // comm may contain spaces
    if (!p) return -1;
    p += 2;
    // fields after comm start at field 3 (state); utime is field 14, stime field 15
    unsigned long long utime = 0, stime = 0;
    int field = 3;
    char *save = NULL;
    for (char *tok = strtok_r(p, " ", &save); tok; tok = strtok_r(NULL, " ", &save), field++) {
        if (field == 14) utime = strtoull(tok, NULL, 10);
        if (field == 15) {
            stime = strtoull(tok, NULL, 10);
            break;
        }
    }
    return (long long)(utime + stime);
}

static int is_loopback(const char *h, struct in_addr *out) {
    if (strcmp(h, "localhost") == 0) h = "127.0.0.1";
    if (inet_pton(AF_INET, h, out) != 1) return 0;
    return (ntohl(out->s_addr) >> 24) == 127;
}

static int connect_one(struct in_addr addr) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port), .sin_addr = addr};
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        close(fd);
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    return fd;
}

static int epfd;
static long long completed = 0;  // messages fully echoed
static long long started = 0;    // messages begun
static int stop_sending = 0;

static void set_events(conn_t *c, int want_write) {
    if (c->want_write == want_write) return;
    struct epoll_event ev = {.events = EPOLLIN | (want_write ? EPOLLOUT : 0), .data.ptr = c};
    epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
    c->want_write = want_write;
}

// Writes as much of the current message as the socket takes. -1 on error.
static int pump_write(conn_t *c) {
    while (c->sent < size) {
        ssize_t n = send(c->fd, message + c->sent, size - c->sent, MSG_NOSIGNAL);
        if (n > 0) {
            c->sent += (size_t)n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            set_events(c, 1);
            return 0;
        } else {
            return -1;
        }
    }
    set_events(c, 0);
    return 0;
}

static int start_message(conn_t *c) {
    if (stop_sending || (count > 0 && started >= count)) {
        c->active = 0;
        return 0;
    }
    started++;
    c->active = 1;
    c->sent = 0;
    c->received = 0;
    return pump_write(c);
}

// Reads what the server echoed. -1 on error or EOF, -2 on wrong bytes.
static int pump_read(conn_t *c) {
    for (;;) {
        ssize_t n = recv(c->fd, rbuf, rbuf_size, 0);
        if (n > 0) {
            if (!c->active || c->received + (size_t)n > size) return -2;  // more than was sent
            if (memcmp(rbuf, message + c->received, (size_t)n) != 0) return -2;
            c->received += (size_t)n;
            if (c->received == size) {
                completed++;
                if (start_message(c) != 0) return -1;
            }
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            return 0;
        } else {
            return -1;
        }
    }
}

int main(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (i + 1 >= argc) usage(argv[0]);
        const char *v = argv[++i];
        if (!strcmp(a, "--host")) host = v;
        else if (!strcmp(a, "--port")) port = atoi(v);
        else if (!strcmp(a, "--connections")) nconn = atoi(v);
        else if (!strcmp(a, "--size")) size = (size_t)atol(v);
        else if (!strcmp(a, "--warmup")) warmup = atof(v);
        else if (!strcmp(a, "--duration")) duration = atof(v);
        else if (!strcmp(a, "--count")) count = atoll(v);
        else if (!strcmp(a, "--timeout")) timeout_s = atof(v);
        else if (!strcmp(a, "--server-pid")) server_pid = atol(v);
        else usage(argv[0]);
    }
    if (nconn < 1 || nconn > 10000 || size < 1 || size > (64u << 20) || port <= 0 || port > 65535 ||
        duration <= 0 || duration > 3600 || warmup < 0 || warmup > 600 || count < 0 || timeout_s <= 0)
        usage(argv[0]);
    struct in_addr addr;
    if (!is_loopback(host, &addr)) {
        fprintf(stderr, "echo_load: only loopback addresses (127.0.0.0/8) are allowed, not %s\n", host);
        return 1;
    }
    signal(SIGPIPE, SIG_IGN);

    message = malloc(size);
    for (size_t i = 0; i < size; i++) message[i] = (unsigned char)('a' + (i * 7 + i / 26) % 26);
    rbuf_size = size < 65536 ? 65536 : size;
    rbuf = malloc(rbuf_size);

    epfd = epoll_create1(EPOLL_CLOEXEC);
    conn_t *conns = calloc((size_t)nconn, sizeof *conns);
    for (int i = 0; i < nconn; i++) {
        int fd = -1;
        for (int attempt = 0; attempt < 50 && fd < 0; attempt++) {
            fd = connect_one(addr);
            if (fd < 0) usleep(100000);
        }
        if (fd < 0) {
            fprintf(stderr, "echo_load: connect to %s:%d failed: %s\n", host, port, strerror(errno));
            return 1;
        }
        conns[i].fd = fd;
        conns[i].want_write = 0;
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &conns[i]};
        epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
    }

    const int count_mode = count > 0;
    double t0 = now();
    double warm_end = t0 + (count_mode ? 0 : warmup);
    double end = warm_end + duration;
    double hard_end = count_mode ? t0 + 3600 : end;
    int in_timed = count_mode;
    long long timed_start_completed = 0;
    long long cpu_start = count_mode ? process_cpu_ticks(server_pid) : -1;
    double timed_start = t0;
    double last_progress = t0;
    long long last_completed = 0;

    for (int i = 0; i < nconn; i++) {
        if (start_message(&conns[i]) != 0) {
            fprintf(stderr, "echo_load: send failed: %s\n", strerror(errno));
            return 1;
        }
    }

    struct epoll_event events[256];
    int status = 0;
    for (;;) {
        int n = epoll_wait(epfd, events, 256, 50);
        if (n < 0 && errno != EINTR) {
            perror("epoll_wait");
            status = 1;
            break;
        }
        for (int i = 0; i < n; i++) {
            conn_t *c = events[i].data.ptr;
            int r = 0;
            if (events[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) r = pump_read(c);
            if (r == 0 && (events[i].events & EPOLLOUT) && c->active) r = pump_write(c);
            if (r == -2) {
                fprintf(stderr, "echo_load: wrong bytes echoed back\n");
                status = 2;
                goto done;
            }
            if (r != 0) {
                fprintf(stderr, "echo_load: connection failed: %s\n", errno ? strerror(errno) : "closed by peer");
                status = 1;
                goto done;
            }
        }
        double t = now();
        if (completed != last_completed) {
            last_completed = completed;
            last_progress = t;
        }
        if (!in_timed && t >= warm_end) {
            in_timed = 1;
            timed_start = t;
            timed_start_completed = completed;
            cpu_start = process_cpu_ticks(server_pid);
        }
        if (count_mode && completed >= count) break;
        if (!count_mode && t >= end) break;
        if (t >= hard_end) break;
        if (t - last_progress > timeout_s) {
            fprintf(stderr, "echo_load: stall: no message completed for %.1f s (%lld done)\n", timeout_s, completed);
            status = 2;
            goto done;
        }
    }
done:;
    double t_end = now();
    long long cpu_end = process_cpu_ticks(server_pid);
    long long messages = completed - timed_start_completed;
    double elapsed = t_end - timed_start;
    double rate = elapsed > 0 ? (double)messages / elapsed : 0;
    double cpu_s = (cpu_start >= 0 && cpu_end >= 0) ? (double)(cpu_end - cpu_start) / (double)sysconf(_SC_CLK_TCK) : -1;
    for (int i = 0; i < nconn; i++) close(conns[i].fd);
    printf("messages completed: %lld in %.3f s\n", messages, elapsed);
    printf("msgs/s: %.1f\n", rate);
    if (cpu_s >= 0)
        printf("server cpu: %.2f s (%.3f us/msg)\n", cpu_s, messages > 0 ? cpu_s * 1e6 / (double)messages : 0);
    printf("RESULT connections=%d size=%zu messages=%lld seconds=%.6f msgs_per_sec=%.1f server_cpu_sec=%.3f status=%d\n",
           nconn, size, messages, elapsed, rate, cpu_s, status);
    fflush(stdout);
    return status;
}
