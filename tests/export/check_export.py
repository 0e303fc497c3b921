#!/usr/bin/python3
"""check_export.py — the export tests that involve other runtimes (registered in tests/export.cmake).

    check_export.py TEST --work DIR --bin BUILD_DIR --src SOURCE_DIR --node-dir DIR --ort-version V

TEST is one of:
  models       (fixture) ResNet-18 v1 and ResNet-50 v2 with trained-looking weights exported by
               test_export_model, a random input batch, and our scores (resnet-predict --raw-input)
  ort_install  (fixture) onnxruntime-node from npm into --node-dir (ONNXRUNTIME_NODE_INSTALL=skip)
  checker      onnx.checker.check_model(full_check=True) and the zoo format facts
  onnxruntime  the same scores in onnxruntime (node), within 1e-4 relative
  opencv       the same scores in OpenCV's dnn module, within 1e-4 relative
  zoo          our exports rewritten as the ONNX model zoo stores them import to the same scores
  torch        torch.onnx.export of torchvision's resnet18 (BN folded, preserved, training form;
               opset 7 to 14) imports and reproduces torch's scores within 1e-4 relative
  tools        resnet-predict on JPEGs, resnet-eval on class folders, resnet-export

Relative difference of two score tensors: max |ours - ref| / max |ref|. Every missing tool or
module is a failure, never a skip. Runs with Debian's /usr/bin/python3 (onnx, cv2, torch, numpy).
"""
import argparse
import copy
import os
import shutil
import subprocess
import sys

import numpy as np

TOL = 1e-4
N, C, H, W = 2, 3, 224, 224
MODELS = [("resnet18v1", 18, 1), ("resnet50v2", 50, 2)]


def fail(msg):
    print(f"FAIL: {msg}")
    sys.exit(1)


def run(cmd, expect_rc=0, env=None):
    print("+ " + " ".join(cmd), flush=True)
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if expect_rc is not None and r.returncode != expect_rc:
        fail(f"{cmd[0]} exited {r.returncode} (expected {expect_rc})\nstdout:\n{r.stdout[-3000:]}\nstderr:\n{r.stderr[-3000:]}")
    return r


def tool(args, sub, name):
    p = os.path.join(args.bin, sub, name)
    if not os.access(p, os.X_OK):
        fail(f"tool not found: {p} (build it first)")
    return p


def work(args, *parts):
    return os.path.join(args.work, *parts)


def rel_diff(ours, ref):
    ours, ref = np.asarray(ours, np.float64), np.asarray(ref, np.float64)
    if ours.shape != ref.shape:
        fail(f"shapes differ: {ours.shape} vs {ref.shape}")
    if not np.all(np.isfinite(ours)) or not np.all(np.isfinite(ref)):
        fail("non-finite scores")
    if np.std(ref) <= 0:
        fail("degenerate reference scores")
    return float(np.max(np.abs(ours - ref)) / max(np.max(np.abs(ref)), 1e-12))


def compare(what, ours, ref, tol=TOL):
    d = rel_diff(ours, ref)
    print(f"{what}: max relative difference {d:.3e} (tolerance {tol:.0e})", flush=True)
    if d > tol:
        fail(f"{what}: {d:.3e} > {tol:.0e}")
    return d


def read_f32(path, shape):
    a = np.fromfile(path, dtype="<f4")
    if a.size != int(np.prod(shape)):
        fail(f"{path}: {a.size} floats, expected {shape}")
    return a.reshape(shape)


def predict_raw(args, model, inp, shape, out):
    run([tool(args, "export", "resnet-predict"), model, "--raw-input", inp, "--shape", ",".join(map(str, shape)),
         "--raw-output", out, "--top", "0"])
    return np.fromfile(out, dtype="<f4").reshape(shape[0], -1)


def need_models(args):
    for name, _, _ in MODELS:
        for f in (f"{name}.onnx", f"{name}.ours.bin"):
            if not os.path.exists(work(args, f)):
                fail(f"{work(args, f)} missing: the export_models fixture did not run")
    return read_f32(work(args, "input.bin"), (N, C, H, W))


# ---- fixtures -----------------------------------------------------------------------------------

