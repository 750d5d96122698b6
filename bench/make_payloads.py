#!/usr/bin/env python3
"""Write the benchmark's request bodies (fixed seed, numpy only).

Every JSON payload is a valid lossd request (see shared/api-contract.md)
whose tensors hold float32 values printed with 8 significant digits, the way
a client that dumps a float32 model output would send them.  Every NAME_bin
payload holds the same tensors as NAME, as an Open Inference Protocol v2
request with Triton's binary tensor data extension, the way tritonclient.http
sends them: a JSON header (Inference-Header-Content-Length bytes) and then
each input's raw little-endian bytes (FP32 values, INT64 class indices).
The same seed gives byte-identical files on every machine, so runs are
comparable.

Usage: python3 bench/make_payloads.py [--out bench/payloads] [--only NAME ...] [--list]

Besides one NAME.json (JSON) or NAME.bin (binary) per payload it writes manifest.tsv:
    name <TAB> route <TAB> size class (small|large) <TAB> bytes <TAB> expected loss
         <TAB> Inference-Header-Content-Length ("-" for a JSON body) <TAB> description
(the expected mean loss is computed here in float64 from the numbers the
server reads: the printed ones for JSON, the float32 values for binary)
which bench/run.sh reads to know where to POST each file, with which
headers, and how many connections to use.
"""

import argparse
import json
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


# Each builder returns (body, expected mean loss, binary), the loss computed in
# float64 from the numbers as printed, so run.sh can check the server's answer;
# binary is (inputs, parameters, expected) for the same tensors as an
# Open Inference Protocol request with binary inputs, its loss computed from
# the float32 values themselves.

def ce_loss(x, targets, weight=None, ignore=None):
    """Mean cross entropy over the class axis 1, as torch computes it."""
    lsm = np.moveaxis(log_softmax(x, 1), 1, -1)
    keep = np.ones(targets.shape, dtype=bool) if ignore is None else targets != ignore
    kept = targets[keep]
    picked = lsm[keep][np.arange(len(kept)), kept]
    w = np.ones(len(kept)) if weight is None else weight[kept]
    return -(w * picked).sum() / w.sum()


def ce_small(rng):
    n, c = 32, 10
    raw = rng.normal(0.0, 2.0, size=(n, c)).astype(np.float32)
    logits = fmt(raw)
    targets = rng.integers(0, c, size=(n,))
    expected = ce_loss(sent(logits, (n, c)), targets)
    binary = ([("predictions", raw), ("targets", targets)], {},
              ce_loss(raw.astype(np.float64), targets))
    return request([
        ("predictions", nested(logits, (n, c))),
        ("targets", nested(fmt_int(targets), (n,))),
    ]), expected, binary


def ce_seg(rng):
    n, c, h, w = 2, 5, 64, 64
    ignore = 255
    raw = rng.normal(0.0, 2.0, size=(n, c, h, w)).astype(np.float32)
    logits = fmt(raw)
    targets = rng.integers(0, c, size=(n, h, w))
    # About 5 % of the pixels are "void", as in VOC/Cityscapes-style masks.
    targets[rng.random(size=(n, h, w)) < 0.05] = ignore
    raw_weight = rng.uniform(0.5, 2.0, size=(c,)).astype(np.float32)
    weight = fmt(raw_weight)
    expected = ce_loss(sent(logits, (n, c, h, w)), targets, sent(weight, (c,)), ignore)
    binary = ([("predictions", raw), ("targets", targets), ("weight", raw_weight)],
              {"ignore_index": ignore, "reduction": "mean"},
              ce_loss(raw.astype(np.float64), targets, raw_weight.astype(np.float64), ignore))
    return request([
        ("predictions", nested(logits, (n, c, h, w))),
        ("targets", nested(fmt_int(targets), (n, h, w))),
        ("weight", nested(weight, (c,))),
        ("ignore_index", str(ignore)),
        ("reduction", '"mean"'),
    ]), expected, binary


def bce_loss(x, y):
    return (np.maximum(x, 0) - x * y + np.log1p(np.exp(-np.abs(x)))).mean()


def bce_seg(rng):
    shape = (4, 1, 128, 128)
    raw = rng.normal(0.0, 3.0, size=shape).astype(np.float32)
    logits = fmt(raw)
    masks = (rng.random(size=shape) < 0.3).astype(np.int64)
    expected = bce_loss(sent(logits, shape), masks.astype(np.float64))
    # The masks travel as FP32, as in the JSON form's flat tensor object.
    binary = ([("predictions", raw), ("targets", masks.astype(np.float32))], {"from_logits": True},
              bce_loss(raw.astype(np.float64), masks.astype(np.float64)))
    # The flat KServe form, as an inference server would return the logits.
    return request([
        ("predictions", flat_object(logits, shape)),
        ("targets", flat_object(fmt_int(masks), shape)),
        ("from_logits", "true"),
    ]), expected, binary


def mse(shape):
    def make(rng):
        predictions = rng.random(size=shape, dtype=np.float32)
        targets = np.clip(predictions + rng.normal(0.0, 0.1, size=shape).astype(np.float32), 0, 1)
        p, t = fmt(predictions), fmt(targets)
        expected = ((sent(p, shape) - sent(t, shape)) ** 2).mean()
        binary = ([("predictions", predictions), ("targets", targets)], {},
                  ((predictions.astype(np.float64) - targets.astype(np.float64)) ** 2).mean())
        return request([
            ("predictions", nested(p, shape)),
            ("targets", nested(t, shape)),
        ]), expected, binary
    return make


