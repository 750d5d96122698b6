#ifndef CFASTFLOAT_H
#define CFASTFLOAT_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Converts the decimal number at [first, last) to the nearest double with
/// fast_float (Eisel–Lemire with an exact fallback: correctly rounded for
/// every input, however many digits). The caller has already checked the
/// token against RFC 8259's number grammar; this only converts it.
/// Returns the number of bytes used (0 if no number starts at `first`).
/// Overflow gives ±inf (the caller decides that is an error); underflow
/// rounds to a subnormal or ±0 as IEEE 754 says.
size_t cff_parse_double(const char *first, const char *last, double *out);

#ifdef __cplusplus
}
#endif

#endif
