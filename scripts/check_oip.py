"""Checks lossd's Open Inference Protocol v2 routes with the real clients:
tritonclient.http (binary and JSON tensors, FP64, FP32 and FP16, BF16 in
binary (the only form tritonclient sends it in), gzip on top, every model,
reduction none/mean/sum) and KServe's REST client. Every golden
case (Tests/LossesTests/Fixtures/*.json, PyTorch float64 values) is scored
over the protocol and must equal PyTorch within the golden tolerance
(relative 1e-12, absolute 1e-15) and the JSON route's answer for the same
values exactly; a narrower type's values, as that type holds them (BF16:
rounded here to nearest even from float32, as torch's .to(torch.bfloat16)
does), equal the JSON route's answer for those values exactly.
Usage: python check_oip.py <base-url>   (scripts/check-oip.sh)"""
import asyncio
import json
import math
import sys
import urllib.error
import urllib.request
from pathlib import Path

import ml_dtypes  # tritonclient's own dependency: its BF16 arrays are ml_dtypes.bfloat16
import numpy as np
import tritonclient.http as triton

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ["golden.json", "golden_more.json", "image_losses.json"]
TENSORS = ["predictions", "targets", "weight", "pos_weight"]
passed = failed = 0


def check(ok, what):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print("FAIL", what)


def close(actual, expected, relative=1e-12, absolute=1e-15):
    if isinstance(expected, str):
        expected = float(expected)
    if math.isnan(expected):
        return math.isnan(actual)
    if math.isinf(expected):
        return actual == expected
    return abs(actual - expected) <= max(absolute, relative * abs(expected))


def same(actual, expected):
    """Bit-equal, NaN equal to NaN."""
    return (math.isnan(actual) and math.isnan(expected)) or actual == expected