def t_models(args):
    os.makedirs(args.work, exist_ok=True)
    x = np.random.default_rng(0).standard_normal((N, C, H, W)).astype("<f4")
    x.tofile(work(args, "input.bin"))
    for name, depth, version in MODELS:
        run([tool(args, "tests", "test_export_model"), work(args, f"{name}.onnx"), "--depth", str(depth),
             "--version", str(version), "--seed", str(depth + version)])
        y = predict_raw(args, work(args, f"{name}.onnx"), work(args, "input.bin"), (N, C, H, W),
                        work(args, f"{name}.ours.bin"))
        print(f"{name}: scores {y.shape}, range [{y.min():.3f}, {y.max():.3f}]")


def ort_env(args):
    env = dict(os.environ)
    env["NODE_PATH"] = os.path.join(args.node_dir, "node_modules")
    return env


def ort_check(args):
    r = run(["node", "-e", "const o=require('onnxruntime-node'); console.log(o.env.versions.node)"], None, ort_env(args))
    return r.returncode == 0 and r.stdout.strip() == args.ort_version


def t_ort_install(args):
    for exe in ("node", "npm"):
        if not shutil.which(exe):
            fail(f"{exe} not found on PATH")
    if os.path.isdir(os.path.join(args.node_dir, "node_modules", "onnxruntime-node")) and ort_check(args):
        print(f"onnxruntime-node {args.ort_version} already installed in {args.node_dir}")
        return
    os.makedirs(args.node_dir, exist_ok=True)
    env = dict(os.environ)
    env["ONNXRUNTIME_NODE_INSTALL"] = "skip"  # the CPU binaries ship in the package; no download step
    run(["npm", "install", "--prefix", args.node_dir, "--no-audit", "--no-fund", "--no-save",
         f"onnxruntime-node@{args.ort_version}"], 0, env)
    if not ort_check(args):
        fail(f"onnxruntime-node {args.ort_version} does not load from {args.node_dir}")


# ---- consumers ----------------------------------------------------------------------------------

def t_checker(args):
    import onnx
    need_models(args)
    for name, _, version in MODELS:
        path = work(args, f"{name}.onnx")
        m = onnx.load(path)
        onnx.checker.check_model(m, full_check=True)
        g = m.graph
        facts = {
            "ir_version 3": m.ir_version == 3,
            "one opset import, default domain, version 7":
                len(m.opset_import) == 1 and m.opset_import[0].domain == "" and m.opset_import[0].version == 7,
            "producer": m.producer_name == "resnet.c" and m.producer_version != "",
            "input data [N,3,224,224]": g.input[0].name == "data" and
                [d.dim_param or d.dim_value for d in g.input[0].type.tensor_type.shape.dim] == ["N", 3, 224, 224],
            "every initializer is an input": {t.name for t in g.initializer} == {i.name for i in g.input[1:]},
            "one output [N, 1000]": len(g.output) == 1 and
                [d.dim_param or d.dim_value for d in g.output[0].type.tensor_type.shape.dim] == ["N", 1000],
            "op vocabulary": {n.op_type for n in g.node} <= {"Conv", "BatchNormalization", "Relu", "Add", "MaxPool",
                                                              "GlobalAveragePool", "Flatten", "Gemm"},
            "BN spatial=1": all(any(a.name == "spatial" and a.i == 1 for a in n.attribute)
                                for n in g.node if n.op_type == "BatchNormalization"),
            "Gemm transB=1": all(any(a.name == "transB" and a.i == 1 for a in n.attribute)
                                 for n in g.node if n.op_type == "Gemm"),
            "raw_data float": all(t.data_type == 1 and len(t.raw_data) == 4 * int(np.prod(t.dims)) for t in g.initializer),
            "first op": g.node[0].op_type == ("Conv" if version == 1 else "BatchNormalization"),
        }
        bad = [k for k, ok in facts.items() if not ok]
        if bad:
            fail(f"{name}: {bad}")
        print(f"{name}: check_model(full_check=True) passed; {len(g.node)} nodes, {len(g.initializer)} initializers")


def t_onnxruntime(args):
    x = need_models(args)
    if not shutil.which("node"):
        fail("node not found on PATH")
    if not ort_check(args):
        fail(f"onnxruntime-node {args.ort_version} not installed in {args.node_dir} (export_ort_install fixture)")
    script = os.path.join(args.src, "tests", "export", "ort_run.js")
    for name, _, _ in MODELS:
        out = work(args, f"{name}.ort.bin")
        r = run(["node", script, work(args, f"{name}.onnx"), work(args, "input.bin"), f"{N},{C},{H},{W}", out], 0,
                ort_env(args))
        print(r.stdout.strip())
        ref = read_f32(out, (N, 1000))
        compare(f"{name} vs onnxruntime", read_f32(work(args, f"{name}.ours.bin"), (N, 1000)), ref)
    del x


