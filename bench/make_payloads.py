#!/usr/bin/env python3
"""Write the benchmark's request bodies (fixed seed, numpy only).

Every payload is a valid lossd request (see shared/api-contract.md) whose
tensors hold float32 values printed with 8 significant digits, the way a
client that dumps a float32 model output would send them.  The same seed
gives byte-identical files on every machine, so runs are comparable.

Usage: python3 bench/make_payloads.py [--out bench/payloads] [--only NAME ...] [--list]

Besides one NAME.json per payload it writes manifest.tsv:
    name <TAB> route <TAB> size class (small|large) <TAB> bytes <TAB> expected loss <TAB> description
(the expected mean loss is computed here in float64 from the printed numbers)
which bench/run.sh reads to know where to POST each file and how many
connections to use.
"""

import argparse
import os
import sys

import numpy as np

SEED = 20261129


def fmt(values):
    """Float32 values as JSON numbers with 8 significant digits."""
    flat = np.asarray(values, dtype=np.float32).ravel()
    strs = np.char.mod("%.8g", flat.astype(np.float64))
    return strs


def sent(strs, shape):
    """The doubles the server reads from the printed numbers."""
    return strs.astype(np.float64).reshape(shape)


def log_softmax(x, axis):
    m = x.max(axis=axis, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=axis, keepdims=True))


def fmt_int(values):
    return np.char.mod("%d", np.asarray(values, dtype=np.int64).ravel())


def nested(strs, shape):
    """Join pre-formatted numbers into a rectangular nested JSON array."""
    if len(shape) == 0:
        return str(strs[0])
    # Innermost rows first, then wrap level by level: linear in the output size.
    last = shape[-1]
    rows = [",".join(strs[i:i + last]) for i in range(0, len(strs), last)]
    items = ["[" + r + "]" for r in rows]
    for dim in reversed(shape[:-1]):
        items = ["[" + ",".join(items[i:i + dim]) + "]" for i in range(0, len(items), dim)]
    assert len(items) == 1
    return items[0]


def flat_object(strs, shape):
    """The KServe / Open Inference Protocol v2 flat tensor object."""
    return ('{"shape":[' + ",".join(str(d) for d in shape) + '],"datatype":"FP32","data":['
            + ",".join(strs) + "]}")


def request(members):
    return "{" + ",".join('"%s":%s' % (k, v) for k, v in members) + "}"


# Each builder returns (body, expected mean loss), the loss computed in float64
# from the numbers as printed, so run.sh can check the server's answer.

def ce_small(rng):
    n, c = 32, 10
    logits = fmt(rng.normal(0.0, 2.0, size=(n, c)))
    targets = rng.integers(0, c, size=(n,))
    x = sent(logits, (n, c))
    expected = -log_softmax(x, 1)[np.arange(n), targets].mean()
    return request([
        ("predictions", nested(logits, (n, c))),
        ("targets", nested(fmt_int(targets), (n,))),
    ]), expected


def ce_seg(rng):
    n, c, h, w = 2, 5, 64, 64
    ignore = 255
    logits = fmt(rng.normal(0.0, 2.0, size=(n, c, h, w)))
    targets = rng.integers(0, c, size=(n, h, w))
    # About 5 % of the pixels are "void", as in VOC/Cityscapes-style masks.
    targets[rng.random(size=(n, h, w)) < 0.05] = ignore
    weight = fmt(rng.uniform(0.5, 2.0, size=(c,)))
    lsm = np.moveaxis(log_softmax(sent(logits, (n, c, h, w)), 1), 1, -1)[targets != ignore]
    kept = targets[targets != ignore]
    wk = sent(weight, (c,))[kept]
    expected = -(wk * lsm[np.arange(len(kept)), kept]).sum() / wk.sum()
    return request([
        ("predictions", nested(logits, (n, c, h, w))),
        ("targets", nested(fmt_int(targets), (n, h, w))),
        ("weight", nested(weight, (c,))),
        ("ignore_index", str(ignore)),
        ("reduction", '"mean"'),
    ]), expected


