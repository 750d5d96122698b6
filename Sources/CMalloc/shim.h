#ifndef CMALLOC_SHIM_H
#define CMALLOC_SHIM_H
// glibc's allocator tuning (mallopt), for lossd's MemoryPolicy; Glibc's Swift
// module does not include this header.
#ifdef __linux__
#include <malloc.h>
#endif
#endif
