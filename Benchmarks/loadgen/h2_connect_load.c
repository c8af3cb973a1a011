// h2_connect_load: new-connection load for h2c servers (HTTP/2 with prior knowledge).
//
// Every request on a connection of its own: connect to 127.0.0.1:PORT, write the client
// preface, an empty SETTINGS frame and one HEADERS frame (GET PATH, END_STREAM), acknowledge
// the server's SETTINGS, read until stream 1 ends, check the response (":status" 200 as the
// first header field, exactly --expect-bytes of DATA), close, and open the next connection.
// --concurrency connections are in flight at once (one epoll loop, one thread), until --count
// connections have completed.
//
//   h2_connect_load --port P [--path /hello] [--count 20000] [--concurrency 4]
//                   [--expect-bytes 13] [--timeout 10]
//
// Bounded: it only connects to loopback addresses, stops after --count connections, and
// --timeout seconds without any progress (default 10) is an error (a stall).
// Last line of output: RESULT key=value ... for scripts (connections, ok, failed, seconds,
// rate = ok / seconds, client_cpu_us = this process's utime+stime per connection). Exit 0
// when every connection succeeded, 1 on bad usage, 2 on a failed connection or a stall.
//
// Build: gcc -O2 -o h2_connect_load h2_connect_load.c
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONCURRENCY 256
#define RBUF 16384

typedef struct {
    int fd;
    int connected;       // the connect completed and the request was written
    long data;           // DATA bytes received on stream 1
    int headers_seen;    // the response HEADERS arrived
    size_t have;         // bytes in buf
    unsigned char buf[RBUF];  // last: open_conn clears the fields before it
} conn_t;

static const char *host = "127.0.0.1";
static int port = 0;
static const char *path = "/hello";
static long long count = 20000;
static int concurrency = 4;
static long expect_bytes = -1;
static double timeout_s = 10.0;

static unsigned char request[512];
static size_t request_len;
static int epfd;
static struct sockaddr_in addr;
static long long started, ok, failed;
static char first_error[256];

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void usage(const char *argv0) {
    fprintf(stderr,
            "usage: %s --port P [--host 127.0.0.1] [--path /hello] [--count 20000] [--concurrency 4]\n"
            "          [--expect-bytes N] [--timeout 10]\n",
            argv0);
    exit(1);
}

static void frame_header(unsigned char *p, size_t length, uint8_t type, uint8_t flags, uint32_t stream) {
    p[0] = (uint8_t)(length >> 16);
    p[1] = (uint8_t)(length >> 8);
    p[2] = (uint8_t)length;
    p[3] = type;
    p[4] = flags;
    p[5] = (uint8_t)(stream >> 24) & 0x7f;
    p[6] = (uint8_t)(stream >> 16);
    p[7] = (uint8_t)(stream >> 8);
    p[8] = (uint8_t)stream;
}

// Preface, empty SETTINGS, HEADERS (END_STREAM | END_HEADERS) for GET PATH on stream 1.
static void build_request(void) {
    static const char preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
    unsigned char block[300];
    size_t b = 0;
    char authority[64];
    snprintf(authority, sizeof authority, "%s:%d", host, port);
    size_t path_len = strlen(path), auth_len = strlen(authority);
    if (path_len > 120) {
        fprintf(stderr, "path too long\n");
        exit(1);
    }
    block[b++] = 0x82;  // :method GET (static table 2)
    block[b++] = 0x86;  // :scheme http (static table 6)
    block[b++] = 0x04;  // :path, literal without indexing, name from static table 4
    block[b++] = (uint8_t)path_len;
    memcpy(block + b, path, path_len);
    b += path_len;
    block[b++] = 0x01;  // :authority, literal without indexing, name from static table 1
    block[b++] = (uint8_t)auth_len;
    memcpy(block + b, authority, auth_len);
    b += auth_len;
    size_t n = 0;
    memcpy(request, preface, 24);
    n += 24;
    frame_header(request + n, 0, 0x4, 0, 0);  // SETTINGS, no parameters
    n += 9;
    frame_header(request + n, b, 0x1, 0x5, 1);  // HEADERS, END_STREAM | END_HEADERS
    n += 9;
    memcpy(request + n, block, b);
    n += b;
    request_len = n;
}

static void fail(conn_t *c, const char *why) {
    if (!first_error[0]) snprintf(first_error, sizeof first_error, "%s", why);
    failed++;
    if (c->fd >= 0) close(c->fd);
    c->fd = -1;
}

static int open_conn(conn_t *c) {
    memset(c, 0, offsetof(conn_t, buf));
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) {
        perror("socket");
        exit(2);
    }
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    started++;
    if (connect(c->fd, (struct sockaddr *)&addr, sizeof addr) < 0 && errno != EINPROGRESS) {
        char why[128];
        snprintf(why, sizeof why, "connect: %s", strerror(errno));
        fail(c, why);
        return -1;
    }
    struct epoll_event ev = {.events = EPOLLOUT | EPOLLIN, .data.ptr = c};
    epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev);
    return 0;
}

