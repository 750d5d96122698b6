#!/usr/bin/env python3
"""Writes Tests/LossesTests/Fixtures/golden_more.json: inputs and PyTorch's
float64 answers for the losses added after CE, BCE and MSE (issue #11):
l1, smooth_l1, huber, nll and kl, every option, shape family, reduction and
edge case. golden.json (scripts/make_golden.py) is left as it is.

    pip install torch numpy
    python3 scripts/make_golden_more.py

The Swift tests compare against the file at 1e-12 relative (1e-15 absolute);
CI does not need torch. `count` and `weight_sum` are derived here from the
inputs (PyTorch does not report them): `weight_sum` is the denominator that
`mean` (or `batchmean`) divides by.

`weight` in smooth_l1 is lossd's extension (PyTorch's smooth_l1_loss has
none): its answers are smooth_l1_loss(reduction="none") times the weight,
reduced as F.l1_loss reduces a weighted loss, sum(w·e) / sum(w).
"""

import json
import os
import sys
import warnings

import numpy as np
import torch
import torch.nn.functional as F

from make_golden import T, number, tensor_json, write_fixture

SEED = 20261204
COMMAND = "python3 scripts/make_golden_more.py"
OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "LossesTests", "Fixtures", "golden_more.json")

torch.set_default_dtype(torch.float64)
rng = np.random.default_rng(SEED)
REDUCTIONS = ("mean", "sum", "none")


def result(expected, count, weight_sum):
    return {"loss": tensor_json(expected), "count": int(count), "weight_sum": number(weight_sum)}


# ---------------------------------------------------------------- l1, smooth l1, huber

def regression_case(loss, name, pred, target, weight=None, reduction="mean", beta=None, delta=None):
    pred, target = T(pred), T(target)
    w = None if weight is None else T(weight)
    n = pred.numel()
    weight_sum = float(n)
    if loss == "l1":
        expected = F.l1_loss(pred, target, weight=w, reduction=reduction)
        if w is not None:
            weight_sum = float(w.sum())
    elif loss == "smooth_l1":
        if w is None:
            expected = F.smooth_l1_loss(pred, target, beta=beta, reduction=reduction)
        else:
            weighted = F.smooth_l1_loss(pred, target, beta=beta, reduction="none") * w
            expected = {"none": weighted, "sum": weighted.sum(), "mean": weighted.sum() / w.sum()}[reduction]
            weight_sum = float(w.sum())
    else:
        expected = F.huber_loss(pred, target, delta=delta, weight=w, reduction=reduction)
    case = {"name": name, "loss": loss, "predictions": tensor_json(pred), "targets": tensor_json(target),
            "reduction": reduction, "expected": result(expected, n, weight_sum)}
    if beta is not None:
        case["beta"] = number(beta)
    if delta is not None:
        case["delta"] = number(delta)
    if w is not None:
        case["weight"] = tensor_json(w)
    return case


