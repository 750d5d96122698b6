#include "CFastFloat.h"

#include <fast_float/fast_float.h>

extern "C" size_t cff_parse_double(const char *first, const char *last, double *out) {
    double value = 0;
    auto result = fast_float::from_chars(first, last, value, fast_float::chars_format::general);
    if (result.ec != std::errc()) {
        *out = 0;
        return 0;
    }
    *out = value;
    return static_cast<size_t>(result.ptr - first);
}
