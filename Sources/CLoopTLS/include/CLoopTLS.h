#ifndef CLOOPTLS_H
#define CLOOPTLS_H

// C shim over the system OpenSSL (Debian libssl-dev, 3.0): the macros Swift cannot import,
// and the few callbacks that are simpler in C. Everything else LoopTLS calls directly.

#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <openssl/pem.h>
#include <stddef.h>

// MARK: Macros

static inline int cloop_tls_ctx_set_min_version(SSL_CTX *ctx, int version) {
    return (int)SSL_CTX_set_min_proto_version(ctx, version);
}

static inline int cloop_tls_ctx_set_max_version(SSL_CTX *ctx, int version) {
    return (int)SSL_CTX_set_max_proto_version(ctx, version);
}

static inline long cloop_tls_ctx_set_session_cache_mode(SSL_CTX *ctx, long mode) {
    return SSL_CTX_set_session_cache_mode(ctx, mode);
}

static inline long cloop_tls_ctx_set_mode(SSL_CTX *ctx, long mode) {
    return SSL_CTX_set_mode(ctx, mode);
}

static inline int cloop_tls_set_server_name(SSL *ssl, const char *name) {
    return (int)SSL_set_tlsext_host_name(ssl, name);
}

static inline void cloop_tls_ctx_set_servername_callback(SSL_CTX *ctx, int (*callback)(SSL *, int *, void *), void *arg) {
    SSL_CTX_set_tlsext_servername_callback(ctx, callback);
    SSL_CTX_set_tlsext_servername_arg(ctx, arg);
}

static inline int cloop_tls_set_app_data(SSL *ssl, void *data) {
    return SSL_set_app_data(ssl, data);
}

static inline void *cloop_tls_get_app_data(const SSL *ssl) {
    return SSL_get_app_data(ssl);
}

static inline int cloop_tls_ctx_add_chain_certificate(SSL_CTX *ctx, X509 *certificate) {
    // add1: the context takes its own reference.
    return (int)SSL_CTX_add1_chain_cert(ctx, certificate);
}

/// No renegotiation (RFC 9113 §9.2.1 forbids it for HTTP/2), no compression; a server prefers
/// its own cipher order; without tickets when resumption is off.
static inline void cloop_tls_ctx_set_loop_options(SSL_CTX *ctx, int server, int tickets) {
    uint64_t options = SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION;
    if (server) options |= SSL_OP_CIPHER_SERVER_PREFERENCE;
    if (!tickets) options |= SSL_OP_NO_TICKET;
    SSL_CTX_set_options(ctx, options);
}

/// Key exchange: X25519 first, then the NIST curves (OpenSSL 3.0's default list also offers
/// ffdhe groups, slower for no gain here). A macro over SSL_CTX_ctrl.
static inline int cloop_tls_ctx_set_key_exchange_groups(SSL_CTX *ctx) {
    return (int)SSL_CTX_set1_groups_list(ctx, "X25519:P-256:P-384");
}

// MARK: Callbacks in C

/// The ALPN list a server context selects from (wire format); the caller owns it and keeps
/// it alive as long as the context.
struct cloop_alpn_list {
    const unsigned char *data;
    unsigned int length;
};

/// The server's ALPN choice: the first of `protocols` (wire format, in the server's order of
/// preference) that the client offered. When none is, the client's offer is kept on the
/// connection (`cloop_tls_offered_protocols`) for the error message, and the handshake ends
/// with the no_application_protocol alert (RFC 7301 §3.2).
/// `list` must outlive the context.
void cloop_tls_ctx_set_alpn_protocols(SSL_CTX *ctx, const struct cloop_alpn_list *list);

/// What a client offered in ALPN when the server found nothing in common (wire format), or
/// NULL.
const unsigned char *cloop_tls_offered_protocols(const SSL *ssl, unsigned int *length);

/// A private key from PEM text, or NULL; the caller frees it.
EVP_PKEY *cloop_tls_read_private_key(const char *pem, size_t length);

/// Calls `each` with every DNS name and IP address (as text) of a certificate's
/// subjectAltName, in order; with its common name when it has no subjectAltName at all
/// (RFC 6125 §6.4.4). Names are never joined, so none can be forged with a separator.
void cloop_tls_certificate_each_name(X509 *certificate, void (*each)(const char *name, size_t length, void *context),
                                     void *context);


/// A certificate's subject (RFC 2253) into `buffer`. Returns the length.
size_t cloop_tls_certificate_subject(X509 *certificate, char *buffer, size_t capacity);

/// Whether `name` matches one of the certificate's names (wildcards as RFC 6125 allows).
int cloop_tls_certificate_matches_host(X509 *certificate, const char *name);

/// A certificate's notAfter as seconds since 1970.
long long cloop_tls_certificate_not_after(X509 *certificate);

#endif
