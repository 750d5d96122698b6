#include "CThreadSanitizer.h"

#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define CTHREADSANITIZER_ON 1
#endif
#endif

#ifdef CTHREADSANITIZER_ON
// ThreadSanitizer's runtime (compiler-rt's sanitizer/tsan_interface.h).
void __tsan_acquire(void *addr);
void __tsan_release(void *addr);

const bool cthreadsanitizer_enabled = true;
void cthreadsanitizer_acquire(void *address) { __tsan_acquire(address); }
void cthreadsanitizer_release(void *address) { __tsan_release(address); }
#else
const bool cthreadsanitizer_enabled = false;
void cthreadsanitizer_acquire(void *address) { (void)address; }
void cthreadsanitizer_release(void *address) { (void)address; }
#endif
