#!/usr/bin/env python3
"""Writes Tests/LossesTests/Fixtures/image_losses.json: inputs and float64
reference answers for the image losses and scores of issue #11: focal
(torchvision.ops.sigmoid_focal_loss), dice (MONAI DiceLoss), psnr (TorchMetrics
PeakSignalNoiseRatio) and ssim (TorchMetrics StructuralSimilarityIndexMeasure).

    python3 -m venv .build/venv
    .build/venv/bin/pip install numpy mpmath          # the references
    .build/venv/bin/pip install torch torchvision monai torchmetrics  # optional cross-checks
    .build/venv/bin/python scripts/make_image_losses.py

The expected values do NOT come from those libraries. They come from
references written here from each library's documented formula:

- focal: mpmath at 60 digits, element by element, rounded once to a double
  (torchvision's float64 loses digits to cancellation for confident logits);
- dice: MONAI's documented formula `1 - (2·I + smooth_nr) / (D + smooth_dr)`
  in float64 with exactly rounded sums (math.fsum);
- psnr: TorchMetrics' `(2·ln R - ln(SSE / n))·10 / ln 10` in float64, fsum;
- ssim: TorchMetrics' Gaussian-window SSIM in float64 (reflection padding, the
  map averaged over every pixel), the 2-D window applied directly (no
  separable passes), each window's sum with math.fsum.

When torchvision, monai and torchmetrics import, every case is also run
through them in float64 and the largest relative difference per loss is
printed and recorded in the file's `cross_checks` (the run fails above 1e-10;
the Swift tests hold our answers to the references at 1e-12 relative).
`count` and `weight_sum` follow lossd's rules (see the README).
"""

import json
import math
import os
import sys

import mpmath
import numpy as np

SEED = 20261205
COMMAND = "python3 scripts/make_image_losses.py"
OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "LossesTests", "Fixtures", "image_losses.json")
REDUCTIONS = ("mean", "sum", "none")
mpmath.mp.dps = 60
rng = np.random.default_rng(SEED)


def number(x):
    x = float(x)
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return x


def tensor_json(a):
    a = np.asarray(a, dtype=np.float64)
    return {"shape": list(a.shape), "data": [number(v) for v in a.reshape(-1).tolist()]}


def reduce(values, reduction, shape, weight_sum):
    values = np.asarray(values, dtype=np.float64)
    if reduction == "none":
        return values.reshape(shape)
    total = math.fsum(values.reshape(-1).tolist())
    return np.float64(total if reduction == "sum" else total / weight_sum)


def case(loss, name, pred, target, options, expected, count, weight_sum):
    """A case as the golden files write one: the request's members at the top level (so the end-to-end
    tests send it as it is), with name, loss and expected beside them."""
    options = {k: (tensor_json(v) if isinstance(v, np.ndarray) else v) for k, v in options.items() if v is not None}
    return dict({"name": name, "loss": loss, "predictions": tensor_json(pred), "targets": tensor_json(target)},
                **options,
                expected={"loss": tensor_json(expected), "count": int(count), "weight_sum": number(weight_sum)})


def reference_only(c):
    """Marks a case where the library itself loses digits: only the exact reference is trusted."""
    c["expected"]["reference_only"] = True
    return c


# ---------------------------------------------------------------- focal

def focal_exact(x, t, alpha, gamma):
    """One element of sigmoid_focal_loss, exactly (mpmath), rounded once."""
    x, t = mpmath.mpf(float(x)), mpmath.mpf(float(t))
    # p = σ(x) and 1 - p = σ(-x) each computed directly, so nothing saturates even at x = ±700.
    p, q = 1 / (1 + mpmath.exp(-x)), 1 / (1 + mpmath.exp(x))
    ce = t * mpmath.log1p(mpmath.exp(-x)) + (1 - t) * mpmath.log1p(mpmath.exp(x))  # -t·log p - (1-t)·log(1-p)
    one_minus_p_t = (1 - t) * p + t * q  # 1 - (p·t + (1 - p)(1 - t))
    loss = ce * one_minus_p_t ** mpmath.mpf(gamma)
    if alpha >= 0:
        loss = (alpha * t + (1 - alpha) * (1 - t)) * loss
    return loss


