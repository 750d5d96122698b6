#!/usr/bin/env python3
"""Writes Tests/LossesTests/Fixtures/golden.json: inputs and PyTorch's float64
answers for every option, shape family, reduction and edge case of the Losses
module (cross entropy, binary cross entropy, mean squared error).

    pip install torch numpy
    python3 scripts/make_golden.py

The Swift tests compare against the file at 1e-12 relative (1e-15 absolute);
CI does not need torch. `count` and `weight_sum` are derived here from the
inputs by the contract's rules 6 and 7 (PyTorch does not report them).

`from_logits: false` in CE is lossd's extension (contract rule 3): its answers
come from ATen's cross-entropy formulas (nll_loss, label smoothing, weights)
reproduced here with log_softmax replaced by clamp(log p, min=-100); the
reproduction is checked against F.cross_entropy on logits before use.
"""

import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

SEED = 20260529
COMMAND = "python3 scripts/make_golden.py"
OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "LossesTests", "Fixtures", "golden.json")

torch.set_default_dtype(torch.float64)
rng = np.random.default_rng(SEED)


def number(x):
    x = float(x)
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return x  # json writes repr(x): the shortest string that reads back to the same double


def tensor_json(t):
    t = torch.as_tensor(t, dtype=torch.float64)
    return {"shape": list(t.shape), "data": [number(v) for v in t.reshape(-1).tolist()]}


def T(a):
    return torch.tensor(np.asarray(a, dtype=np.float64))


# ---------------------------------------------------------------- cross entropy

def ce_reference(logp, target, weight, ignore_index, label_smoothing, reduction, index_targets):
    """ATen's cross_entropy_loss (nll / label-smoothing / probability-target paths) on given log-probabilities."""
    class_dim = 0 if logp.dim() == 1 else 1
    n_classes = logp.shape[class_dim]
    w_view = None
    if weight is not None:
        shape = [1] * logp.dim()
        shape[class_dim] = n_classes
        w_view = weight.view(shape)
    if not index_targets:
        target_ = target
        if label_smoothing > 0:
            target_ = target * (1 - label_smoothing) + (label_smoothing / n_classes)
        prod = logp * target_ if w_view is None else logp * target_ * w_view
        if reduction == "mean":
            return -prod.sum() / (logp.numel() / n_classes)
        if reduction == "sum":
            return -prod.sum()
        return -prod.sum(class_dim)
    tgt = target.long()
    nll = F.nll_loss(logp, tgt, weight=weight, ignore_index=ignore_index, reduction=reduction)
    if label_smoothing <= 0:
        return nll
    ignore_mask = tgt == ignore_index
    smooth = -(logp.sum(class_dim) if w_view is None else (logp * w_view).sum(class_dim))
    smooth = smooth.masked_fill(ignore_mask, 0.0)
    if reduction == "mean":
        if weight is not None:
            ret = smooth.sum() / weight.gather(0, tgt.masked_select(~ignore_mask).flatten()).sum()
        else:
            ret = smooth.sum() / (~ignore_mask).sum()
    elif reduction == "sum":
        ret = smooth.sum()
    else:
        ret = smooth
    return (1 - label_smoothing) * nll + ret * (label_smoothing / n_classes)


def ce_case(name, pred, target, weight=None, ignore_index=-100, label_smoothing=0.0, from_logits=True,
            reduction="mean"):
    pred, target = T(pred), T(target)
    w = None if weight is None else T(weight)
    index_targets = target.shape != pred.shape
    if from_logits:
        expected = F.cross_entropy(pred, target.long() if index_targets else target, weight=w,
                                   ignore_index=ignore_index, label_smoothing=label_smoothing, reduction=reduction)
        # Our reproduction of ATen must agree with the real thing before it is trusted for probabilities.
        mine = ce_reference(torch.log_softmax(pred, 0 if pred.dim() == 1 else 1), target, w, ignore_index,
                            label_smoothing, reduction, index_targets)
        assert torch.allclose(mine, expected, rtol=1e-13, atol=1e-15, equal_nan=True), (name, mine, expected)
    else:
        logp = torch.clamp(torch.log(pred), min=-100)
        expected = ce_reference(logp, target, w, ignore_index, label_smoothing, reduction, index_targets)
    if index_targets:
        keep = target != ignore_index
        count = int(keep.sum())
        weight_sum = float(count) if w is None else float(w[target[keep].long()].sum())
    else:
        count = pred.numel() // (pred.shape[0] if pred.dim() == 1 else pred.shape[1])
        weight_sum = float(count)
    case = {"name": name, "loss": "ce", "predictions": tensor_json(pred), "targets": tensor_json(target),
            "ignore_index": ignore_index, "label_smoothing": label_smoothing, "from_logits": from_logits,
            "reduction": reduction,
            "expected": {"loss": tensor_json(expected), "count": count, "weight_sum": number(weight_sum)}}
    if w is not None:
        case["weight"] = tensor_json(w)
    return case


