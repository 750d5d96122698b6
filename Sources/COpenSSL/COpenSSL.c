#include "COpenSSL.h"
#include <string.h>

long lossd_SSL_CTX_set_mode(SSL_CTX *ctx, long mode) {
    return SSL_CTX_set_mode(ctx, mode);
}

int lossd_SSL_CTX_set_min_proto_version(SSL_CTX *ctx, int version) {
    return (int)SSL_CTX_set_min_proto_version(ctx, version);
}

// ALPN wire format: one length byte, then the protocol name.
static const unsigned char http11[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};

static int select_http11(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                         const unsigned char *in, unsigned int inlen, void *arg) {
    (void)ssl;
    (void)arg;
    unsigned int i = 0;
    while (i < inlen) {
        unsigned int length = in[i];
        if (i + 1 + length > inlen) break;  // malformed list: ignore the rest
        if (length == sizeof(http11) - 1 && memcmp(in + i + 1, http11 + 1, length) == 0) {
            *out = in + i + 1;
            *outlen = (unsigned char)length;
            return SSL_TLSEXT_ERR_OK;
        }
        i += 1 + length;
    }
    return SSL_TLSEXT_ERR_NOACK;
}

void lossd_SSL_CTX_select_http11(SSL_CTX *ctx) {
    SSL_CTX_set_alpn_select_cb(ctx, select_http11, NULL);
}

static int no_passphrase(char *buf, int size, int rwflag, void *userdata) {
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)userdata;
    return 0;
}

void lossd_SSL_CTX_refuse_passphrase(SSL_CTX *ctx) {
    SSL_CTX_set_default_passwd_cb(ctx, no_passphrase);
}

int lossd_SSL_set_tlsext_host_name(SSL *ssl, const char *name) {
    return (int)SSL_set_tlsext_host_name(ssl, name);
}

int lossd_SSL_set_alpn_http11(SSL *ssl) {
    return SSL_set_alpn_protos(ssl, http11, sizeof(http11));
}
