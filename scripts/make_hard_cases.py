#!/usr/bin/env python3
"""Writes Tests/LossesTests/Fixtures/hard_cases.json: numerically hard inputs
(logits at ±700 and ±40, probabilities of 1e-300 and 1 - 1e-16, a dominant
logit 1e3 above the rest, sums of 10^6 terms) with their exact losses,
computed in high precision with mpmath from the float64 inputs and rounded
once to float64.

    pip install mpmath        # no torch needed
    python3 scripts/make_hard_cases.py

The definitions are PyTorch's (binary_cross_entropy clamps each log at -100;
cross_entropy's weights, label smoothing and mean), evaluated exactly, not
PyTorch's float64 arithmetic: golden.json holds torch's answers for ordinary
inputs. Every value is computed at 60 and at 120 significant digits and must
round to the same double at both, or the script fails. HardCaseTests compares
lossd within a few ulps of these values.

A tensor is {"shape", "data"} or, for the 10^6-element cases, {"shape",
"pattern"}: the pattern repeated to fill the shape (the exact sum of a repeated
pattern is the repeat count times the pattern's sum).
"""

import json
import os
import sys

import mpmath
from mpmath import mp, mpf

COMMAND = "python3 scripts/make_hard_cases.py"
OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "LossesTests", "Fixtures", "hard_cases.json")
DIGITS = 60


def rounded(x):
    """The float64 nearest the mpf x (mpmath rounds to nearest, ties to even)."""
    return float(x)


def tensor(shape, data=None, pattern=None):
    if pattern is not None:
        return {"shape": shape, "pattern": [float(v) for v in pattern]}
    return {"shape": shape, "data": [float(v) for v in data]}


def softplus(x):
    """log(1 + e^x), exactly in the working precision for any x (log1p keeps tiny e^x)."""
    return mpmath.log1p(mpmath.exp(x))


# ---- the losses, per element, in mpmath ----------------------------------------------------

def bce_logits_element(x, t, w, pw):
    # -w·(pw·t·log σ(x) + (1 - t)·log(1 - σ(x))) with -log σ(x) = softplus(-x), -log(1 - σ(x)) = softplus(x).
    x, t, w, pw = mpf(x), mpf(t), mpf(w), mpf(pw)
    return w * (pw * t * softplus(-x) + (1 - t) * softplus(x))


def clamped_log(v):
    return max(v, mpf(-100))


def bce_probabilities_element(p, t, w):
    p, t, w = mpf(p), mpf(t), mpf(w)
    log_p = clamped_log(mpmath.log(p)) if p > 0 else mpf(-100)
    log_1mp = clamped_log(mpmath.log1p(-p)) if p < 1 else mpf(-100)
    return -w * (t * log_p + (1 - t) * log_1mp)


def log_softmax(row):
    """log p_c for one row of logits: (x_c - m) - log1p(Σ e^(x_j - m) over all j but one argmax)."""
    row = [mpf(v) for v in row]
    m = max(row)
    top = row.index(m)
    rest = mpmath.fsum(mpmath.exp(v - m) for j, v in enumerate(row) if j != top)
    lse = mpmath.log1p(rest)
    return [(v - m) - lse for v in row]


def mse_element(p, t, w):
    e = mpf(p) - mpf(t)
    return mpf(w) * e * e


# ---- cases -------------------------------------------------------------------------------

def reduce(elements, reduction, divisor, repeat=1):
    total = mpmath.fsum(elements) * repeat
    if reduction == "sum":
        return total
    return total / divisor


def elementwise_case(name, loss, element, pred, target, shape, reduction, weight=None, pos_weight=None,
                     from_logits=None, repeat=1, weight_for=None, pos_weight_for=None):
    """pred and target are flat lists (the pattern when repeat > 1); weight_for(i) and pos_weight_for(i)
    give the broadcast operand of flat position i."""
    n = len(pred)
    ws = [weight_for(i) if weight_for else 1.0 for i in range(n)]
    pws = [pos_weight_for(i) if pos_weight_for else 1.0 for i in range(n)]
    elements = [element(pred[i], target[i], ws[i], pws[i]) for i in range(n)]
    count = n * repeat
    if loss == "mse" and weight is not None:
        weight_sum = mpmath.fsum(mpf(v) for v in ws) * repeat
    else:
        weight_sum = mpf(count)
    if reduction == "none":
        values = [rounded(v) for v in elements]
        expected = tensor(shape, pattern=values) if repeat > 1 else tensor(shape, data=values)
    else:
        expected = tensor([], data=[rounded(reduce(elements, reduction, weight_sum, repeat))])
    as_tensor = (lambda v: tensor(shape, pattern=v)) if repeat > 1 else (lambda v: tensor(shape, data=v))
    case = {"name": name, "loss": loss, "predictions": as_tensor(pred), "targets": as_tensor(target),
            "reduction": reduction,
            "expected": {"loss": expected, "count": count, "weight_sum": rounded(weight_sum)}}
    if from_logits is not None:
        case["from_logits"] = from_logits
    if weight is not None:
        case["weight"] = weight
    if pos_weight is not None:
        case["pos_weight"] = pos_weight
    return case