def ce_inputs(shape, from_logits, index_targets, ignore_mode, ignore_index):
    pred_shape = list(shape)
    classes = pred_shape[0] if len(pred_shape) == 1 else pred_shape[1]
    if from_logits:
        pred = rng.normal(0, 3, pred_shape)
    else:
        raw = rng.random(pred_shape) + 1e-3
        pred = raw / raw.sum(axis=0 if len(pred_shape) == 1 else 1, keepdims=True)
        if rng.random() < 0.5:  # not renormalised by the service, so not always normalised here
            pred = np.clip(pred * 1.3, 0, 1)
        pred.reshape(-1)[0] = 0.0  # log 0 clamps to -100
    position_shape = [] if len(pred_shape) == 1 else [pred_shape[0]] + pred_shape[2:]
    if index_targets:
        target = rng.integers(0, classes, position_shape).astype(np.float64)
        flat = target.reshape(-1)
        if ignore_mode == "some":
            flat[:: 3] = ignore_index
        elif ignore_mode == "all":
            flat[:] = ignore_index
        target = flat.reshape(position_shape)
    else:
        raw = rng.random(pred_shape)
        target = raw / raw.sum(axis=0 if len(pred_shape) == 1 else 1, keepdims=True)
    return pred, target


def cross_entropy_cases():
    cases = []
    shapes = {"C": [5], "NC": [4, 3], "NCd": [3, 4, 5], "NCdd": [2, 3, 2, 3]}
    for shape_name, shape in shapes.items():
        classes = shape[0] if len(shape) == 1 else shape[1]
        for from_logits in (True, False):
            for weighted in (False, True):
                for smoothing in (0.0, 0.2):
                    ignore_modes = ["none", "some", "all"] if len(shape) > 1 else ["none", "all"]
                    for ignore_mode in ignore_modes:
                        ignore_index = -100 if ignore_mode == "none" else (-1 if ignore_mode == "some" else 1)
                        pred, target = ce_inputs(shape, from_logits, True, ignore_mode, ignore_index)
                        weight = rng.random(classes) * 2 if weighted else None
                        for reduction in ("mean", "sum", "none"):
                            name = (f"ce index {shape_name} logits={from_logits} weight={weighted} "
                                    f"smoothing={smoothing} ignore={ignore_mode} {reduction}")
                            cases.append(ce_case(name, pred, target, weight, ignore_index, smoothing, from_logits,
                                                 reduction))
                    pred, target = ce_inputs(shape, from_logits, False, "none", -100)
                    weight = rng.random(classes) * 2 if weighted else None
                    for reduction in ("mean", "sum", "none"):
                        name = (f"ce probabilities {shape_name} logits={from_logits} weight={weighted} "
                                f"smoothing={smoothing} {reduction}")
                        cases.append(ce_case(name, pred, target, weight, -100, smoothing, from_logits, reduction))
    for reduction in ("mean", "sum", "none"):
        # Extreme logits: log-sum-exp must subtract the maximum.
        cases.append(ce_case(f"ce logits of ±1000 {reduction}", [[1000.0, -1000.0, 0.0], [-1000.0, -1000.0, 1000.0],
                                                                   [1000.0, 1000.0, 1000.0]], [1, 2, 0],
                             reduction=reduction))
        cases.append(ce_case(f"ce logits of ±1000 smoothed probabilities {reduction}",
                             [[1000.0, -1000.0, 0.0], [-1000.0, -1000.0, 1000.0]],
                             [[0.0, 1.0, 0.0], [0.5, 0.25, 0.25]], label_smoothing=0.1, reduction=reduction))
        # Label smoothing of 1: the target is ignored entirely, only the uniform part is left.
        cases.append(ce_case(f"ce label smoothing 1 weighted {reduction}", rng.normal(0, 2, [4, 3]), [0, 2, 1, -100],
                             weight=[0.5, 1.0, 2.0], label_smoothing=1.0, reduction=reduction))
        # A class whose weight is 0 still counts; all targets in it make the mean 0/0.
        cases.append(ce_case(f"ce zero class weight {reduction}", rng.normal(0, 1, [3, 3]), [0, 0, 1],
                             weight=[0.0, 1.5, 1.0], reduction=reduction))
        cases.append(ce_case(f"ce all targets of zero weight {reduction}", rng.normal(0, 1, [2, 3]), [0, 0],
                             weight=[0.0, 1.5, 1.0], reduction=reduction))
        # One class: log_softmax is 0 everywhere.
        cases.append(ce_case(f"ce one class {reduction}", rng.normal(0, 1, [3, 1]), [0, 0, 0], reduction=reduction))
        # (C) predictions with a 0-d target.
        cases.append(ce_case(f"ce single sample index target {reduction}", rng.normal(0, 1, [4]), 2.0,
                             label_smoothing=0.3, weight=[1.0, 2.0, 3.0, 4.0], reduction=reduction))
        # ignore_index inside [0, C) ignores that class.
        cases.append(ce_case(f"ce ignore_index is a real class {reduction}", rng.normal(0, 1, [5, 3]),
                             [0, 1, 2, 1, 0], ignore_index=1, weight=[1.0, 2.0, 0.5], label_smoothing=0.05,
                             reduction=reduction))
        # Probabilities of exactly 0 and 1 in both tensors.
        cases.append(ce_case(f"ce probabilities at 0 and 1 {reduction}", [[0.0, 1.0, 0.0], [0.5, 0.5, 0.0]],
                             [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]], from_logits=False, reduction=reduction))
        # A wide class dimension.
        cases.append(ce_case(f"ce 1000 classes {reduction}", rng.normal(0, 4, [3, 1000]), [0, 999, 500],
                             label_smoothing=0.1, reduction=reduction))
    return cases