def post_json(base, path, body):
    request = urllib.request.Request(base + path, data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def values(result):
    """The JSON route's loss as a flat float list (null is NaN)."""
    loss = result["loss"]
    flat = [float(x) for x in np.array(loss if isinstance(loss, list) else [loss], dtype=np.float64).ravel()]
    kinds = result.get("nonfinite")
    return restore(flat, [kinds] if isinstance(kinds, str) else kinds)


def restore(flat, kinds):
    """Puts the named non-finite values (nonfinite: "nan", "inf", "-inf") back where JSON has null."""
    kinds = iter(kinds or [])
    return [float(next(kinds, "nan")) if math.isnan(x) else x for x in flat]


def cases():
    for name in FIXTURES:
        path = ROOT / "Tests/LossesTests/Fixtures" / name
        if path.exists():
            yield from json.loads(path.read_text())["cases"]


def bf16_round(values):
    """The bfloat16 values nearest `values` (float64), as float64: through float32, then
    round to nearest, ties to even, on the float32 bits (torch's c10::BFloat16 rounding;
    a value past bfloat16's range becomes infinite). Computed here, not by the client."""
    with np.errstate(over="ignore"):
        bits = np.asarray(values, dtype=np.float64).astype(np.float32).view(np.uint32).astype(np.uint64)
    bits = (bits + 0x7FFF + ((bits >> 16) & 1)) & 0xFFFF0000
    return bits.astype(np.uint32).view(np.float32).astype(np.float64)


def array(tensor, dtype):
    data = [float(x) for x in tensor["data"]]
    with np.errstate(over="ignore"):
        if dtype == ml_dtypes.bfloat16:
            # Exact: every rounded value is a bfloat16.
            return bf16_round(data).astype(ml_dtypes.bfloat16).reshape(tensor["shape"])
        return np.array(data, dtype=np.float64).astype(dtype).reshape(tensor["shape"])


def integral(tensor):
    return all(math.isfinite(float(x)) and float(x) == int(float(x)) and abs(float(x)) < 2**53 for x in tensor["data"])


def main():
    base = sys.argv[1].rstrip("/")
    host = base.split("://", 1)[1]
    client = triton.InferenceServerClient(host, network_timeout=60)
    check(client.is_server_live(), "tritonclient: server live")
    check(client.is_server_ready(), "tritonclient: server ready")
    metadata = client.get_server_metadata()
    check(metadata["name"] == "lossd" and "binary_tensor_data" in metadata["extensions"], f"server metadata {metadata}")

    # Every model the service documents (its loss and score routes).
    with urllib.request.urlopen(base + "/openapi.yaml", timeout=10) as response:
        document = response.read().decode()
    routes = {}
    for line in document.splitlines():
        for family in ("/loss/", "/score/"):
            if line.startswith("  " + family) and line.rstrip().endswith(":"):
                routes[line.strip()[len(family):-1]] = line.strip()[:-1]
    check(len(routes) >= 3, f"models from openapi.yaml: {sorted(routes)}")
    for model in routes:
        check(client.is_model_ready(model), f"model {model} ready")
        inputs = [i["name"] for i in client.get_model_metadata(model)["inputs"]]
        check(inputs[:2] == ["predictions", "targets"], f"model {model} inputs {inputs}")

    seen, reductions, skipped = {}, set(), 0
    bf16_models, bf16_tensors = {}, 0  # BF16 requests by model, BF16 inputs sent
    for case in cases():
        model = case["loss"]
        if model not in routes:
            skipped += 1
            continue
        options = {k: v for k, v in case.items() if k not in TENSORS + ["name", "loss", "expected"]}
        # A list-valued member (psnr's dim) is a tensor: an input, not a parameter.
        extra = {k: {"shape": [len(v)], "data": v} for k, v in options.items() if isinstance(v, list)}
        options = {k: v for k, v in options.items() if k not in extra}
        if any(isinstance(v, str) and v in ("inf", "-inf", "nan") for v in options.values()):
            skipped += 1  # a non-finite option: JSON (and so the parameters) has no such number
            continue
        tensors = {k: case[k] for k in TENSORS if case.get(k) is not None}
        tensors.update(extra)
        # Non-finite inputs (the fixture's "inf" strings) are no JSON: they go in binary only, against PyTorch.
        finite = all(math.isfinite(float(x)) for t in tensors.values() for x in t["data"])
        reference = None
        if finite:
            status, reference = post_json(base, routes[model], {**tensors, **options})
            if status != 200:
                check(False, f"{case['name']}: JSON route answered {status} {reference}")
                continue
        seen[model] = seen.get(model, 0) + 1
        reductions.add(options.get("reduction", "mean"))
        expected = case["expected"]

        variants = [("FP64", True, None)]
        if finite:
            variants += [("FP64", False, None), ("FP64", True, "gzip")]
        if finite and seen[model] <= 40:  # the narrower types on a share of the cases
            variants += [("FP32", True, None), ("FP32", False, None), ("FP16", True, None), ("BF16", True, None)]
        for datatype, binary, compression in variants:
            dtype = {"FP64": np.float64, "FP32": np.float32, "FP16": np.float16, "BF16": ml_dtypes.bfloat16}[datatype]
            if datatype != "FP64":
                with np.errstate(over="ignore"):
                    if not all(np.isfinite(array(t, dtype).astype(np.float64)).all() for t in tensors.values()):
                        continue  # past the narrower type's range
            sent, held = [], {}
            for name, tensor in tensors.items():
                if name == "targets" and integral(tensor) and datatype != "FP64":
                    typed, wire = array(tensor, np.int64), "INT64"  # class indices and labels as integers
                else:
                    typed, wire = array(tensor, dtype), datatype
                held[name] = {"shape": tensor["shape"], "data": typed.astype(np.float64).ravel().tolist()}
                bf16_tensors += wire == "BF16"
                entry = triton.InferInput(name, list(typed.shape), wire)
                entry.set_data_from_numpy(typed, binary_data=binary)
                sent.append(entry)
            outputs = [triton.InferRequestedOutput(n, binary_data=binary) for n in ("loss", "count", "weight_sum")]
            label = f"{case['name']} [{datatype} {'binary' if binary else 'JSON'}{' gzip' if compression else ''}]"
            if datatype == "BF16":
                bf16_models[model] = bf16_models.get(model, 0) + 1
            try:
                result = client.infer(model, sent, outputs=outputs, parameters=options, request_id="check-oip",
                                      request_compression_algorithm=compression)
            except Exception as error:  # noqa: BLE001 (any client error is a failure)
                check(False, f"{label}: {error}")
                continue
            loss = [float(x) for x in np.asarray(result.as_numpy("loss"), dtype=np.float64).ravel()]
            loss = restore(loss, (result.get_output("loss").get("parameters") or {}).get("nonfinite"))
            count = int(np.asarray(result.as_numpy("count")).ravel()[0])
            weight_sum = float(np.asarray(result.as_numpy("weight_sum")).ravel()[0])
            check(result.get_response()["id"] == "check-oip", f"{label}: id echoed")
            if datatype == "FP64":
                # PyTorch float64, within the golden tolerance, and the JSON route, exactly.
                check(len(loss) == len(expected["loss"]["data"]) and all(close(a, e) for a, e in zip(loss, expected["loss"]["data"])),
                      f"{label}: loss {loss[:4]} vs PyTorch {expected['loss']['data'][:4]}")
                check(count == expected["count"] and close(weight_sum, expected["weight_sum"]), f"{label}: count/weight_sum")
                want = reference
                if want is None:
                    continue
            else:
                # The same values as the narrower type holds them, through the JSON route.
                status, want = post_json(base, routes[model], {**held, **options})
                if status != 200:
                    check(False, f"{label}: JSON route refused the {datatype} values: {want}")
                    continue
            check(len(loss) == len(values(want)) and all(same(a, e) for a, e in zip(loss, values(want))),
                  f"{label}: loss {loss[:4]} vs the JSON route {values(want)[:4]}")
            check(count == want["count"] and same(weight_sum, float(want["weight_sum"])), f"{label}: count/weight_sum vs the JSON route")

    for model in routes:
        if model not in seen:
            print(f"note: no fixture case for model {model}")
    check(len(seen) >= 3, f"models scored: {sorted(seen)}")
    check({"none", "mean", "sum"} <= reductions, f"reductions covered: {sorted(reductions)}")
    print(f"tritonclient: {sum(seen.values())} golden cases over {len(seen)} models ({skipped} skipped); "
          f"{sum(bf16_models.values())} also with BF16 inputs ({bf16_tensors} tensors)")
    check(set(bf16_models) == set(seen), f"BF16 inputs sent for every model: {sorted(bf16_models)} of {sorted(seen)}")

    # An unknown model, a bad binary size: the protocol's errors.
    try:
        client.infer("no_such_model", [])
        check(False, "tritonclient: an unknown model raised nothing")
    except triton.InferenceServerException as error:
        check("unknown model 'no_such_model'" in str(error), f"unknown model: {error}")

    asyncio.run(kserve_check(base))
    print(f"check-oip: {passed} passed, {failed} failed")
    return 1 if failed else 0


async def kserve_check(base):
    """KServe's own REST client (v2) against the same golden cases' first few per model."""
    from kserve import InferenceRESTClient, InferInput, InferRequest, RESTConfig

    client = InferenceRESTClient(RESTConfig(protocol="v2", timeout=60))
    try:
        check(await client.is_server_ready(base), "kserve: server ready")
        done = {}
        for case in cases():
            model = case["loss"]
            if done.get(model, 0) >= 5:
                continue
            options = {k: v for k, v in case.items() if k not in TENSORS + ["name", "loss", "expected"]}
            if any(isinstance(v, (list, dict)) for v in options.values()):
                continue
            inputs = []
            for name in TENSORS:
                if case.get(name) is None:
                    continue
                typed = array(case[name], np.float64)
                entry = InferInput(name=name, shape=list(typed.shape), datatype="FP64")
                entry.set_data_from_numpy(typed, binary_data=False)
                inputs.append(entry)
            request = InferRequest(model_name=model, infer_inputs=inputs, request_id="kserve-1", parameters=options)
            try:
                response = await client.infer(base, request, model_name=model)
            except Exception as error:  # noqa: BLE001
                if "unknown model" in str(error):
                    continue
                check(False, f"kserve {case['name']}: {error}")
                continue
            done[model] = done.get(model, 0) + 1
            outputs = {o.name: o for o in response.outputs}
            loss = [float(x) for x in np.asarray(outputs["loss"].as_numpy(), dtype=np.float64).ravel()]
            kinds = (getattr(outputs["loss"], "parameters", None) or {}).get("nonfinite")
            loss = restore(loss, getattr(kinds, "string_param", None) and [kinds.string_param] or kinds)
            expected = case["expected"]
            check(len(loss) == len(expected["loss"]["data"]) and all(close(a, e) for a, e in zip(loss, expected["loss"]["data"])),
                  f"kserve {case['name']}: loss {loss[:4]} vs PyTorch {expected['loss']['data'][:4]}")
            check(int(np.asarray(outputs["count"].as_numpy()).ravel()[0]) == expected["count"], f"kserve {case['name']}: count")
            check(response.id == "kserve-1", f"kserve {case['name']}: id echoed ({response.id})")
        print(f"kserve: {sum(done.values())} golden cases over {len(done)} models")
        check(len(done) >= 3, f"kserve models scored: {sorted(done)}")
    finally:
        await client.close()


if __name__ == "__main__":
    sys.exit(main())