REDUCTIONS = ["none", "mean", "sum"]


def bce_logits_cases():
    cases = []
    # Beyond ±708.39 the loss of a confident correct logit, e^-|x|, is subnormal (e^-745 is the least).
    xs = [-745.0, -720.0, -708.0, -700.0, -40.0, -1.0, -1e-20, 0.0, 1e-20, 1.0, 3.5, 40.0, 700.0, 708.0, 730.0]
    ts = [0.0, 1.0, 0.5, 1e-10, 1 - 1e-10, 0.3, 0.9999999999999999]
    pairs = [(x, t) for x in xs for t in ts]  # 105, odd: the kernel's last, partial pair of lanes too
    pred, target = [p[0] for p in pairs], [p[1] for p in pairs]
    n = len(pairs)
    for r in REDUCTIONS:
        cases.append(elementwise_case(
            f"bce logits ±700 ±40 0, hard and soft targets {r}", "bce",
            lambda x, t, w, pw: bce_logits_element(x, t, 1, 1), pred, target, [n], r, from_logits=True))
    # (rows, 5) with a weight and a pos_weight of shape (5,), broadcast over the rows.
    rows = n // 5
    pred5, target5 = pred[:rows * 5], target[:rows * 5]
    w5 = [0.5, 2.0, 1.0, 1e-3, 7.0]
    pw5 = [1.0, 0.25, 3.0, 1e-10, 10.0]
    for r in REDUCTIONS:
        cases.append(elementwise_case(
            f"bce logits ±700 ±40 0 weight pos_weight {r}", "bce", bce_logits_element, pred5, target5, [rows, 5], r,
            weight=tensor([5], data=w5), pos_weight=tensor([5], data=pw5), from_logits=True,
            weight_for=lambda i: w5[i % 5], pos_weight_for=lambda i: pw5[i % 5]))
        cases.append(elementwise_case(
            f"bce logits ±700 ±40 0 pos_weight only {r}", "bce", bce_logits_element, pred5, target5, [rows, 5], r,
            pos_weight=tensor([5], data=pw5), from_logits=True, pos_weight_for=lambda i: pw5[i % 5]))
    # 10^6 elements: a 1000-element pattern of mixed confident and ordinary logits, soft targets.
    pattern_x = [[-700.0, 700.0, -40.0, 40.0, 0.0, -3.25, 2.5, -708.0][i % 8] * (1 + (i % 7) * 1e-3)
                 for i in range(1000)]
    pattern_t = [[0.0, 1.0, 1e-10, 0.25, 1.0, 0.0, 0.75, 0.5][(i * 3) % 8] for i in range(1000)]
    for r in REDUCTIONS:
        cases.append(elementwise_case(
            f"bce logits 10^6 confident and soft {r}", "bce", lambda x, t, w, pw: bce_logits_element(x, t, 1, 1),
            pattern_x, pattern_t, [1_000_000], r, from_logits=True, repeat=1000))
    return cases


