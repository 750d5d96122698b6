#ifndef CEPOLL_SHIM_H
#define CEPOLL_SHIM_H
// Linux readiness notification for the HTTP server's event loop; Glibc's
// Swift module does not include these headers.
#ifdef __linux__
#include <sys/epoll.h>
#include <sys/eventfd.h>
#endif
#endif
