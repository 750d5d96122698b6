#!/usr/bin/env python3
"""Write the benchmark's request bodies (fixed seed, numpy only).

Every payload is a valid lossd request (see shared/api-contract.md) whose
tensors hold float32 values printed with 8 significant digits, the way a
client that dumps a float32 model output would send them.  The same seed
gives byte-identical files on every machine, so runs are comparable.

Usage: python3 bench/make_payloads.py [--out bench/payloads] [--only NAME ...]

Besides one NAME.json per payload it writes manifest.tsv:
    name <TAB> route <TAB> size class (small|large) <TAB> bytes <TAB> description
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


def ce_small(rng):
    n, c = 32, 10
    logits = rng.normal(0.0, 2.0, size=(n, c))
    targets = rng.integers(0, c, size=(n,))
    return request([
        ("predictions", nested(fmt(logits), (n, c))),
        ("targets", nested(fmt_int(targets), (n,))),
    ])


def ce_seg(rng):
    n, c, h, w = 2, 5, 64, 64
    ignore = 255
    logits = rng.normal(0.0, 2.0, size=(n, c, h, w))
    targets = rng.integers(0, c, size=(n, h, w))
    # About 5 % of the pixels are "void", as in VOC/Cityscapes-style masks.
    targets[rng.random(size=(n, h, w)) < 0.05] = ignore
    weight = rng.uniform(0.5, 2.0, size=(c,))
    return request([
        ("predictions", nested(fmt(logits), (n, c, h, w))),
        ("targets", nested(fmt_int(targets), (n, h, w))),
        ("weight", nested(fmt(weight), (c,))),
        ("ignore_index", str(ignore)),
        ("reduction", '"mean"'),
    ])


def bce_seg(rng):
    shape = (4, 1, 128, 128)
    logits = rng.normal(0.0, 3.0, size=shape)
    masks = (rng.random(size=shape) < 0.3).astype(np.int64)
    # The flat KServe form, as an inference server would return the logits.
    return request([
        ("predictions", flat_object(fmt(logits), shape)),
        ("targets", flat_object(fmt_int(masks), shape)),
        ("from_logits", "true"),
    ])


def mse(shape):
    def make(rng):
        predictions = rng.random(size=shape, dtype=np.float32)
        targets = np.clip(predictions + rng.normal(0.0, 0.1, size=shape).astype(np.float32), 0, 1)
        return request([
            ("predictions", nested(fmt(predictions), shape)),
            ("targets", nested(fmt(targets), shape)),
        ])
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
    args = parser.parse_args()

    names = [p[0] for p in PAYLOADS]
    for name in args.only or []:
        if name not in names:
            sys.exit("unknown payload %r; known: %s" % (name, ", ".join(names)))
    os.makedirs(args.out, exist_ok=True)

    manifest = []
    for index, (name, route, size, description, build) in enumerate(PAYLOADS):
        path = os.path.join(args.out, name + ".json")
        if args.only is None or name in args.only:
            # One generator per payload, seeded from its position, so that
            # --only writes the same bytes as a full run.
            rng = np.random.default_rng([SEED, index])
            body = build(rng).encode("ascii")
            with open(path + ".tmp", "wb") as f:
                f.write(body)
            os.replace(path + ".tmp", path)
            print("%-24s %-10s %12d bytes  %s" % (name, route, len(body), description))
        if os.path.exists(path):
            manifest.append((name, route, size, os.path.getsize(path), description))

    with open(os.path.join(args.out, "manifest.tsv"), "w") as f:
        for row in manifest:
            f.write("\t".join(str(x) for x in row) + "\n")


if __name__ == "__main__":
    main()