def focal_case(name, x, t, alpha=None, gamma=None, reduction=None):
    a = 0.25 if alpha is None else alpha
    g = 2.0 if gamma is None else gamma
    exact = [focal_exact(xi, ti, a, g) for xi, ti in zip(x.reshape(-1), t.reshape(-1))]
    n = x.size
    if reduction == "none":
        expected = np.array([float(v) for v in exact]).reshape(x.shape)
    else:
        total = mpmath.fsum(exact)
        expected = np.float64(float(total if reduction == "sum" else total / n))
    return case("focal", name, x, t, {"alpha": alpha, "gamma": gamma, "reduction": reduction}, expected, n, n)


def focal_cases():
    cases = []
    shapes = {"N": [9], "NC": [4, 3], "NCHW": [2, 3, 4, 5]}
    for shape_name, shape in shapes.items():
        for reduction in (None,) + REDUCTIONS:
            x = rng.normal(0, 2.5, shape)
            t = (rng.random(shape) < 0.3).astype(np.float64)
            cases.append(focal_case(f"focal_{shape_name}_{reduction or 'default'}", x, t, reduction=reduction))
    for alpha, gamma in [(0.5, 2.0), (0.75, 0.0), (-1.0, 2.0), (0.25, 1.0), (0.25, 0.5), (0.0, 3.0), (1.0, 5.0)]:
        for reduction in ("mean", "none"):
            x = rng.normal(0, 3, [3, 2, 3])
            t = (rng.random([3, 2, 3]) < 0.5).astype(np.float64)
            cases.append(focal_case(f"focal_alpha{alpha}_gamma{gamma}_{reduction}", x, t, alpha, gamma, reduction))
    x = rng.normal(0, 2, [2, 5])
    t = rng.random([2, 5])
    cases.append(focal_case("focal_soft_targets_none", x, t, reduction="none"))
    x = np.array(1.5)
    cases.append(focal_case("focal_scalar", x, np.array(1.0)))
    # Confident logits: torchvision's 1 - p_t cancels; the exact value does not.
    x = np.array([30.0, -30.0, 12.0, -12.0, 0.0, 40.0, -40.0, 700.0, -700.0, 7.5])
    t = np.array([1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 1.0, 0.0, 1.0])
    cases.append(reference_only(focal_case("focal_confident_logits_none", x, t, reduction="none")))
    return cases


# ---------------------------------------------------------------- dice

def softmax_over(x, axis):
    m = x.max(axis=axis, keepdims=True)
    e = np.exp(x - m)
    return e / e.sum(axis=axis, keepdims=True)


def sigmoid_of(x):
    return np.where(x >= 0, 1 / (1 + np.exp(-np.abs(x))), np.exp(-np.abs(x)) / (1 + np.exp(-np.abs(x))))


def dice_reference(x, target, sigmoid=False, softmax=False, include_background=True, squared_pred=False,
                   jaccard=False, smooth_nr=1e-5, smooth_dr=1e-5, batch=False, weight=None, reduction="mean"):
    """MONAI DiceLoss's documented formula, float64, exact sums."""
    p = x.copy()
    channels = p.shape[1]
    if sigmoid:
        p = sigmoid_of(p)
    if softmax and channels > 1:
        p = softmax_over(p, 1)
    if target.shape != p.shape:  # class indices, (N, d...) or (N, 1, d...)
        idx = target.reshape((p.shape[0],) + p.shape[2:]).astype(int)
        target = np.stack([(idx == c).astype(np.float64) for c in range(channels)], axis=1)
    if not include_background and channels > 1:
        p, target = p[:, 1:], target[:, 1:]
    n, c = p.shape[:2]
    p2, t2 = p.reshape(n, c, -1), target.reshape(n, c, -1)
    if batch:
        p2 = p2.transpose(1, 0, 2).reshape(c, -1)[None]
        t2 = t2.transpose(1, 0, 2).reshape(c, -1)[None]
    f = np.zeros(p2.shape[:2])
    for i in range(p2.shape[0]):
        for k in range(c):
            pi, ti = p2[i, k], t2[i, k]
            inter = math.fsum((pi * ti).tolist())
            if squared_pred:
                den = math.fsum((pi * pi).tolist()) + math.fsum((ti * ti).tolist())
            else:
                den = math.fsum(pi.tolist()) + math.fsum(ti.tolist())
            if jaccard:
                den = 2.0 * (den - inter)
            f[i, k] = 1.0 - (2.0 * inter + smooth_nr) / (den + smooth_dr)
    if weight is not None and c != 1:
        w = np.full(c, float(weight)) if np.ndim(weight) == 0 else np.asarray(weight, dtype=np.float64)
        f = f * w
    if batch:
        f = f[0]
    shape = list(f.shape) + [1] * (x.ndim - 2)
    terms = f.size
    return reduce(f, reduction, shape, terms), n * c * int(np.prod(p.shape[2:])), terms


