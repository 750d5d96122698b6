// OpenSSL 3 for the HTTP server's TLS (Debian: libssl-dev).
//
// Swift imports OpenSSL's functions directly; what it cannot import are the
// function-like macros (SSL_CTX_set_mode, SSL_CTX_set_min_proto_version, …)
// and the option bits built with casts (SSL_OP_BIT), wrapped here, plus the
// two C callbacks (ALPN selection, PEM passphrase) that are simpler in C.
#ifndef LOSSD_COPENSSL_H
#define LOSSD_COPENSSL_H

#include <stdint.h>
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/x509.h>

static const uint64_t lossd_SSL_OP_NO_RENEGOTIATION = SSL_OP_NO_RENEGOTIATION;
static const uint64_t lossd_SSL_OP_IGNORE_UNEXPECTED_EOF = SSL_OP_IGNORE_UNEXPECTED_EOF;
static const uint64_t lossd_SSL_OP_NO_COMPRESSION = SSL_OP_NO_COMPRESSION;
static const long lossd_SSL_MODE_ENABLE_PARTIAL_WRITE = SSL_MODE_ENABLE_PARTIAL_WRITE;
static const long lossd_SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER = SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER;
static const long lossd_SSL_MODE_RELEASE_BUFFERS = SSL_MODE_RELEASE_BUFFERS;
static const int lossd_TLS1_2_VERSION = TLS1_2_VERSION;

/// SSL_CTX_set_mode; returns the new mode bits.
long lossd_SSL_CTX_set_mode(SSL_CTX *ctx, long mode);
/// SSL_CTX_set_min_proto_version; 1 on success.
int lossd_SSL_CTX_set_min_proto_version(SSL_CTX *ctx, int version);
/// Installs an ALPN callback that selects "http/1.1" when the client offers
/// it and otherwise goes on without ALPN (RFC 7301 §3.2 lets the server
/// ignore the extension), so a client without http/1.1 in its list still
/// gets a plain HTTP/1.1 answer rather than a failed handshake.
void lossd_SSL_CTX_select_http11(SSL_CTX *ctx);
/// Makes an encrypted private key fail to load instead of OpenSSL prompting
/// for its passphrase on the terminal (a server must never block on stdin).
void lossd_SSL_CTX_refuse_passphrase(SSL_CTX *ctx);
/// SSL_set_tlsext_host_name (SNI), for clients.
int lossd_SSL_set_tlsext_host_name(SSL *ssl, const char *name);
/// SSL_set_alpn_protos with "http/1.1", for clients; 0 on success.
int lossd_SSL_set_alpn_http11(SSL *ssl);

#endif
