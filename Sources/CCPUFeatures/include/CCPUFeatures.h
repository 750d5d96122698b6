#ifndef CCPUFEATURES_H
#define CCPUFEATURES_H

#include <stdbool.h>

// What the CPU running the program can execute, for the losses' choice of
// kernels (Losses' KernelPath). C because Swift has no cpuid.

/// True when the CPU (and the OS, for the wide registers' state) supports
/// everything `-target-cpu haswell` lets the compiler emit: x86-64-v3, that is
/// AVX, AVX2, FMA, BMI1, BMI2, F16C, LZCNT and MOVBE. Always false off x86-64.
bool ccpufeatures_has_x86_64_v3(void);

#endif