def dice_case(name, x, target, **options):
    expected, count, terms = dice_reference(x, target, **options)
    json_options = dict(options)
    if "weight" in json_options and json_options["weight"] is not None:
        json_options["weight"] = np.asarray(json_options["weight"], dtype=np.float64)
    result = case("dice", name, x, target, json_options, expected, count, terms)
    if options.get("squared_pred"):
        # MONAI 1.6 computes I = Σ p·t there as (‖p‖² + ‖t‖² - ‖p - t‖²) / 2 from rounded norms, which cancels.
        reference_only(result)
    return result


def dice_cases():
    cases = []
    n, c, h, w = 2, 3, 4, 5
    for reduction in REDUCTIONS:
        x = rng.random([n, c, h, w])
        t = (rng.random([n, c, h, w]) < 0.4).astype(np.float64)
        cases.append(dice_case(f"dice_probabilities_mask_{reduction}", x, t, reduction=reduction))
    variants = [
        {"softmax": True}, {"sigmoid": True}, {"softmax": True, "include_background": False},
        {"sigmoid": True, "squared_pred": True}, {"softmax": True, "jaccard": True},
        {"softmax": True, "squared_pred": True, "jaccard": True}, {"softmax": True, "batch": True},
        {"sigmoid": True, "batch": True, "include_background": False},
        {"softmax": True, "smooth_nr": 0.0, "smooth_dr": 1e-6}, {"softmax": True, "smooth_nr": 1.0, "smooth_dr": 1.0},
        {"softmax": True, "weight": [0.2, 1.0, 3.0]}, {"softmax": True, "weight": 2.5},
        {"softmax": True, "include_background": False, "weight": [0.5, 2.0]},
        {"softmax": True, "batch": True, "weight": [1.0, 0.0, 2.0]},
    ]
    for i, options in enumerate(variants):
        for reduction in ("mean", "none"):
            x = rng.normal(0, 2, [n, c, h, w])
            idx = rng.integers(0, c, [n, h, w]).astype(np.float64)
            label = "_".join(f"{k}{'' if v is True else v}" for k, v in options.items()).replace(" ", "")
            cases.append(dice_case(f"dice_{i}_{label}_indices_{reduction}", x, idx, reduction=reduction, **options))
    # Index targets written (N, 1, H, W), one-hot targets, soft targets.
    x = rng.normal(0, 1, [2, 4, 3, 3])
    idx = rng.integers(0, 4, [2, 1, 3, 3]).astype(np.float64)
    cases.append(dice_case("dice_indices_N1HW_softmax_none", x, idx, softmax=True, reduction="none"))
    onehot = np.stack([(idx[:, 0] == k).astype(np.float64) for k in range(4)], axis=1)
    cases.append(dice_case("dice_onehot_softmax_none", x, onehot, softmax=True, reduction="none"))
    soft = rng.random([2, 4, 3, 3])
    cases.append(dice_case("dice_soft_targets_sigmoid_sum", x, soft, sigmoid=True, reduction="sum"))
    # One channel (binary segmentation): softmax and include_background are ignored, as MONAI.
    x1 = rng.normal(0, 2, [3, 1, 4, 4])
    m1 = (rng.random([3, 1, 4, 4]) < 0.5).astype(np.float64)
    cases.append(dice_case("dice_one_channel_sigmoid_none", x1, m1, sigmoid=True, reduction="none"))
    cases.append(dice_case("dice_one_channel_softmax_ignored", rng.random([3, 1, 4, 4]), m1, softmax=True,
                           include_background=False, weight=5.0))
    # 1-D and 3-D spatial maps.
    x = rng.normal(0, 1, [2, 3, 7])
    cases.append(dice_case("dice_1d_softmax", x, rng.integers(0, 3, [2, 7]).astype(np.float64), softmax=True))
    x = rng.normal(0, 1, [1, 2, 3, 4, 2])
    cases.append(dice_case("dice_3d_softmax_none", x, rng.integers(0, 2, [1, 3, 4, 2]).astype(np.float64),
                           softmax=True, reduction="none"))
    # A channel absent from both: only the smoothing terms remain (1 - 1e-5/1e-5 = 0).
    x = np.zeros([1, 2, 2, 2])
    x[:, 0] = 1.0
    cases.append(dice_case("dice_absent_class_none", x, np.zeros([1, 2, 2]), reduction="none"))
    return cases


