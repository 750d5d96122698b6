#!/usr/bin/env python3
"""Writes Tests/LossesTests/Fixtures/golden_examples.json: the reference
answer to every request example of every declared loss and score, so the
examples that openapi.yaml shows (generated from the declarations in
Sources/LossService/Declarations/ by `lossd print-openapi`) are checked
against PyTorch (or the float64 reference of make_image_losses.py) end to end.

    pip install torch numpy pyyaml mpmath
    python3 scripts/make_golden_examples.py

Driven by the declarations: it reads each /loss/{name} and /score/{name}
path's request examples from openapi.yaml and answers each with the
generator function of that loss (REFERENCES below). A declared loss with no
entry there stops the script, and GoldenEndToEndTests fails until every
declaration's every example has its case here ("example NAME EXAMPLE").
"""

import os
import sys
import warnings

import numpy as np
import torch
import yaml

sys.path.insert(0, os.path.dirname(__file__))
import make_golden as golden  # noqa: E402
import make_golden_more as more  # noqa: E402
import make_image_losses as image  # noqa: E402

COMMAND = "python3 scripts/make_golden_examples.py"
ROOT = os.path.join(os.path.dirname(__file__), "..")
OUT = os.path.join(ROOT, "Tests", "LossesTests", "Fixtures", "golden_examples.json")

torch.set_default_dtype(torch.float64)


def regression(loss):
    return lambda name, pred, target, **options: more.regression_case(loss, name, pred, target, **options)


# Each declared loss's reference: (name, predictions, targets, **other members) -> a golden case.
REFERENCES = {
    "ce": golden.ce_case,
    "bce": golden.bce_case,
    "mse": golden.mse_case,
    "nll": more.nll_case,
    "l1": regression("l1"),
    "smooth_l1": lambda name, pred, target, **o: more.regression_case(
        "smooth_l1", name, pred, target, **dict({"beta": 1.0}, **o)),
    "huber": lambda name, pred, target, **o: more.regression_case(
        "huber", name, pred, target, **dict({"delta": 1.0}, **o)),
    "kl": more.kl_case,
    "focal": image.focal_case,
    "dice": image.dice_case,
    "psnr": image.psnr_case,
    "ssim": image.ssim_case,
}


def tensor(value):
    """A request tensor (number, nested array or {shape, data} object) as a float64 array."""
    if isinstance(value, dict):
        return np.asarray(value["data"], dtype=np.float64).reshape(value["shape"])
    return np.asarray(value, dtype=np.float64)


def examples(document):
    """(loss name, example name, members) for every declared route's request example, in document order."""
    for path, item in document["paths"].items():
        kind, _, name = path.strip("/").partition("/")
        if kind not in ("loss", "score") or not name or "post" not in item:
            continue
        content = item["post"]["requestBody"]["content"]["application/json"]
        for example, body in content.get("examples", {}).items():
            yield name, example, body["value"]


def main():
    with open(os.path.join(ROOT, "openapi.yaml")) as f:
        document = yaml.safe_load(f)
    cases = []
    for loss, example, members in examples(document):
        if loss not in REFERENCES:
            raise SystemExit(f"no reference for the declared loss {loss!r}: add it to REFERENCES")
        members = dict(members)
        pred, target = tensor(members.pop("predictions")), tensor(members.pop("targets"))
        options = {k: (tensor(v) if isinstance(v, (list, dict)) else v) for k, v in members.items()}
        case = REFERENCES[loss](f"example {loss} {example}", pred, target, **options)
        case["name"] = f"example {loss} {example}"
        cases.append(case)
    golden.write_fixture(OUT, COMMAND, 0, "the request examples of openapi.yaml (from the loss declarations), "
                         "answered by the references of make_golden.py, make_golden_more.py and "
                         "make_image_losses.py; non-finite numbers are the strings nan, inf, -inf", cases)


if __name__ == "__main__":
    warnings.simplefilter("ignore")
    main()