def bce_probability_cases():
    cases = []
    ps = [1e-300, 1 - 1e-16, 1e-16, 1e-44, 1e-43, 0.5, 0.0, 1.0, 0.9999999999999999]
    ts = [0.0, 1.0, 0.5, 1e-10]
    pairs = [(p, t) for p in ps for t in ts]
    pred, target = [p[0] for p in pairs], [p[1] for p in pairs]
    n = len(pairs)
    for r in REDUCTIONS:
        cases.append(elementwise_case(
            f"bce probabilities 1e-300 1-1e-16 {r}", "bce", lambda p, t, w, pw: bce_probabilities_element(p, t, 1),
            pred, target, [n], r, from_logits=False))
    w4 = [1.0, 1e-3, 3.0, 0.5]
    for r in REDUCTIONS:
        cases.append(elementwise_case(
            f"bce probabilities 1e-300 1-1e-16 weight {r}", "bce",
            lambda p, t, w, pw: bce_probabilities_element(p, t, w), pred, target, [n // 4, 4], r,
            weight=tensor([4], data=w4), from_logits=False, weight_for=lambda i: w4[i % 4]))
    return cases


def ce_case(name, pred_rows, shape, targets, index_targets, reduction, weight=None, smoothing=0.0,
            ignore_index=-100, from_logits=True, target_shape=None, to_rows=None):
    """pred_rows: per position, its class row (positions in row-major order of the target shape);
    targets: per position a class index, or a class row of probabilities."""
    classes = len(pred_rows[0])
    w = weight if weight is not None else [1.0] * classes
    losses, weight_sum, count = [], mpf(0), 0
    for row, target in zip(pred_rows, targets):
        if from_logits:
            logp = log_softmax(row)
        else:
            logp = [clamped_log(mpmath.log(mpf(v))) if v > 0 else mpf(-100) for v in row]
        if index_targets:
            if target == ignore_index:
                losses.append(mpf(0))
                continue
            count += 1
            weight_sum += mpf(w[target])
            nll = -mpf(w[target]) * logp[target]
            smooth = -mpmath.fsum(mpf(w[c]) * logp[c] for c in range(classes))
            losses.append((1 - mpf(smoothing)) * nll + smooth * (mpf(smoothing) / classes))
        else:
            count += 1
            weight_sum += 1
            smoothed = [mpf(t) * (1 - mpf(smoothing)) + mpf(smoothing) / classes for t in target]
            losses.append(-mpmath.fsum(mpf(w[c]) * smoothed[c] * logp[c] for c in range(classes)))
    if reduction == "none":
        expected = tensor(target_shape, data=[rounded(v) for v in losses])
    else:
        expected = tensor([], data=[rounded(reduce(losses, reduction, weight_sum))])
    flat_pred = to_rows(pred_rows)
    if index_targets:
        target_json = tensor(target_shape, data=[float(t) for t in targets])
    else:
        target_json = tensor(shape, data=to_rows(targets))
    case = {"name": name, "loss": "ce", "predictions": tensor(shape, data=flat_pred), "targets": target_json,
            "ignore_index": ignore_index, "label_smoothing": smoothing, "from_logits": from_logits,
            "reduction": reduction,
            "expected": {"loss": expected, "count": count, "weight_sum": rounded(weight_sum)}}
    if weight is not None:
        case["weight"] = tensor([classes], data=weight)
    return case


def ce_cases():
    cases = []
    rows = [
        [1000.0, 0.0, -1000.0, 500.0],   # dominant logit, 1e3 spread: log p_0 = -e^-500
        [1000.0, 0.0, -1000.0, 500.0],
        [1000.0, 0.0, -1000.0, 500.0],
        [30.0, 0.0, 0.0, -30.0],         # ties below the maximum
        [5.0, 5.0, -1000.0, 0.0],        # ties at the maximum
        [0.0, -745.0, -800.0, -40.0],
        [-1000.0, -1000.0, -1000.0, 0.0],
        [700.0, -700.0, 699.0, 0.0],
    ]
    index = [0, 2, 3, 0, 1, 0, 0, 1]
    flat = lambda rs: [v for r in rs for v in r]
    soft = [[1.0, 0.0, 0.0, 0.0], [0.25, 0.25, 0.25, 0.25], [1e-10, 0.0, 1 - 1e-10, 0.0], [0.0, 0.5, 0.5, 0.0],
            [1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0], [0.0, 0.0, 0.0, 1.0], [0.5, 0.0, 0.5, 0.0]]
    weight = [1.0, 0.5, 2.0, 1e-3]
    shape = [len(rows), 4]
    for r in REDUCTIONS:
        cases.append(ce_case(f"ce dominant logit index {r}", rows, shape, index, True, r, target_shape=[len(rows)],
                             to_rows=flat))
        cases.append(ce_case(f"ce dominant logit index weight ignore_index smoothing {r}", rows, shape,
                             [0, 2, -100, 0, 1, 0, 0, 1], True, r, weight=weight, smoothing=0.1,
                             target_shape=[len(rows)], to_rows=flat))
        cases.append(ce_case(f"ce dominant logit probabilities weight smoothing {r}", rows, shape, soft, False, r,
                             weight=weight, smoothing=0.05, target_shape=[len(rows)], to_rows=flat))
    # (2, 4, 4): the same rows as positions of a segmentation map (class c of position s at c·4 + s).
    def planes(rs):
        out = []
        for sample in range(2):
            block = rs[sample * 4:(sample + 1) * 4]
            for c in range(4):
                out.extend(block[s][c] for s in range(4))
        return out
    for r in REDUCTIONS:
        cases.append(ce_case(f"ce dominant logit segmentation index {r}", rows, [2, 4, 4], index, True, r,
                             weight=weight, target_shape=[2, 4], to_rows=planes))
        cases.append(ce_case(f"ce dominant logit segmentation index smoothing {r}", rows, [2, 4, 4], index, True, r,
                             smoothing=0.1, target_shape=[2, 4], to_rows=planes))
        cases.append(ce_case(f"ce dominant logit segmentation probabilities {r}", rows, [2, 4, 4], soft, False, r,
                             target_shape=[2, 4], to_rows=planes))
    prob_rows = [[1e-300, 1 - 1e-16, 1e-16, 0.0], [0.9999999999999999, 1e-44, 1e-43, 0.5]]
    for r in REDUCTIONS:
        cases.append(ce_case(f"ce probabilities 1e-300 1-1e-16 index {r}", prob_rows, [2, 4], [1, 0], True, r,
                             from_logits=False, target_shape=[2], to_rows=flat))
        cases.append(ce_case(f"ce probabilities 1e-300 1-1e-16 soft targets {r}", prob_rows, [2, 4],
                             [[0.5, 0.5, 0.0, 0.0], [0.25, 0.25, 0.25, 0.25]], False, r, from_logits=False,
                             target_shape=[2], to_rows=flat))
    return cases


def mse_cases():
    cases = []
    # A 1000-element pattern, 10^6 elements in all: large close pairs (an exact difference of
    # 1e8-sized numbers), unit errors beside 1e16-sized squares (a plain running sum drops them),
    # and ordinary values whose plain sum drifts by hundreds of ulps over 10^6 terms.
    pred, target = [], []
    for i in range(1000):
        kind = i % 4
        if kind == 0:
            target.append(123456789.125 + i)
            pred.append(123456789.125 + i + (i % 13 + 1) * 2.0 ** -26)
        elif kind == 1:
            target.append(-1e8 if i % 100 == 1 else 0.0)
            pred.append(1e8 if i % 100 == 1 else 1.0)
        elif kind == 2:
            target.append(0.1 * (i % 17))
            pred.append(-0.3 * (i % 11) + 1 / 3)
        else:
            target.append(1e-3 * i)
            pred.append(1e-3 * i + 1e-9 * (i % 5))
    weights = [[1.0, 0.1, 3.0, 1e-6][i % 4] * (1 + i % 9) for i in range(1000)]
    for r in REDUCTIONS:
        cases.append(elementwise_case(
            f"mse 10^6 terms large close pairs and unit errors beside 1e16 {r}", "mse",
            lambda p, t, w, pw: mse_element(p, t, 1), pred, target, [1_000_000], r, repeat=1000))
        cases.append(elementwise_case(
            f"mse 10^6 terms weight {r}", "mse", lambda p, t, w, pw: mse_element(p, t, w), pred, target,
            [1_000_000], r, weight=tensor([1_000_000], pattern=weights), repeat=1000,
            weight_for=lambda i: weights[i]))
    return cases


def all_cases():
    return bce_logits_cases() + bce_probability_cases() + ce_cases() + mse_cases()


def main():
    mp.dps = DIGITS
    # float() of an mpf rounds to nearest, ties to even (the expected values rely on it).
    assert float(mpf(1) + mpf(2) ** -53) == 1.0 and float(mpf(1) + mpf(2) ** -53 + mpf(2) ** -100) == 1 + 2.0 ** -52
    assert float(mpf(2) ** -1074 * mpf(1.5)) == 2.0 ** -1073
    cases = all_cases()
    mp.dps = 2 * DIGITS
    check = all_cases()
    if json.dumps(cases) != json.dumps(check):
        print(f"FAIL: the values at {DIGITS} and {2 * DIGITS} digits round to different doubles", file=sys.stderr)
        return 1
    document = {
        "generator": COMMAND,
        "mpmath_version": mpmath.__version__,
        "python_version": sys.version.split()[0],
        "digits": DIGITS,
        "note": "exact losses (PyTorch's definitions, logs clamped at -100 as binary_cross_entropy) of the float64 "
                "inputs, computed in mpmath at 60 and again at 120 significant digits and rounded once to float64; "
                "a tensor with 'pattern' repeats it to fill its shape",
        "cases": cases,
    }
    with open(OUT, "w") as f:
        json.dump(document, f, separators=(",", ":"))
        f.write("\n")
    print(f"PASS: wrote {len(cases)} cases to {os.path.normpath(OUT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