# ---------------------------------------------------------------- psnr

def clamp_to(a, data_range):
    """TorchMetrics' torch.clamp of the inputs to a [min, max] data_range, and R; a number is R itself."""
    bounds = np.asarray(data_range, dtype=np.float64)
    if bounds.shape == (2,):
        low, high = float(bounds[0]), float(bounds[1])
        return np.clip(a, low, high), high - low
    return a, float(bounds)


def psnr_reference(p, t, data_range, dim=None, reduction="mean", base=10.0):
    p, r = clamp_to(p, data_range)
    t, _ = clamp_to(t, data_range)
    if dim is not None and np.ndim(dim) == 0:
        dim = [int(dim)]
    axes = tuple(range(p.ndim)) if dim is None else tuple(d % p.ndim for d in dim)
    kept = [a for a in range(p.ndim) if a not in axes]
    e = np.moveaxis((p - t) ** 2, kept, list(range(len(kept))))
    out_shape = [p.shape[a] for a in kept]
    e = e.reshape(int(np.prod(out_shape)) if kept else 1, -1)
    n_obs = e.shape[1]
    def log(v):  # torch.log: log(0) = -inf
        return math.log(v) if v > 0 else -math.inf

    scores = np.array([(2 * log(r) - log(math.fsum(row.tolist()) / n_obs)) * (10 / math.log(base))
                       for row in e])
    if dim is None:
        return np.float64(scores[0]), p.size, 1
    return reduce(scores, "mean" if reduction == "elementwise_mean" else reduction, out_shape, scores.size), \
        p.size, scores.size


def psnr_case(name, p, t, data_range, dim=None, reduction=None, base=None):
    expected, count, weight_sum = psnr_reference(p, t, data_range, dim, reduction or "mean", 10.0 if base is None else base)
    return case("psnr", name, p, t, {"data_range": data_range, "base": base, "dim": dim, "reduction": reduction},
                expected, count, weight_sum)


def psnr_more_cases():
    """base, [min, max] data ranges (clamping) and elementwise_mean, from their own generator so the cases
    above keep their inputs."""
    g = np.random.default_rng(SEED + 1)
    cases = []
    p = g.random([2, 3, 4, 5]) * 1.4 - 0.2  # overshoots [0, 1] on both sides
    t = np.clip(p + g.normal(0, 0.1, p.shape), -0.1, 1.1)
    cases.append(psnr_case("psnr_interval_0_1_clamps", p, t, data_range=[0.0, 1.0]))
    cases.append(psnr_case("psnr_interval_per_image_none", p, t, data_range=[0.0, 1.0], dim=[1, 2, 3],
                           reduction="none"))
    cases.append(psnr_case("psnr_interval_negative_low_sum", p, t, data_range=[-0.5, 0.5], dim=[0, 1],
                           reduction="sum"))
    cases.append(psnr_case("psnr_interval_everything_clamped_is_inf", p + 5, t + 7, data_range=[0.0, 1.0]))
    for base in (2.0, math.e, 0.5, 100.0):
        cases.append(psnr_case(f"psnr_base_{base:.4g}", p, t, data_range=1.0, base=base))
    cases.append(psnr_case("psnr_base_2_per_image_elementwise_mean", p, t, data_range=1.0, base=2.0, dim=[1, 2, 3],
                           reduction="elementwise_mean"))
    cases.append(psnr_case("psnr_dim_as_integer_none", p, t, data_range=1.0, dim=1, reduction="none"))
    b = np.round(g.random([2, 1, 5, 5]) * 300 - 20)
    cases.append(psnr_case("psnr_bytes_interval_0_255_per_image", b, np.round(b + g.normal(0, 6, b.shape)),
                           data_range=[0.0, 255.0], dim=[1, 2, 3], reduction="elementwise_mean"))
    return cases