# ---------------------------------------------------------------- binary cross entropy

def bce_case(name, pred, target, weight=None, pos_weight=None, from_logits=False, reduction="mean"):
    pred, target = T(pred), T(target)
    w = None if weight is None else T(weight)
    pw = None if pos_weight is None else T(pos_weight)
    if from_logits:
        expected = F.binary_cross_entropy_with_logits(pred, target, weight=w, pos_weight=pw, reduction=reduction)
    else:
        expected = F.binary_cross_entropy(pred, target, weight=w, reduction=reduction)
    case = {"name": name, "loss": "bce", "predictions": tensor_json(pred), "targets": tensor_json(target),
            "from_logits": from_logits, "reduction": reduction,
            "expected": {"loss": tensor_json(expected), "count": pred.numel(), "weight_sum": float(pred.numel())}}
    if w is not None:
        case["weight"] = tensor_json(w)
    if pw is not None:
        case["pos_weight"] = tensor_json(pw)
    return case


def binary_cross_entropy_cases():
    cases = []
    shapes = {"scalar": [], "N": [6], "NC": [3, 4], "NCd": [2, 3, 4]}
    for shape_name, shape in shapes.items():
        weight_shapes = {"none": None, "same": shape, "0-d": []}
        if len(shape) >= 1:
            weight_shapes["last"] = shape[-1:]
        if len(shape) >= 2:
            weight_shapes["column"] = shape[:-1] + [1]
            weight_shapes["leading ones"] = [1] + shape[1:]
        if len(shape) >= 3:
            weight_shapes["middle"] = [shape[1], 1]
        for from_logits in (False, True):
            pos_shapes = {"none": None}
            if from_logits:
                pos_shapes["0-d"] = []
                if len(shape) >= 1:
                    pos_shapes["last"] = shape[-1:]
                pos_shapes["same"] = shape
            for weight_name, weight_shape in weight_shapes.items():
                for pos_name, pos_shape in pos_shapes.items():
                    if from_logits:
                        pred = rng.normal(0, 4, shape)
                    else:
                        pred = rng.random(shape)
                    target = rng.random(shape)
                    flat = target.reshape(-1)
                    flat[::2] = np.round(flat[::2])  # hard and soft labels together
                    target = flat.reshape(shape)
                    weight = None if weight_shape is None else rng.random(weight_shape) * 3
                    pos_weight = None if pos_shape is None else rng.random(pos_shape) * 4
                    for reduction in ("mean", "sum", "none"):
                        name = (f"bce {shape_name} logits={from_logits} weight={weight_name} "
                                f"pos_weight={pos_name} {reduction}")
                        cases.append(bce_case(name, pred, target, weight, pos_weight, from_logits, reduction))
    for reduction in ("mean", "sum", "none"):
        cases.append(bce_case(f"bce probabilities at 0 and 1 clamp the log {reduction}", [0.0, 1.0, 0.0, 1.0, 0.5],
                              [0.0, 1.0, 1.0, 0.0, 0.5], reduction=reduction))
        cases.append(bce_case(f"bce logits of ±1000 {reduction}", [1000.0, -1000.0, 1000.0, -1000.0, 0.0, 40.0],
                              [1.0, 0.0, 0.0, 1.0, 0.3, 0.0], pos_weight=[2.0], from_logits=True,
                              reduction=reduction))
        cases.append(bce_case(f"bce tiny logits {reduction}", [1e-300, -1e-17, 5e-324], [0.0, 1.0, 0.5],
                              from_logits=True, reduction=reduction))
        cases.append(bce_case(f"bce probabilities near 0 and 1 {reduction}",
                              [1e-300, 1 - 2 ** -53, 2 ** -60, 0.999999999], [1.0, 0.0, 0.25, 1.0],
                              weight=[2.0], reduction=reduction))
    return cases