// 1: stream 1 ended (done), 0: need more bytes, -1: error (reason in why).
static int parse(conn_t *c, char *why, size_t whylen) {
    size_t off = 0;
    int done = 0;
    while (c->have - off >= 9) {
        unsigned char *p = c->buf + off;
        size_t len = ((size_t)p[0] << 16) | ((size_t)p[1] << 8) | p[2];
        uint8_t type = p[3], flags = p[4];
        uint32_t stream = ((uint32_t)(p[5] & 0x7f) << 24) | ((uint32_t)p[6] << 16) | ((uint32_t)p[7] << 8) | p[8];
        if (len > RBUF - 9) {
            snprintf(why, whylen, "frame of %zu bytes", len);
            return -1;
        }
        if (c->have - off < 9 + len) break;
        unsigned char *payload = p + 9;
        if (type == 0x4 && !(flags & 0x1)) {  // SETTINGS: acknowledge
            unsigned char ack[9];
            frame_header(ack, 0, 0x4, 0x1, 0);
            if (write(c->fd, ack, 9) != 9) {
                snprintf(why, whylen, "write SETTINGS ACK: %s", strerror(errno));
                return -1;
            }
        } else if (type == 0x7) {  // GOAWAY
            snprintf(why, whylen, "GOAWAY");
            return -1;
        } else if (type == 0x3 && stream == 1) {  // RST_STREAM
            snprintf(why, whylen, "RST_STREAM");
            return -1;
        } else if (type == 0x1 && stream == 1) {  // HEADERS
            size_t pad = 0, skip = 0;
            if (flags & 0x8) pad = payload[0], skip = 1;
            if (flags & 0x20) skip += 5;
            if (!c->headers_seen) {
                if (len < skip + pad + 1 || payload[skip] != 0x88) {  // indexed :status 200
                    snprintf(why, whylen, "response is not :status 200 (first field byte 0x%02x)",
                             len > skip ? payload[skip] : 0);
                    return -1;
                }
                c->headers_seen = 1;
            }
            if (flags & 0x1) done = 1;
        } else if (type == 0x0 && stream == 1) {  // DATA
            size_t pad = (flags & 0x8) ? payload[0] + 1 : 0;
            c->data += (long)(len - pad);
            if (flags & 0x1) done = 1;
        }
        off += 9 + len;
        if (done) break;
    }
    memmove(c->buf, c->buf + off, c->have - off);
    c->have -= off;
    if (done) {
        if (!c->headers_seen) {
            snprintf(why, whylen, "stream ended without a response HEADERS");
            return -1;
        }
        if (expect_bytes >= 0 && c->data != expect_bytes) {
            snprintf(why, whylen, "%ld DATA bytes, expected %ld", c->data, expect_bytes);
            return -1;
        }
        return 1;
    }
    return 0;
}

int main(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (i + 1 >= argc) usage(argv[0]);
        const char *v = argv[++i];
        if (!strcmp(a, "--host")) host = v;
        else if (!strcmp(a, "--port")) port = atoi(v);
        else if (!strcmp(a, "--path")) path = v;
        else if (!strcmp(a, "--count")) count = atoll(v);
        else if (!strcmp(a, "--concurrency")) concurrency = atoi(v);
        else if (!strcmp(a, "--expect-bytes")) expect_bytes = atol(v);
        else if (!strcmp(a, "--timeout")) timeout_s = atof(v);
        else usage(argv[0]);
    }
    if (port <= 0 || count <= 0 || concurrency <= 0 || concurrency > MAX_CONCURRENCY) usage(argv[0]);
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &addr.sin_addr) != 1 || (ntohl(addr.sin_addr.s_addr) >> 24) != 127) {
        fprintf(stderr, "--host must be a 127.x.x.x address\n");
        return 1;
    }
    build_request();
    epfd = epoll_create1(EPOLL_CLOEXEC);
    static conn_t conns[MAX_CONCURRENCY];
    for (int i = 0; i < concurrency; i++) conns[i].fd = -1;
    double t0 = now(), last_progress = t0;
    for (int i = 0; i < concurrency && started < count; i++) open_conn(&conns[i]);
    struct epoll_event events[MAX_CONCURRENCY];
    while (ok + failed < count && failed == 0) {
        int n = epoll_wait(epfd, events, MAX_CONCURRENCY, 100);
        if (n < 0 && errno != EINTR) {
            perror("epoll_wait");
            return 2;
        }
        if (now() - last_progress > timeout_s) {
            snprintf(first_error, sizeof first_error, "no progress for %.0f s", timeout_s);
            failed++;
            break;
        }
        for (int e = 0; e < n; e++) {
            conn_t *c = events[e].data.ptr;
            if (c->fd < 0) continue;
            char why[200] = "";
            int result = 0;
            if (!c->connected) {
                int err = 0;
                socklen_t elen = sizeof err;
                getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &elen);
                if (err) {
                    snprintf(why, sizeof why, "connect: %s", strerror(err));
                    result = -1;
                } else if (events[e].events & EPOLLOUT) {
                    if (write(c->fd, request, request_len) != (ssize_t)request_len) {
                        snprintf(why, sizeof why, "write request: %s", strerror(errno));
                        result = -1;
                    } else {
                        c->connected = 1;
                        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
                        epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
                    }
                }
            } else if (events[e].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
                ssize_t r = read(c->fd, c->buf + c->have, RBUF - c->have);
                if (r > 0) {
                    c->have += (size_t)r;
                    result = parse(c, why, sizeof why);
                } else if (r == 0) {
                    snprintf(why, sizeof why, "connection closed before the response ended");
                    result = -1;
                } else if (errno != EAGAIN && errno != EINTR) {
                    snprintf(why, sizeof why, "read: %s", strerror(errno));
                    result = -1;
                }
            }
            if (result == -1) {
                fail(c, why);
            } else if (result == 1) {
                close(c->fd);
                c->fd = -1;
                ok++;
                last_progress = now();
                if (started < count) open_conn(c);
            }
        }
    }
    double seconds = now() - t0;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double cpu = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec * 1e-6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec * 1e-6;
    if (failed) fprintf(stderr, "error: %s\n", first_error);
    printf("RESULT connections=%lld ok=%lld failed=%lld seconds=%.6f rate=%.1f client_cpu_us=%.2f\n", started, ok,
           failed, seconds, seconds > 0 ? ok / seconds : 0.0, ok ? cpu * 1e6 / ok : 0.0);
    return failed ? 2 : 0;
}