def psnr_cases():
    cases = []
    p = rng.random([2, 3, 5, 6])
    t = np.clip(p + rng.normal(0, 0.05, p.shape), 0, 1)
    cases.append(psnr_case("psnr_range1", p, t, data_range=1.0))
    cases.append(psnr_case("psnr_range1_none_ignored", p, t, data_range=1.0, reduction="none"))
    for reduction in REDUCTIONS:
        cases.append(psnr_case(f"psnr_per_image_{reduction}", p, t, data_range=1.0, dim=[1, 2, 3], reduction=reduction))
    cases.append(psnr_case("psnr_per_channel_none", p, t, data_range=1.0, dim=[2, 3], reduction="none"))
    cases.append(psnr_case("psnr_negative_dims_none", p, t, data_range=1.0, dim=[-1, -2], reduction="none"))
    cases.append(psnr_case("psnr_dim0_none", p, t, data_range=2.0, dim=[0], reduction="none"))
    cases.append(psnr_case("psnr_dims_0_2_none", p, t, data_range=1.0, dim=[0, 2], reduction="none"))
    b = np.round(rng.random([1, 3, 4, 4]) * 255)
    bt = np.clip(b + np.round(rng.normal(0, 4, b.shape)), 0, 255)
    cases.append(psnr_case("psnr_bytes_255", b, bt, data_range=255.0))
    cases.append(psnr_case("psnr_vector_range2", rng.random([8]), rng.random([8]), data_range=2.0))
    cases.append(psnr_case("psnr_perfect_is_inf", p, p.copy(), data_range=1.0))
    for i in range(10):
        rank = int(rng.integers(1, 5))
        shape = [int(v) for v in rng.integers(1, 5, rank)]
        p = rng.random(shape) * 4 - 2
        t = p + rng.normal(0, 0.3, shape)
        dims = sorted(rng.choice(rank, int(rng.integers(1, rank + 1)), replace=False).tolist()) if i % 3 else None
        reduction = REDUCTIONS[i % 3] if dims else None
        cases.append(psnr_case(f"psnr_random_{i}_rank{rank}", p, t, data_range=float(rng.choice([1.0, 4.0, 255.0])),
                               dim=dims, reduction=reduction))
    return cases


# ---------------------------------------------------------------- ssim

def gaussian(size, sigma):
    d = np.arange((1 - size) / 2, (1 + size) / 2, 1.0)
    g = np.exp(-((d / sigma) ** 2) / 2)
    return g / g.sum()


def ssim_reference(p, t, sigma=1.5, k1=0.01, k2=0.03, data_range=None, reduction="mean", gaussian_kernel=True,
                   kernel_size=11):
    if data_range is None:
        data_range = max(float(p.max() - p.min()), float(t.max() - t.min()))
    else:
        interval = data_range
        p, data_range = clamp_to(p, interval)
        t, _ = clamp_to(t, interval)
    c1, c2 = (k1 * data_range) ** 2, (k2 * data_range) ** 2
    volumes = p.ndim == 5
    if gaussian_kernel:
        size = int(3.5 * sigma + 0.5) * 2 + 1
        g = gaussian(size, sigma)
    else:
        size = kernel_size
        g = np.full(size, 1.0 / size)
    half, size_half = (size - 1) // 2, (kernel_size - 1) // 2
    if volumes:
        # TorchMetrics 1.9 calls _reflection_pad_3d(x, pad_d, pad_w, pad_h), whose parameters are (pad_h, pad_w,
        # pad_d) and which pads (W, H, D) by its (first, second, third): so D and H get half the window, W gets
        # (kernel_size - 1) // 2, even for the Gaussian window.
        pads = [half, half, size_half if gaussian_kernel else half]
        window = np.einsum("i,j,k->ijk", g, g, g) if gaussian_kernel else np.full([size] * 3, 1.0 / size ** 3)
    else:
        pads = [half, half]
        window = np.outer(g, g) if gaussian_kernel else np.full([size] * 2, 1.0 / size ** 2)
    window = window.reshape(-1)
    n, c = p.shape[:2]
    spatial = p.shape[2:]
    # F.pad mode "reflect": the edge is not repeated; the window then slides over every valid position.
    widths = ((0, 0), (0, 0)) + tuple((q, q) for q in pads)
    p = np.pad(p, widths, mode="reflect")
    t = np.pad(t, widths, mode="reflect")
    out = [spatial[i] + 2 * pads[i] - size + 1 for i in range(len(spatial))]
    scores = []
    for i in range(n):
        values = []
        for k in range(c):
            for at in np.ndindex(*out):
                box = (i, k) + tuple(slice(a, a + size) for a in at)
                pp = p[box].reshape(-1)
                tt = t[box].reshape(-1)
                mu_p = math.fsum((window * pp).tolist())
                mu_t = math.fsum((window * tt).tolist())
                e_pp = math.fsum((window * (pp * pp)).tolist())
                e_tt = math.fsum((window * (tt * tt)).tolist())
                e_pt = math.fsum((window * (pp * tt)).tolist())
                s_pp = max(e_pp - mu_p * mu_p, 0.0)
                s_tt = max(e_tt - mu_t * mu_t, 0.0)
                s_pt = e_pt - mu_p * mu_t
                values.append(((2 * mu_p * mu_t + c1) * (2 * s_pt + c2))
                              / ((mu_p * mu_p + mu_t * mu_t + c1) * ((s_pp + s_tt) + c2)))
        scores.append(math.fsum(values) / len(values))
    return reduce(scores, "mean" if reduction == "elementwise_mean" else reduction, [n], n), \
        n * c * int(np.prod(spatial)), n


