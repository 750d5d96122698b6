#include "CCPUFeatures.h"

bool ccpufeatures_has_x86_64_v3(void) {
#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
    // The compiler's cpuid reading also checks XGETBV, so an OS that does not save
    // the YMM registers reports no AVX.
    __builtin_cpu_init();
    return __builtin_cpu_supports("x86-64-v3");
#else
    return false;
#endif
}