def t_opencv(args):
    import cv2
    x = need_models(args)
    for name, _, _ in MODELS:
        net = cv2.dnn.readNetFromONNX(work(args, f"{name}.onnx"))
        net.setInput(x)
        ref = np.array(net.forward()).reshape(N, -1)
        compare(f"{name} vs OpenCV {cv2.__version__} dnn", read_f32(work(args, f"{name}.ours.bin"), (N, 1000)), ref)


# ---- the model zoo's storage and names ----------------------------------------------------------

def float_data_tensor(name, a):
    """A FLOAT TensorProto with its values in float_data (field 4, packed), built from the wire bytes:
    much faster than a Python list for 25 M floats."""
    from onnx import TensorProto
    raw = np.ascontiguousarray(a, dtype="<f4").tobytes()
    n, length = len(raw), b""
    while True:
        length += bytes([(n & 0x7F) | (0x80 if n > 0x7F else 0)])
        n >>= 7
        if not n:
            break
    t = TensorProto()
    t.MergeFromString(b"\x22" + length + raw)
    t.name = name
    t.data_type = TensorProto.FLOAT
    t.dims.extend(a.shape)
    return t


def zoo_style(src, dst, prefix):
    """Rewrites our export as the zoo's MXNet-exported files are: MXNet-style names, weights in
    float_data, initializers duplicated as graph inputs, a fixed batch of 1, and (v2) the flatten as
    Reshape with an int64 shape initializer."""
    import onnx
    from onnx import helper, numpy_helper, TensorProto
    m = onnx.load(src)
    g = m.graph
    rename, counters = {"data": "data"}, {}

    def fresh(kind):
        counters[kind] = counters.get(kind, -1) + 1
        return f"{prefix}_{kind}{counters[kind]}"

    for n in g.node:
        kind = {"Conv": "conv", "BatchNormalization": "batchnorm", "Relu": "relu", "Add": "plus",
                "MaxPool": "pool", "GlobalAveragePool": "pool", "Flatten": "flatten", "Gemm": "dense"}[n.op_type]
        base = fresh(kind)
        suffixes = {"Conv": ["weight", "bias"], "BatchNormalization": ["gamma", "beta", "running_mean", "running_var"],
                    "Gemm": ["weight", "bias"]}.get(n.op_type, [])
        for name, suf in zip(list(n.input)[1:], suffixes):
            rename[name] = f"{base}_{suf}"
        rename[n.output[0]] = f"{base}_fwd"
        n.name = f"{base}_fwd"
    inits = []
    for t in g.initializer:
        inits.append(float_data_tensor(rename[t.name], numpy_helper.to_array(t)))
    nodes = []
    for n in g.node:
        n.input[:] = [rename[i] for i in n.input]
        n.output[:] = [rename[o] for o in n.output]
        if n.op_type == "Flatten" and prefix.startswith("resnetv2"):
            shape_name = "reshape_attr_tensor164"
            inits.append(helper.make_tensor(shape_name, TensorProto.INT64, [2], [0, -1]))
            n = helper.make_node("Reshape", [n.input[0], shape_name], list(n.output), name=n.name.replace("flatten", "reshape"))
        nodes.append(n)
    inputs = [helper.make_tensor_value_info("data", TensorProto.FLOAT, [1, 3, 224, 224])]
    inputs += [helper.make_tensor_value_info(t.name, t.data_type, list(t.dims)) for t in inits]
    outputs = [helper.make_tensor_value_info(rename[g.output[0].name], TensorProto.FLOAT, [1, 1000])]
    graph = helper.make_graph(nodes, "mxnet_converted_model", inputs, outputs, inits)
    zm = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 7)], producer_name="MXNet")
    zm.ir_version = 3
    if any(len(t.raw_data) for t in zm.graph.initializer):
        fail("zoo-style file still has raw_data")
    onnx.save(zm, dst)