def ssim_case(name, p, t, sigma=None, k1=None, k2=None, data_range=None, reduction=None, gaussian_kernel=None,
              kernel_size=None):
    expected, count, weight_sum = ssim_reference(
        p, t, sigma or 1.5, 0.01 if k1 is None else k1, 0.03 if k2 is None else k2, data_range, reduction or "mean",
        True if gaussian_kernel is None else gaussian_kernel, 11 if kernel_size is None else kernel_size)
    return case("ssim", name, p, t, {"sigma": sigma, "k1": k1, "k2": k2, "data_range": data_range,
                                     "reduction": reduction, "gaussian_kernel": gaussian_kernel,
                                     "kernel_size": kernel_size}, expected, count, weight_sum)


def ssim_more_cases():
    """The uniform window, kernel_size, [min, max] data ranges (clamping), volumes (N, C, D, H, W) and
    elementwise_mean, from their own generator so the cases above keep their inputs."""
    g = np.random.default_rng(SEED + 2)
    cases = []
    p = g.random([2, 2, 9, 10])
    t = np.clip(p + g.normal(0, 0.15, p.shape), 0, 1)
    for size in (1, 3, 7, 11):
        cases.append(ssim_case(f"ssim_uniform_kernel_{size}_none", p, t, gaussian_kernel=False, kernel_size=size,
                               reduction="none"))
    cases.append(ssim_case("ssim_gaussian_ignores_kernel_size_5", p, t, kernel_size=5, data_range=1.0))
    cases.append(ssim_case("ssim_elementwise_mean", p, t, reduction="elementwise_mean"))
    over = p * 1.4 - 0.2
    cases.append(ssim_case("ssim_interval_0_1_clamps_none", over, np.clip(over + g.normal(0, 0.1, p.shape), -0.3, 1.3),
                           data_range=[0.0, 1.0], reduction="none"))
    cases.append(ssim_case("ssim_interval_uniform_sum", over, t, data_range=[-0.1, 0.9], gaussian_kernel=False,
                           kernel_size=5, reduction="sum"))
    v = g.random([2, 1, 6, 7, 6])
    vt = np.clip(v + g.normal(0, 0.1, v.shape), 0, 1)
    cases.append(ssim_case("ssim_volume_uniform_3_none", v, vt, gaussian_kernel=False, kernel_size=3, reduction="none"))
    cases.append(ssim_case("ssim_volume_uniform_5_interval", v, vt, gaussian_kernel=False, kernel_size=5,
                           data_range=[0.0, 1.0]))
    # The Gaussian window (11 taps for sigma 1.5) with W padded by (kernel_size - 1) // 2, as TorchMetrics.
    w = g.random([1, 2, 6, 6, 11])
    cases.append(ssim_case("ssim_volume_gaussian_default", w, np.clip(w + g.normal(0, 0.1, w.shape), 0, 1),
                           reduction="none"))
    w = g.random([1, 1, 4, 5, 6])
    cases.append(ssim_case("ssim_volume_gaussian_sigma_0.5_kernel_5", w, np.clip(w + g.normal(0, 0.1, w.shape), 0, 1),
                           sigma=0.5, kernel_size=5, data_range=1.0))
    cases.append(ssim_case("ssim_volume_gaussian_sigma_0.5_kernel_11_wider_w", w, np.clip(w * 0.8 + 0.1, 0, 1),
                           sigma=0.5, reduction="none"))
    return cases