def bce_seg(rng):
    shape = (4, 1, 128, 128)
    logits = fmt(rng.normal(0.0, 3.0, size=shape))
    masks = (rng.random(size=shape) < 0.3).astype(np.int64)
    x, y = sent(logits, shape), masks.astype(np.float64)
    expected = (np.maximum(x, 0) - x * y + np.log1p(np.exp(-np.abs(x)))).mean()
    # The flat KServe form, as an inference server would return the logits.
    return request([
        ("predictions", flat_object(logits, shape)),
        ("targets", flat_object(fmt_int(masks), shape)),
        ("from_logits", "true"),
    ]), expected


def mse(shape):
    def make(rng):
        predictions = rng.random(size=shape, dtype=np.float32)
        targets = np.clip(predictions + rng.normal(0.0, 0.1, size=shape).astype(np.float32), 0, 1)
        p, t = fmt(predictions), fmt(targets)
        expected = ((sent(p, shape) - sent(t, shape)) ** 2).mean()
        return request([
            ("predictions", nested(p, shape)),
            ("targets", nested(t, shape)),
        ]), expected
    return make


# name, route, size class, description, builder
PAYLOADS = [
    ("ce_32x10", "/loss/ce", "small", "CE logits (32,10), index targets", ce_small),
    ("ce_seg_2x5x64x64", "/loss/ce", "small",
     "CE segmentation (2,5,64,64), targets (2,64,64), weight, ignore_index", ce_seg),
    ("bce_logits_4x1x128x128", "/loss/bce", "small",
     "BCE with logits (4,1,128,128), flat tensor objects", bce_seg),
    ("mse_1x3x256x256", "/loss/mse", "large", "MSE (1,3,256,256)", mse((1, 3, 256, 256))),
    ("mse_4x3x512x512", "/loss/mse", "large", "MSE (4,3,512,512), about 70 MB", mse((4, 3, 512, 512))),
]


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.path.join(here, "payloads"))
    parser.add_argument("--only", action="append", help="payload name (repeatable)")
    parser.add_argument("--list", action="store_true", help="print the payload names and exit")
    args = parser.parse_args()

    names = [p[0] for p in PAYLOADS]
    if args.list:
        print("\n".join(names))
        return
    for name in args.only or []:
        if name not in names:
            sys.exit("unknown payload %r; known: %s" % (name, ", ".join(names)))
    os.makedirs(args.out, exist_ok=True)

    manifest_path = os.path.join(args.out, "manifest.tsv")
    expected_before = {}
    if os.path.exists(manifest_path):
        with open(manifest_path) as f:
            for line in f:
                cols = line.rstrip("\n").split("\t")
                if len(cols) >= 6:
                    expected_before[cols[0]] = cols[4]

    manifest = []
    for index, (name, route, size, description, build) in enumerate(PAYLOADS):
        path = os.path.join(args.out, name + ".json")
        if args.only is None or name in args.only:
            # One generator per payload, seeded from its position, so that
            # --only writes the same bytes as a full run.
            rng = np.random.default_rng([SEED, index])
            body, expected = build(rng)
            body = body.encode("ascii")
            with open(path + ".tmp", "wb") as f:
                f.write(body)
            os.replace(path + ".tmp", path)
            expected_before[name] = repr(float(expected))
            print("%-24s %-10s %12d bytes  loss %-22s %s" % (name, route, len(body), expected_before[name],
                                                           description))
        if os.path.exists(path) and name in expected_before:
            manifest.append((name, route, size, os.path.getsize(path), expected_before[name], description))

    with open(manifest_path, "w") as f:
        for row in manifest:
            f.write("\t".join(str(x) for x in row) + "\n")


if __name__ == "__main__":
    main()