# ---------------------------------------------------------------- mean squared error

def mse_case(name, pred, target, weight=None, reduction="mean"):
    pred, target = T(pred), T(target)
    w = None if weight is None else T(weight)
    expected = F.mse_loss(pred, target, weight=w, reduction=reduction)
    case = {"name": name, "loss": "mse", "predictions": tensor_json(pred), "targets": tensor_json(target),
            "reduction": reduction,
            "expected": {"loss": tensor_json(expected), "count": pred.numel(),
                         "weight_sum": number(pred.numel() if w is None else w.sum())}}
    if w is not None:
        case["weight"] = tensor_json(w)
    return case


def mean_squared_error_cases():
    cases = []
    shapes = {"scalar": [], "N": [7], "NC": [3, 4], "NCHW": [2, 3, 4, 5]}
    for shape_name, shape in shapes.items():
        for weighted in (False, True):
            pred = rng.normal(0, 2, shape)
            target = rng.normal(0, 2, shape)
            weight = rng.random(shape) * 2 if weighted else None
            for reduction in ("mean", "sum", "none"):
                cases.append(mse_case(f"mse {shape_name} weight={weighted} {reduction}", pred, target, weight,
                                      reduction))
    for reduction in ("mean", "sum", "none"):
        cases.append(mse_case(f"mse large and small magnitudes {reduction}", [1e150, 1e-150, -3.5, 0.0],
                              [-1e150, 0.0, 3.5, 0.0], reduction=reduction))
        cases.append(mse_case(f"mse negative and zero weights {reduction}", [1.0, 2.0, 3.0, 4.0],
                              [0.5, 2.5, 1.0, -4.0], weight=[1.0, 0.0, -0.5, 2.0], reduction=reduction))
        cases.append(mse_case(f"mse all-zero weights {reduction}", [1.0, 2.0], [0.0, 0.0], weight=[0.0, 0.0],
                              reduction=reduction))
    return cases


def write_fixture(path, command, seed, note, cases):
    """Writes a golden fixture file: how it was made, then the cases (shared with make_golden_more.py)."""
    document = {
        "generator": command,
        "torch_version": torch.__version__,
        "numpy_version": np.__version__,
        "python_version": sys.version.split()[0],
        "seed": seed,
        "note": note,
        "cases": cases,
    }
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(document, f, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {len(cases)} cases to {os.path.normpath(path)}")


def main():
    cases = cross_entropy_cases() + binary_cross_entropy_cases() + mean_squared_error_cases()
    write_fixture(OUT, COMMAND, SEED, "float64 throughout; non-finite numbers are the strings nan, inf, -inf; "
                  "count and weight_sum follow the API contract's rules 6-7", cases)


if __name__ == "__main__":
    main()