def t_zoo(args):
    x = need_models(args)
    cases = [(name, work(args, f"{name}.onnx"), read_f32(work(args, f"{name}.ours.bin"), (N, 1000)),
              "resnetv17" if v == 1 else "resnetv24") for name, _, v in MODELS]
    # The zoo's v1 bottleneck: stride on the first 1x1, 1x1 convs with a bias.
    r50v1 = work(args, "resnet50v1.onnx")
    run([tool(args, "tests", "test_export_model"), r50v1, "--depth", "50", "--version", "1", "--seed", "51"])
    cases.append(("resnet50v1", r50v1, predict_raw(args, r50v1, work(args, "input.bin"), (N, C, H, W),
                                                   work(args, "resnet50v1.ours.bin")), "resnetv17"))
    for name, src, ours, prefix in cases:
        dst = work(args, f"{name}.zoo.onnx")
        zoo_style(src, dst, prefix)
        y = predict_raw(args, dst, work(args, "input.bin"), (N, C, H, W), work(args, f"{name}.zoo.bin"))
        d = compare(f"{name}: zoo-style file vs our export", y, ours, 1e-6)
        if d != 0.0:
            fail(f"{name}: the zoo-style file should give bit-identical scores")
    del x


# ---- PyTorch ------------------------------------------------------------------------------------

def t_torch(args):
    import onnx
    import torch
    import torchvision
    from torch.onnx import TrainingMode
    os.makedirs(args.work, exist_ok=True)
    torch.manual_seed(0)
    x = torch.randn(N, C, H, W)
    x.numpy().astype("<f4").tofile(work(args, "torch_input.bin"))

    def trained_looking():
        m = torchvision.models.resnet18()  # random weights (no download)
        with torch.no_grad():
            for mod in m.modules():
                if isinstance(mod, torch.nn.BatchNorm2d):
                    mod.weight.uniform_(0.5, 1.5)
                    mod.bias.uniform_(-0.2, 0.2)
                    mod.running_mean.uniform_(-0.2, 0.2)
                    mod.running_var.uniform_(0.5, 1.5)
        return m.eval()

    # (name, opset, mode, fresh BN): what the file must contain.
    variants = [
        ("eval_opset7", 7, TrainingMode.EVAL, False),       # BN folded into conv biases
        ("eval_opset11", 11, TrainingMode.EVAL, False),
        ("fresh_eval_opset7", 7, TrainingMode.EVAL, True),  # identical zero biases de-duplicated: Identity
        ("preserve_opset9", 9, TrainingMode.PRESERVE, False),  # BN kept
        ("fresh_preserve_opset9", 9, TrainingMode.PRESERVE, True),  # BN kept, de-duplicated: Identity
        ("training_opset7", 7, TrainingMode.TRAINING, False),  # BN with 5 outputs
        ("training_opset14", 14, TrainingMode.TRAINING, False),  # BN training_mode=1, 3 outputs
    ]
    torch.manual_seed(1)
    base = trained_looking()
    fresh = torchvision.models.resnet18().eval()
    for name, opset, mode, use_fresh in variants:
        m = copy.deepcopy(fresh if use_fresh else base)
        path = work(args, f"torch_{name}.onnx")
        torch.onnx.export(m, x, path, opset_version=opset, training=mode)
        # Tracing in TRAINING mode runs the model in train mode (running statistics move); the file
        # holds the model as it is afterwards, so the reference is that model in eval mode.
        m.eval()
        with torch.no_grad():
            ref = m(x).numpy()
        g = onnx.load(path).graph
        ops = [n.op_type for n in g.node]
        bn = [n for n in g.node if n.op_type == "BatchNormalization"]
        # Eval mode folds each BN into its conv; torch 2.x does so from opset 9 on and keeps the BNs
        # at opset 7.
        folded = not bn and all(len(n.input) == 3 for n in g.node if n.op_type == "Conv")
        keeps_bn = int(torch.__version__.split(".")[0]) >= 2 and opset < 9
        form = {
            "eval": len(bn) == 20 if keeps_bn else folded,
            "preserve": len(bn) == 20,
            "training": len(bn) == 20 and all(len(n.output) == (5 if opset < 14 else 3) for n in bn),
        }[mode.name.lower()]
        if use_fresh and not (keeps_bn and mode == TrainingMode.EVAL):
            form = form and "Identity" in ops
        if not form:
            fail(f"torch {name}: the file does not have the expected form (ops {sorted(set(ops))})")
        if not all(t.raw_data for t in g.initializer):
            fail(f"torch {name}: expected weights in raw_data")
        ours = predict_raw(args, path, work(args, "torch_input.bin"), (N, C, H, W), work(args, f"torch_{name}.ours.bin"))
        compare(f"torch {torch.__version__} resnet18 {name} ({len(g.node)} nodes)", ours, ref)


