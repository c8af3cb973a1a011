#define _GNU_SOURCE
#include <stdio.h>
#include <time.h>
#include "CLoopTLS.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static int offered_index = -1;
static pthread_once_t offered_once = PTHREAD_ONCE_INIT;

struct cloop_offer {
    unsigned int length;
    unsigned char data[];
};

static void free_offer(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp) {
    (void)parent; (void)ad; (void)idx; (void)argl; (void)argp;
    free(ptr);
}

static void make_offered_index(void) {
    offered_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, free_offer);
}

static int select_alpn(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                       const unsigned char *in, unsigned int inlen, void *arg) {
    const struct cloop_alpn_list *list = arg;
    unsigned char *selected = NULL;
    unsigned char selected_length = 0;
    if (SSL_select_next_proto(&selected, &selected_length, list->data, list->length, in, inlen) == OPENSSL_NPN_NEGOTIATED) {
        *out = selected;
        *outlen = selected_length;
        return SSL_TLSEXT_ERR_OK;
    }
    pthread_once(&offered_once, make_offered_index);
    struct cloop_offer *offer = malloc(sizeof(struct cloop_offer) + inlen);
    if (offer != NULL) {
        offer->length = inlen;
        memcpy(offer->data, in, inlen);
        void *old = SSL_get_ex_data(ssl, offered_index);
        SSL_set_ex_data(ssl, offered_index, offer);
        free(old);
    }
    return SSL_TLSEXT_ERR_ALERT_FATAL;
}

void cloop_tls_ctx_set_alpn_protocols(SSL_CTX *ctx, const struct cloop_alpn_list *list) {
    SSL_CTX_set_alpn_select_cb(ctx, select_alpn, (void *)list);
}

const unsigned char *cloop_tls_offered_protocols(const SSL *ssl, unsigned int *length) {
    pthread_once(&offered_once, make_offered_index);
    const struct cloop_offer *offer = SSL_get_ex_data(ssl, offered_index);
    if (offer == NULL) return NULL;
    *length = offer->length;
    return offer->data;
}

EVP_PKEY *cloop_tls_read_private_key(const char *pem, size_t length) {
    BIO *bio = BIO_new_mem_buf(pem, (int)length);
    if (bio == NULL) return NULL;
    EVP_PKEY *key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
    BIO_free(bio);
    return key;
}

void cloop_tls_certificate_each_name(X509 *certificate, void (*each)(const char *name, size_t length, void *context),
                                     void *context) {
    GENERAL_NAMES *names = X509_get_ext_d2i(certificate, NID_subject_alt_name, NULL, NULL);
    if (names == NULL) {
        X509_NAME *subject = X509_get_subject_name(certificate);
        char common[256];
        int length = X509_NAME_get_text_by_NID(subject, NID_commonName, common, sizeof common);
        if (length > 0) each(common, (size_t)length, context);
        return;
    }
    for (int i = 0; i < sk_GENERAL_NAME_num(names); i++) {
        const GENERAL_NAME *name = sk_GENERAL_NAME_value(names, i);
        if (name->type == GEN_DNS) {
            const unsigned char *text = ASN1_STRING_get0_data(name->d.dNSName);
            each((const char *)text, (size_t)ASN1_STRING_length(name->d.dNSName), context);
        } else if (name->type == GEN_IPADD) {
            char text[64];
            const unsigned char *bytes = ASN1_STRING_get0_data(name->d.iPAddress);
            int count = ASN1_STRING_length(name->d.iPAddress);
            if (count == 4) {
                snprintf(text, sizeof text, "%u.%u.%u.%u", bytes[0], bytes[1], bytes[2], bytes[3]);
            } else if (count == 16) {
                size_t at = 0;
                for (int j = 0; j < 16; j += 2) {
                    at += (size_t)snprintf(text + at, sizeof text - at, j == 0 ? "%x" : ":%x", (bytes[j] << 8) | bytes[j + 1]);
                }
            } else {
                continue;
            }
            each(text, strlen(text), context);
        }
    }
    GENERAL_NAMES_free(names);
}

size_t cloop_tls_certificate_subject(X509 *certificate, char *buffer, size_t capacity) {
    if (capacity == 0) return 0;
    buffer[0] = 0;
    BIO *bio = BIO_new(BIO_s_mem());
    if (bio == NULL) return 0;
    X509_NAME_print_ex(bio, X509_get_subject_name(certificate), 0, XN_FLAG_RFC2253);
    int length = BIO_read(bio, buffer, (int)capacity - 1);
    BIO_free(bio);
    if (length < 0) length = 0;
    buffer[length] = 0;
    return (size_t)length;
}

int cloop_tls_certificate_matches_host(X509 *certificate, const char *name) {
    if (X509_check_host(certificate, name, strlen(name), X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS, NULL) == 1) return 1;
    return X509_check_ip_asc(certificate, name, 0) == 1;
}

long long cloop_tls_certificate_not_after(X509 *certificate) {
    const ASN1_TIME *time = X509_get0_notAfter(certificate);
    struct tm parsed;
    if (time == NULL || ASN1_TIME_to_tm(time, &parsed) != 1) return 0;
    return (long long)timegm(&parsed);
}