def regression_cases():
    cases = []
    shapes = {"scalar": [], "N": [7], "NC": [3, 4], "NCHW": [2, 3, 4, 5]}
    options = {"l1": [{}], "smooth_l1": [{"beta": 1.0}, {"beta": 0.5}, {"beta": 0.0}, {"beta": 3.0}],
               "huber": [{"delta": 1.0}, {"delta": 0.25}, {"delta": 2.5}]}
    for loss, option_list in options.items():
        for shape_name, shape in shapes.items():
            for option in option_list:
                for weighted in (False, True):
                    pred = rng.normal(0, 2, shape)
                    target = rng.normal(0, 2, shape)
                    weight = rng.random(shape) * 2 if weighted else None
                    label = " ".join(f"{k}={v}" for k, v in option.items())
                    for reduction in REDUCTIONS:
                        name = f"{loss} {shape_name} {label} weight={weighted} {reduction}".replace("  ", " ")
                        cases.append(regression_case(loss, name, pred, target, weight, reduction, **option))
        default = option_list[0]
        for reduction in REDUCTIONS:
            cases.append(regression_case(loss, f"{loss} large and small magnitudes {reduction}",
                                         [1e150, 1e-150, -3.5, 0.0, 1e-300], [-1e150, 0.0, 3.5, 0.0, -1e-300],
                                         reduction=reduction, **default))
            cases.append(regression_case(loss, f"{loss} negative and zero weights {reduction}",
                                         [1.0, 2.0, 3.0, 4.0], [0.5, 2.5, 1.0, -4.0],
                                         weight=[1.0, 0.0, -0.5, 2.0], reduction=reduction, **default))
            cases.append(regression_case(loss, f"{loss} all-zero weights {reduction}", [1.0, 2.0], [0.0, 0.0],
                                         weight=[0.0, 0.0], reduction=reduction, **default))
            cases.append(regression_case(loss, f"{loss} infinities {reduction}", [float("inf"), 1.0, float("inf")],
                                         [0.0, float("-inf"), float("inf")], reduction=reduction, **default))
    for reduction in REDUCTIONS:
        # Differences exactly at, just under and just over the threshold.
        at = [0.5, 0.5 - 2 ** -20, 0.5 + 2 ** -20, -0.5, 0.0]
        cases.append(regression_case("smooth_l1", f"smooth_l1 at the threshold {reduction}", at, [0.0] * 5,
                                     reduction=reduction, beta=0.5))
        cases.append(regression_case("huber", f"huber at the threshold {reduction}", at, [0.0] * 5,
                                     reduction=reduction, delta=0.5))
        cases.append(regression_case("smooth_l1", f"smooth_l1 infinite beta {reduction}", [1.0, -3.0, 1e200],
                                     [0.0, 0.0, 0.0], reduction=reduction, beta=float("inf")))
        cases.append(regression_case("huber", f"huber infinite delta {reduction}", [1.0, -3.0, 1e100],
                                     [0.0, 0.0, 0.0], reduction=reduction, delta=float("inf")))
        cases.append(regression_case("smooth_l1", f"smooth_l1 tiny beta {reduction}", [1e-300, 2e-300, 1.0],
                                     [0.0, 0.0, 0.0], reduction=reduction, beta=1.5e-300))
        cases.append(regression_case("huber", f"huber tiny delta {reduction}", [1e-300, 2e-300, 1.0],
                                     [0.0, 0.0, 0.0], reduction=reduction, delta=1.5e-300))
    return cases


# ---------------------------------------------------------------- nll

def nll_case(name, pred, target, weight=None, ignore_index=-100, reduction="mean"):
    pred, target = T(pred), T(target)
    w = None if weight is None else T(weight)
    expected = F.nll_loss(pred, target.long(), weight=w, ignore_index=ignore_index, reduction=reduction)
    keep = target != ignore_index
    count = int(keep.sum())
    weight_sum = float(count) if w is None else float(w[target[keep].long()].sum())
    case = {"name": name, "loss": "nll", "predictions": tensor_json(pred), "targets": tensor_json(target),
            "ignore_index": ignore_index, "reduction": reduction, "expected": result(expected, count, weight_sum)}
    if w is not None:
        case["weight"] = tensor_json(w)
    return case


def nll_cases():
    cases = []
    shapes = {"C": [5], "NC": [4, 3], "NCd": [3, 4, 5], "NCdd": [2, 3, 2, 3]}
    for shape_name, shape in shapes.items():
        classes = shape[0] if len(shape) == 1 else shape[1]
        position_shape = [] if len(shape) == 1 else [shape[0]] + shape[2:]
        for weighted in (False, True):
            ignore_modes = {"none": -100, "some": -1, "all": 1, "a class": 0}
            if len(shape) == 1:
                del ignore_modes["some"]
            for ignore_mode, ignore_index in ignore_modes.items():
                pred = torch.log_softmax(T(rng.normal(0, 3, shape)), 0 if len(shape) == 1 else 1)
                target = rng.integers(0, classes, position_shape).astype(np.float64)
                flat = target.reshape(-1)
                if ignore_mode == "some":
                    flat[::3] = ignore_index
                elif ignore_mode == "all":
                    flat[:] = ignore_index
                target = flat.reshape(position_shape)
                weight = rng.random(classes) * 2 if weighted else None
                for reduction in REDUCTIONS:
                    name = f"nll {shape_name} weight={weighted} ignore={ignore_mode} {reduction}"
                    cases.append(nll_case(name, pred, target, weight, ignore_index, reduction))
    for reduction in REDUCTIONS:
        # nll_loss takes any numbers, not only log-probabilities.
        cases.append(nll_case(f"nll arbitrary inputs {reduction}", rng.normal(0, 100, [3, 4]), [3, 0, 2],
                              weight=[1.0, -2.0, 0.5, 3.0], reduction=reduction))
        cases.append(nll_case(f"nll log 0 at the target is infinite {reduction}",
                              [[float("-inf"), 0.0], [-0.5, -1.0]], [0, 1], reduction=reduction))
        cases.append(nll_case(f"nll log 0 at a zero-weight target is nan {reduction}",
                              [[float("-inf"), 0.0], [-0.5, -1.0]], [0, 1], weight=[0.0, 1.0], reduction=reduction))
        cases.append(nll_case(f"nll all targets of zero weight {reduction}", rng.normal(0, 1, [2, 3]), [0, 0],
                              weight=[0.0, 1.5, 1.0], reduction=reduction))
        cases.append(nll_case(f"nll one class {reduction}", [[0.0], [-1.5], [2.0]], [0, 0, 0], reduction=reduction))
        cases.append(nll_case(f"nll 1000 classes {reduction}", rng.normal(-7, 1, [3, 1000]), [0, 999, 500],
                              reduction=reduction))
        cases.append(nll_case(f"nll (N, C, 1) {reduction}", rng.normal(0, 1, [3, 4, 1]), [[1], [3], [0]],
                              weight=[0.5, 1.0, 1.5, 2.0], reduction=reduction))
    return cases