# ---- the tools ----------------------------------------------------------------------------------

def write_images(root):
    from PIL import Image
    rng = np.random.default_rng(7)
    files = []
    sizes = {"cat_class": [(256, 256), (300, 200), (180, 260)], "dog_class": [(256, 256), (640, 480), (333, 500)]}
    for cls, dims in sizes.items():
        os.makedirs(os.path.join(root, cls), exist_ok=True)
        for i, (w, h) in enumerate(dims):
            # Smooth colour fields: a few random blobs, so the JPEG is not noise.
            yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
            img = np.zeros((h, w, 3), np.float32)
            for _ in range(4):
                cx, cy, r = rng.uniform(0, w), rng.uniform(0, h), rng.uniform(20, 150)
                img += rng.uniform(0, 255, 3) * np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * r * r))[..., None]
            img = np.clip(img, 0, 255).astype(np.uint8)
            p = os.path.join(root, cls, f"img{i}.jpg")
            # 4:4:4 at quality 95: no chroma upsampling, so any libjpeg decodes it the same way.
            Image.fromarray(img).save(p, quality=95, subsampling=0)
            files.append((p, cls))
    return files


def parse_predict(out, k):
    """{header: [(rank, prob, idx, name)]} from resnet-predict's output, checking its format."""
    res, cur = {}, None
    for line in out.splitlines():
        if line.startswith("image: ") or line.startswith("input: "):
            cur = line.split(": ", 1)[1]
            res[cur] = []
            continue
        parts = line.split(" ", 3)
        if cur is None or len(parts) != 4:
            fail(f"unexpected resnet-predict line: {line!r}")
        res[cur].append((int(parts[0]), float(parts[1]), int(parts[2]), parts[3]))
    for key, rows in res.items():
        if [r[0] for r in rows] != list(range(1, k + 1)):
            fail(f"{key}: ranks {[r[0] for r in rows]}")
        probs = [r[1] for r in rows]
        if any(p < 0 or p > 1 for p in probs) or probs != sorted(probs, reverse=True) or sum(probs) > 1 + 1e-5:
            fail(f"{key}: probabilities {probs}")
    return res