DATATYPES = {np.dtype(np.float32): "FP32", np.dtype(np.float64): "FP64", np.dtype(np.int64): "INT64"}


def oip_binary(inputs, parameters):
    """An inference request with every input in the binary part, the answer
    asked for as JSON; returns (body, header length)."""
    entries, blobs = [], []
    for name, array in inputs:
        array = np.ascontiguousarray(array)
        blob = array.astype(array.dtype.newbyteorder("<"), copy=False).tobytes()
        entries.append({"name": name, "shape": list(array.shape), "datatype": DATATYPES[array.dtype],
                        "parameters": {"binary_data_size": len(blob)}})
        blobs.append(blob)
    header = {"inputs": entries, "outputs": [{"name": "loss", "parameters": {"binary_data": False}}]}
    if parameters:
        header["parameters"] = parameters
    text = json.dumps(header, separators=(",", ":")).encode("ascii")
    return text + b"".join(blobs), len(text)


def model(route):
    return route.rsplit("/", 1)[1]


# name, route, size class, description, builder, the binary form's description
PAYLOADS = [
    ("ce_32x10", "/loss/ce", "small", "CE logits (32,10), index targets", ce_small,
     "ce_32x10 as binary tensors: FP32 logits, INT64 targets"),
    ("ce_seg_2x5x64x64", "/loss/ce", "small",
     "CE segmentation (2,5,64,64), targets (2,64,64), weight, ignore_index", ce_seg,
     "ce_seg_2x5x64x64 as binary tensors: FP32 logits and weight, INT64 targets, options as parameters"),
    ("bce_logits_4x1x128x128", "/loss/bce", "small",
     "BCE with logits (4,1,128,128), flat tensor objects", bce_seg,
     "bce_logits_4x1x128x128 as binary tensors: FP32 logits and masks, from_logits as a parameter"),
    ("mse_1x3x256x256", "/loss/mse", "large", "MSE (1,3,256,256)", mse((1, 3, 256, 256)),
     "mse_1x3x256x256 as binary tensors: FP32 images"),
    ("mse_4x3x512x512", "/loss/mse", "large", "MSE (4,3,512,512), about 70 MB", mse((4, 3, 512, 512)),
     "mse_4x3x512x512 as binary tensors: FP32 images, 12.6 MB each"),
]


BINARY_SUFFIX = "_bin"


def listing():
    """Every payload: (name, route, size class, description, base index,
    binary), each JSON payload followed by its binary form."""
    out = []
    for index, (name, route, size, description, _build, binary_description) in enumerate(PAYLOADS):
        out.append((name, route, size, description, index, False))
        out.append((name + BINARY_SUFFIX, "/v2/models/%s/infer" % model(route), size, binary_description,
                    index, True))
    return out


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.path.join(here, "payloads"))
    parser.add_argument("--only", action="append", help="payload name (repeatable)")
    parser.add_argument("--list", action="store_true", help="print the payload names and exit")
    args = parser.parse_args()

    payloads = listing()
    names = [p[0] for p in payloads]
    if args.list:
        print("\n".join(names))
        return
    for name in args.only or []:
        if name not in names:
            sys.exit("unknown payload %r; known: %s" % (name, ", ".join(names)))
    os.makedirs(args.out, exist_ok=True)

    manifest_path = os.path.join(args.out, "manifest.tsv")
    before = {}  # name -> (expected, header length) of payloads not rewritten now
    if os.path.exists(manifest_path):
        with open(manifest_path) as f:
            for line in f:
                cols = line.rstrip("\n").split("\t")
                if len(cols) >= 7:
                    before[cols[0]] = (cols[4], cols[5])

    # One generator per base payload, seeded from its position, so that --only
    # writes the same bytes as a full run, and NAME and NAME_bin the same tensors.
    built = {}
    manifest = []
    for name, route, size, description, index, binary in payloads:
        path = os.path.join(args.out, name + (".bin" if binary else ".json"))
        if args.only is None or name in args.only:
            if index not in built:
                built[index] = PAYLOADS[index][4](np.random.default_rng([SEED, index]))
            text, expected, (inputs, parameters, expected_binary) = built[index]
            if binary:
                body, header_length = oip_binary(inputs, parameters)
                expected, header_length = expected_binary, str(header_length)
            else:
                body, header_length = text.encode("ascii"), "-"
            with open(path + ".tmp", "wb") as f:
                f.write(body)
            os.replace(path + ".tmp", path)
            before[name] = (repr(float(expected)), header_length)
            print("%-28s %-24s %12d bytes  loss %-22s %s" % (name, route, len(body), before[name][0],
                                                           description))
        if os.path.exists(path) and name in before:
            manifest.append((name, route, size, os.path.getsize(path), before[name][0], before[name][1],
                             description))

    with open(manifest_path, "w") as f:
        for row in manifest:
            f.write("\t".join(str(x) for x in row) + "\n")


if __name__ == "__main__":
    main()