def ssim_cases():
    cases = []
    p = rng.random([2, 3, 13, 14])
    t = np.clip(p + rng.normal(0, 0.1, p.shape), 0, 1)
    for reduction in (None,) + REDUCTIONS:
        cases.append(ssim_case(f"ssim_default_{reduction or 'default'}", p, t, reduction=reduction))
    cases.append(ssim_case("ssim_range1_none", p, t, data_range=1.0, reduction="none"))
    cases.append(ssim_case("ssim_k1_k2", p, t, k1=0.02, k2=0.05, data_range=1.0, reduction="none"))
    small = rng.random([1, 1, 6, 7])
    cases.append(ssim_case("ssim_smallest_image_6", small, np.clip(small * 0.9 + 0.05, 0, 1)))
    cases.append(ssim_case("ssim_sigma_0.5_kernel_5", rng.random([2, 1, 3, 4]), rng.random([2, 1, 3, 4]), sigma=0.5,
                           reduction="none"))
    cases.append(ssim_case("ssim_sigma_2.2_kernel_17", rng.random([1, 2, 18, 17]), rng.random([1, 2, 18, 17]),
                           sigma=2.2, data_range=1.0))
    b = np.round(rng.random([1, 3, 12, 12]) * 255)
    cases.append(ssim_case("ssim_bytes_255", b, np.clip(b + np.round(rng.normal(0, 10, b.shape)), 0, 255),
                           data_range=255.0, reduction="none"))
    cases.append(ssim_case("ssim_identical_is_1", p, p.copy(), reduction="none"))
    for i in range(8):
        shape = [int(rng.integers(1, 3)), int(rng.integers(1, 4)), int(rng.integers(6, 10)), int(rng.integers(6, 10))]
        p = rng.random(shape)
        t = np.clip(p + rng.normal(0, 0.2, shape), 0, 1)
        options = [{}, {"data_range": 1.0}, {"sigma": 1.0}, {"k1": 0.0, "k2": 0.1}][i % 4]
        cases.append(ssim_case(f"ssim_random_{i}", p, t, reduction=REDUCTIONS[i % 3], **options))
    flat = np.full([1, 1, 12, 12], 0.5)
    flat[0, 0, 0, 0] = 0.75
    cases.append(ssim_case("ssim_flat_regions_clamped", flat, np.full([1, 1, 12, 12], 0.5), data_range=1.0))
    return cases


# ---------------------------------------------------------------- cross-checks

def cross_check(cases):
    """The largest relative difference from the libraries themselves, per loss (None when one does not import)."""
    try:
        import torch
    except ImportError:
        return {}
    torch.set_default_dtype(torch.float64)
    worst = {}
    versions = {"torch": torch.__version__}

    def T(j):
        return torch.tensor([float(v) for v in j["data"]], dtype=torch.float64).reshape(j["shape"])  # "inf" too

    for c in cases:
        o = {k: v for k, v in c.items() if k not in ("name", "loss", "predictions", "targets", "expected")}
        x, t = T(c["predictions"]), T(c["targets"])
        reduction = o.get("reduction")
        try:
            if c["loss"] == "focal":
                import torchvision
                versions["torchvision"] = torchvision.__version__
                got = torchvision.ops.sigmoid_focal_loss(x, t, alpha=o.get("alpha", 0.25), gamma=o.get("gamma", 2.0),
                                                         reduction=reduction or "mean")
            elif c["loss"] == "dice":
                import monai
                import warnings
                versions["monai"] = monai.__version__
                channels = x.shape[1]
                index = list(t.shape) != list(x.shape)
                if index and t.dim() == x.dim() - 1:
                    t = t.unsqueeze(1)
                w = o.get("weight")
                w = None if w is None else (T(w) if w["shape"] else float(w["data"][0]))
                loss = monai.losses.DiceLoss(
                    include_background=o.get("include_background", True), to_onehot_y=index,
                    sigmoid=o.get("sigmoid", False), softmax=o.get("softmax", False),
                    squared_pred=o.get("squared_pred", False), jaccard=o.get("jaccard", False),
                    reduction=reduction or "mean", smooth_nr=o.get("smooth_nr", 1e-5),
                    smooth_dr=o.get("smooth_dr", 1e-5), batch=o.get("batch", False), weight=w)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    got = loss(x, t)
            elif c["loss"] == "psnr":
                import torchmetrics
                versions["torchmetrics"] = torchmetrics.__version__
                dr = o.get("data_range")
                dr = tuple(dr) if isinstance(dr, list) else dr
                red = {"mean": "elementwise_mean", "elementwise_mean": "elementwise_mean", "sum": "sum", "none": "none",
                       None: "elementwise_mean"}[reduction]
                import warnings
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    metric = torchmetrics.image.PeakSignalNoiseRatio(data_range=dr, dim=o.get("dim"), reduction=red,
                                                                     base=o.get("base", 10.0))
                    got = metric(x, t)
            else:
                import torchmetrics
                versions["torchmetrics"] = torchmetrics.__version__
                red = {"mean": "elementwise_mean", "elementwise_mean": "elementwise_mean", "sum": "sum", "none": "none",
                       None: "elementwise_mean"}[reduction]
                dr = o.get("data_range")
                dr = tuple(dr) if isinstance(dr, list) else dr
                metric = torchmetrics.image.StructuralSimilarityIndexMeasure(
                    sigma=o.get("sigma", 1.5), k1=o.get("k1", 0.01), k2=o.get("k2", 0.03),
                    data_range=dr, reduction=red, gaussian_kernel=o.get("gaussian_kernel", True),
                    kernel_size=o.get("kernel_size", 11))
                got = metric(x, t)
        except ImportError:
            continue
        got = np.asarray(got.detach().numpy(), dtype=np.float64).reshape(-1)
        want = np.asarray(T(c["expected"]["loss"]).numpy()).reshape(-1)
        if got.shape != want.shape:
            raise SystemExit(f"{c['name']}: the library's shape {got.shape} differs from the reference's {want.shape}")
        both_inf = np.isinf(want) & (got == want)
        with np.errstate(invalid="ignore"):  # inf - inf where both are inf
            diff = np.where(both_inf, 0.0, np.abs(got - want) / np.maximum(np.abs(want), 1e-300))
        hard = c["expected"].get("reference_only", False)
        key = c["loss"] + (" (reference only)" if hard else "")
        worst[key] = max(worst.get(key, 0.0), float(diff.max()))
        if not hard and diff.max() > 1e-10:
            raise SystemExit(f"{c['name']}: the library differs from the reference by {diff.max():.3g} relative")
    return {"versions": versions, "max_relative_difference": worst}