def t_tools(args):
    import cv2
    need_models(args)
    predict, evaluate, export = (tool(args, "export", t) for t in ("resnet-predict", "resnet-eval", "resnet-export"))
    imgs = work(args, "images")
    shutil.rmtree(imgs, ignore_errors=True)
    files = write_images(imgs)
    names = open(os.path.join(args.src, "export", "imagenet_classes.txt")).read().splitlines()
    if len(names) != 1000 or names[0] != "tench" or names[281] != "tabby":
        fail("export/imagenet_classes.txt is not torchvision's ImageNet list")

    # 1000 classes: ImageNet names by default.
    r18 = work(args, "resnet18v1.onnx")
    out = run([predict, r18] + [p for p, _ in files] + ["--top", "5"]).stdout
    res = parse_predict(out, 5)
    if set(res) != {p for p, _ in files}:
        fail("resnet-predict did not report every image")
    for rows in res.values():
        for _, _, idx, name in rows:
            if name != names[idx]:
                fail(f"class {idx} printed as {name!r}, expected {names[idx]!r}")

    # The image path equals the raw path on the seed's preprocessing, computed here: a 256x256 image
    # needs no resampling (scale 1), the crop starts at 16, then (x / 255 - mean) / std.
    p256 = files[0][0]
    rgb = cv2.imread(p256)[..., ::-1].astype(np.float32) / 255.0
    crop = rgb[16:240, 16:240]
    mean, std = np.array([0.485, 0.456, 0.406], np.float32), np.array([0.229, 0.224, 0.225], np.float32)
    t = ((crop - mean) / std).transpose(2, 0, 1)[None].astype("<f4")
    t.tofile(work(args, "img256.bin"))
    raw = parse_predict(run([predict, r18, "--raw-input", work(args, "img256.bin"), "--shape", "1,3,224,224",
                             "--top", "5"]).stdout, 5)["0"]
    img = res[p256]
    if [r[2] for r in raw] != [r[2] for r in img] or max(abs(a[1] - b[1]) for a, b in zip(raw, img)) > 1e-4:
        fail(f"image path vs raw path of the same pixels: {img} vs {raw}")
    print("resnet-predict: the JPEG path matches the reference preprocessing of the same image")

    # Two classes: --labels, and resnet-eval against resnet-predict's own top-1.
    two = work(args, "two_classes.onnx")
    run([tool(args, "tests", "test_export_model"), two, "--depth", "18", "--version", "1", "--classes", "2",
         "--seed", "5"])
    labels = work(args, "two_labels.txt")
    open(labels, "w").write("cat_class\ndog_class\n")
    res2 = parse_predict(run([predict, two] + [p for p, _ in files] + ["--top", "2", "--labels", labels]).stdout, 2)
    hits = sum(res2[p][0][3] == cls for p, cls in files)
    nolab = parse_predict(run([predict, two, files[0][0], "--top", "1"]).stdout, 1)
    if nolab[files[0][0]][0][3] != "-":
        fail("a model that is not 1000-class prints '-' without --labels")
    ev = run([evaluate, two, "--data", imgs, "--batch", "4", "--workers", "2"]).stdout.strip().splitlines()[-1]
    # "top-1 P % (HITS/N)  top-5 P % (HITS/N)", percentages as the trainer prints them.
    f = ev.split()
    if len(f) != 8 or f[0] != "top-1" or f[4] != "top-5" or f[2] != "%" or f[6] != "%":
        fail(f"resnet-eval printed {ev!r}")
    h1, n1 = map(int, f[3].strip("()").split("/"))
    h5, n5 = map(int, f[7].strip("()").split("/"))
    if n1 != len(files) or n5 != len(files) or f[1] != f"{100 * h1 / n1:.2f}":
        fail(f"resnet-eval printed {ev!r}")
    if h1 != hits or h5 != len(files):
        fail(f"resnet-eval {ev!r}, but resnet-predict's top-1 is right for {hits} of {len(files)}")
    print(f"resnet-eval: {ev} agrees with resnet-predict ({hits}/{len(files)})")

    # resnet-export: ONNX -> ONNX gives the same bytes; a config exports a fresh network.
    re = work(args, "reexport.onnx")
    run([export, r18, "-o", re])
    if open(re, "rb").read() != open(r18, "rb").read():
        fail("resnet-export of our own export changed the bytes")
    cfg_out = work(args, "from_config.onnx")
    run([export, "--config", os.path.join(args.src, "configs", "resnet18v2.ini"), "--set", "model.num_classes=10",
         "-o", cfg_out])
    import onnx
    onnx.checker.check_model(onnx.load(cfg_out), full_check=True)

    # Errors: a message and a non-zero exit, never a crash.
    junk = work(args, "junk.onnx")
    open(junk, "wb").write(os.urandom(4096))
    for cmd, frag in [
        ([predict, junk, files[0][0]], "junk.onnx"),
        ([predict, r18, "--raw-input", work(args, "img256.bin"), "--shape", "2,3,224,224"], "bytes"),
        ([predict, r18, junk], "junk.onnx"),  # a model given as the image
        ([evaluate, r18, "--data", work(args, "no-such-dir")], "no-such-dir"),
        ([export, junk, "-o", work(args, "x.onnx")], "junk.onnx"),
    ]:
        r = run(cmd, None)
        if r.returncode not in (1, 2) or frag not in r.stderr:
            fail(f"{cmd}: exit {r.returncode}, stderr {r.stderr!r} (expected a message naming {frag!r})")
    print("tools: errors are reported with a message and exit status 1")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("test")
    ap.add_argument("--work", required=True)
    ap.add_argument("--bin", required=True)
    ap.add_argument("--src", required=True)
    ap.add_argument("--node-dir", required=True)
    ap.add_argument("--ort-version", required=True)
    args = ap.parse_args()
    tests = {"models": t_models, "ort_install": t_ort_install, "checker": t_checker, "onnxruntime": t_onnxruntime,
             "opencv": t_opencv, "zoo": t_zoo, "torch": t_torch, "tools": t_tools}
    if args.test not in tests:
        fail(f"unknown test {args.test}")
    os.makedirs(args.work, exist_ok=True)
    tests[args.test](args)
    print(f"export_{args.test}: passed")


if __name__ == "__main__":
    main()
