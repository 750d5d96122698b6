#ifndef CTHREADSANITIZER_H
#define CTHREADSANITIZER_H

#include <stdbool.h>

// Happens-before annotations for ThreadSanitizer, for HTTP's Locked.
//
// Synchronization.Mutex on Linux hands a contended lock to the next thread
// inside the kernel (a priority-inheriting futex, in the uninstrumented
// libswiftSynchronization), so ThreadSanitizer sees no acquire after a
// contended lock and reports every access under it as a race.
//
// Whether ThreadSanitizer is on is decided where this target's C file is
// compiled: `swift build --sanitize=thread` compiles C targets with
// `-fsanitize=thread`, but Swift's Clang importer does not see that flag, so
// a header cannot decide it (and a weak reference to the runtime, tried
// first, is bound to the executable's base address, not null, by the linker
// in a normal build).

/// True when this target was compiled with `-fsanitize=thread`; callers test
/// it first, so a normal build pays one load and a branch, not a call.
extern const bool cthreadsanitizer_enabled;

/// Tells ThreadSanitizer this thread now holds the lock at `address`.
void cthreadsanitizer_acquire(void *address);

/// Tells ThreadSanitizer this thread is about to release the lock at `address`.
void cthreadsanitizer_release(void *address);

#endif
