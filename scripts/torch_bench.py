#!/usr/bin/env python3
"""Elements per second of torch.nn.functional's losses (float64, one thread) on
the same cases as the Swift LossesBenchmark, printed side by side with it: lossd
with the kernels its CPU check picks (AVX2 where the CPU has it) and forced to the
baseline ones (LOSSD_KERNELS=baseline), each with its ratio to torch.

    swift build -c release --product LossesBenchmark
    pip install torch numpy
    python3 scripts/torch_bench.py [path/to/LossesBenchmark]
"""

import os
import subprocess
import sys
import time

import torch
import torch.nn.functional as F

torch.set_num_threads(1)
torch.set_default_dtype(torch.float64)
g = torch.Generator().manual_seed(42)

ELEMENTS = 1_000_000
ROUNDS = 3
N, C = 100_000, 10
logits = torch.rand(N, C, generator=g) * 10 - 5
indices = torch.randint(0, C, (N,), generator=g)
probabilities = torch.rand(N, C, generator=g)
segmentation = torch.rand(4, C, 125, 200, generator=g) * 10 - 5
segmentation_indices = torch.randint(0, C, (4, 125, 200), generator=g)
flat = torch.rand(ELEMENTS, generator=g) * 10 - 5
flat_probabilities = torch.rand(ELEMENTS, generator=g) * 0.998 + 0.001
flat_targets = torch.rand(ELEMENTS, generator=g)
flat_weight = torch.rand(ELEMENTS, generator=g)
class_weight = torch.rand(C, generator=g)
# The service benchmark's segmentation payloads (bench/), at their own sizes.
served_segmentation = torch.rand(2, 5, 64, 64, generator=g) * 10 - 5
served_indices = torch.randint(0, 5, (2, 64, 64), generator=g)
served_indices[torch.rand(2, 64, 64, generator=g) < 0.05] = 255
served_class_weight = torch.rand(5, generator=g) * 1.5 + 0.5
served_binary = torch.rand(4, 1, 128, 128, generator=g) * 10 - 5
served_binary_targets = torch.randint(0, 2, (4, 1, 128, 128), generator=g).double()

# name, prediction elements per run, the run
CASES = [
    ("ce index (1e5, 10) mean", ELEMENTS, lambda: F.cross_entropy(logits, indices)),
    ("ce index (1e5, 10) weight smoothing mean", ELEMENTS,
     lambda: F.cross_entropy(logits, indices, weight=class_weight, label_smoothing=0.1)),
    ("ce probabilities (1e5, 10) mean", ELEMENTS, lambda: F.cross_entropy(logits, probabilities)),
    ("ce index (4, 10, 125, 200) mean", ELEMENTS, lambda: F.cross_entropy(segmentation, segmentation_indices)),
    ("ce index (1e5, 10) none", ELEMENTS, lambda: F.cross_entropy(logits, indices, reduction="none")),
    ("bce probabilities (1e6) mean", ELEMENTS, lambda: F.binary_cross_entropy(flat_probabilities, flat_targets)),
    ("bce logits (1e5, 10) pos_weight mean", ELEMENTS,
     lambda: F.binary_cross_entropy_with_logits(flat.view(N, C), flat_targets.view(N, C), pos_weight=class_weight)),
    ("mse (1e6) mean", ELEMENTS, lambda: F.mse_loss(flat, flat_targets)),
    ("mse (1e6) weight mean", ELEMENTS, lambda: F.mse_loss(flat, flat_targets, weight=flat_weight)),
    ("mse (1e6) none", ELEMENTS, lambda: F.mse_loss(flat, flat_targets, reduction="none")),
    ("served ce index (2, 5, 64, 64) weight ignore_index mean", served_segmentation.numel(),
     lambda: F.cross_entropy(served_segmentation, served_indices, weight=served_class_weight, ignore_index=255)),
    ("served bce logits (4, 1, 128, 128) targets 0/1 mean", served_binary.numel(),
     lambda: F.binary_cross_entropy_with_logits(served_binary, served_binary_targets)),
]


def torch_rates(repeats=7):
    rates = {}
    with torch.no_grad():
        for name, count, run in CASES:
            best = float("inf")
            for _ in range(repeats):
                start = time.thread_time()  # CPU time: the shared machine's other load is not counted
                run()
                best = min(best, time.thread_time() - start)
            rates[name] = count / best
    return rates


def swift_rates(binary, kernels=None):
    """The LossesBenchmark's rates; `kernels` forces a KernelPath (LOSSD_KERNELS), else the CPU's."""
    if not os.path.exists(binary):
        return {}
    env = dict(os.environ)
    env.pop("LOSSD_KERNELS", None)
    if kernels:
        env["LOSSD_KERNELS"] = kernels
    out = subprocess.run([binary], check=True, capture_output=True, text=True, env=env).stdout
    return {name: float(rate) for name, rate in (line.split("\t") for line in out.splitlines() if "\t" in line)}


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    binary = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", ".build", "release", "LossesBenchmark")
    # The machine may be shared: alternate them a few times and keep each case's best.
    # lossd twice: with the kernels the CPU picks (AVX2 where it has it) and forced to the baseline.
    swift, baseline, ours = {}, {}, {}
    for _ in range(ROUNDS):
        for name, rate in swift_rates(binary).items():
            swift[name] = max(rate, swift.get(name, 0))
        for name, rate in swift_rates(binary, "baseline").items():
            baseline[name] = max(rate, baseline.get(name, 0))
        for name, rate in torch_rates().items():
            ours[name] = max(rate, ours.get(name, 0))
    print(f"torch {torch.__version__} (CPU capability {torch.backends.cpu.get_cpu_capability()}), float64, "
          f"1 thread; elements/s at 10^6 elements (best of {ROUNDS}x7 runs, thread CPU time)")
    print(f"{'case':56} {'lossd':>12} {'baseline':>12} {'torch':>12} {'ratio':>7} {'base':>7}")

    def rate(value):
        return f"{value / 1e6:9.1f} M/s" if value else "         n/a"

    def ratio(value, t):
        return f"{value / t:6.2f}x" if value else "    n/a"

    for name, _, _ in CASES:
        s, b, t = swift.get(name), baseline.get(name), ours[name]
        print(f"{name:56} {rate(s)} {rate(b)} {rate(t)} {ratio(s, t)} {ratio(b, t)}")


if __name__ == "__main__":
    main()