# ---------------------------------------------------------------- kl

def kl_case(name, pred, target, log_target=False, reduction="mean"):
    pred, target = T(pred), T(target)
    expected = F.kl_div(pred, target, reduction=reduction, log_target=log_target)
    n = pred.numel()
    weight_sum = float(pred.shape[0] if reduction == "batchmean" and pred.dim() > 0 else
                       (1 if reduction == "batchmean" else n))
    return {"name": name, "loss": "kl", "predictions": tensor_json(pred), "targets": tensor_json(target),
            "log_target": log_target, "reduction": reduction, "expected": result(expected, n, weight_sum)}


def kl_cases():
    cases = []
    shapes = {"scalar": [], "N": [6], "NC": [3, 4], "NCd": [2, 3, 4]}
    kl_reductions = REDUCTIONS + ("batchmean",)
    for shape_name, shape in shapes.items():
        axis = 0 if len(shape) <= 1 else 1
        for log_target in (False, True):
            pred = torch.log_softmax(T(rng.normal(0, 2, shape)), axis) if shape else T(rng.normal(-1, 0.5))
            probabilities = torch.softmax(T(rng.normal(0, 2, shape)), axis) if shape else T(rng.random())
            if shape:
                probabilities.view(-1)[0] = 0.0  # a target of 0 (log target -inf)
            target = torch.log(probabilities) if log_target else probabilities
            for reduction in kl_reductions:
                name = f"kl {shape_name} log_target={log_target} {reduction}"
                cases.append(kl_case(name, pred, target, log_target, reduction))
    inf = float("inf")
    for reduction in kl_reductions:
        # PyTorch's edges: a 0 target against -inf is 0·(-inf) = nan; a negative target is nan (log of it).
        cases.append(kl_case(f"kl zero and negative targets {reduction}", [-1.0, -inf, -2.0, -0.5, 3.0],
                             [0.0, 0.0, -0.5, 0.3, -0.0], reduction=reduction))
        cases.append(kl_case(f"kl subnormal, tiny, huge and infinite targets {reduction}",
                             [-1.0, -2.0, -3.0, -0.5, 1.0], [5e-324, 1e-310, 1e-300, 1e300, inf],
                             reduction=reduction))
        cases.append(kl_case(f"kl log targets of any size {reduction}", [-1.0, -2.0, 0.0, -1e300, 5.0, -0.5],
                             [-inf, -800.0, 709.5, -740.0, 3.0, 1e-20], log_target=True, reduction=reduction))
        cases.append(kl_case(f"kl nan target {reduction}", [-1.0, -2.0], [float("nan"), 0.5], reduction=reduction))
        cases.append(kl_case(f"kl identical distributions {reduction}", [[-0.5, -1.0], [-2.0, -0.1]],
                             [[-0.5, -1.0], [-2.0, -0.1]], log_target=True, reduction=reduction))
    return cases


def main():
    cases = regression_cases() + nll_cases() + kl_cases()
    write_fixture(OUT, COMMAND, SEED, "float64 throughout; non-finite numbers are the strings nan, inf, -inf; "
                  "weight_sum is the denominator of mean (of batchmean for kl)", cases)


if __name__ == "__main__":
    warnings.simplefilter("ignore")
    main()