def carry_over(checks):
    """Keeps the previous file's figure for a loss whose library did not import this time (torchvision has no
    wheel for every torch), saying so: its cases are drawn first from the same seed, so they did not change."""
    try:
        with open(OUT) as f:
            previous = json.load(f).get("cross_checks", {})
    except (OSError, ValueError):
        return
    old = dict(previous.get("max_relative_difference", {}), **previous.get("carried_over", {}).get("max_relative_difference", {}))
    old_versions = dict(previous.get("versions", {}), **previous.get("carried_over", {}).get("versions", {}))
    library = {"focal": "torchvision", "dice": "monai", "psnr": "torchmetrics", "ssim": "torchmetrics"}
    now = checks.setdefault("max_relative_difference", {})
    kept = {k: v for k, v in old.items() if k not in now}
    if kept:
        names = {library[k.split(" ")[0]] for k in kept}
        checks["carried_over"] = {
            "note": "not importable in this run; these figures are from the previous run, on the same cases",
            "versions": {k: v for k, v in old_versions.items() if k in names or k == "torch"},
            "max_relative_difference": kept}


def main():
    cases = focal_cases() + dice_cases() + psnr_cases() + ssim_cases() + psnr_more_cases() + ssim_more_cases()
    checks = cross_check(cases)
    carry_over(checks)
    for loss, diff in checks.get("max_relative_difference", {}).items():
        print(f"cross-check {loss}: max relative difference {diff:.3g}")
    document = {
        "generator": COMMAND,
        "numpy_version": np.__version__,
        "mpmath_version": mpmath.__version__,
        "python_version": sys.version.split()[0],
        "seed": SEED,
        "note": "Expected values from float64 references written in the generator from each library's "
                "documented formula (focal exactly, with mpmath), NOT from the libraries; cross_checks records "
                "how far torchvision, MONAI and TorchMetrics themselves were from them. Cases marked reference_only are "
                "where the library loses digits: focal's confident logits (1 - p_t cancels), dice with "
                "squared_pred (MONAI 1.6 forms the intersection from norms, which cancels).",
        "cross_checks": checks,
        "cases": cases,
    }
    with open(OUT, "w") as f:
        json.dump(document, f, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {len(cases)} cases to {os.path.normpath(OUT)}")


if __name__ == "__main__":
    main()
