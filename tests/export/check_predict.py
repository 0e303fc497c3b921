"""resnet-predict over files and folders (issue 13): one bad file among good ones prints every good
result and exits 1; a folder argument is walked recursively (a symlink cycle cut, with a warning);
each result equals that image predicted alone (rows never shift past a failure); --format csv and
json parse (csv module, json module) with names that need quoting and escaping.

usage: check_predict.py --bin BUILD_DIR --src SOURCE_DIR --work DIR   (run by /usr/bin/python3)
"""
import argparse
import csv
import io
import json
import os
import shutil
import subprocess
import sys

import numpy as np
from PIL import Image


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def run(cmd, want=None):
    p = subprocess.run(cmd, capture_output=True)
    if want is not None and p.returncode != want:
        fail(f"{cmd}: status {p.returncode}, want {want}\n{p.stderr.decode(errors='replace')}")
    return p


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--src", required=True)
    ap.add_argument("--work", required=True)
    a = ap.parse_args()
    predict = os.path.join(a.bin, "export", "resnet-predict")
    export = os.path.join(a.bin, "export", "resnet-export")
    w = a.work
    shutil.rmtree(w, ignore_errors=True)
    os.makedirs(w)
    model = os.path.join(w, "m.onnx")
    run([export, "--config", os.path.join(a.src, "configs", "resnet18v2.ini"), "--set", "model.blocks=1,1",
         "--set", "model.width=8", "--set", "model.stem=small", "--set", "model.num_classes=4",
         "--set", "model.input_size=16", "--seed", "3", "-o", model], 0)
    labels = os.path.join(w, "labels.txt")
    open(labels, "w").write('zero\none, "1"\ntwo\nthree\n')

    rng = np.random.default_rng(4)
    d = os.path.join(w, "photos")
    os.makedirs(os.path.join(d, "sub", "deeper"))
    good = [os.path.join(d, "a,comma.jpg"), os.path.join(d, "sub", 'q"uote.jpg'),
            os.path.join(d, "sub", "deeper", "c.JPG")]
    for p in good:
        Image.fromarray(rng.integers(0, 255, (20, 24, 3), dtype=np.uint8)).save(p, format="JPEG", quality=90)
    bad = os.path.join(d, "sub", "broken.jpg")
    open(bad, "wb").write(b"\xff\xd8 not really a jpeg")
    os.symlink("..", os.path.join(d, "sub", "loop"))          # a cycle the walk must cut
    open(os.path.join(d, "notes.txt"), "w").write("ignored")  # not an image extension
    lone = os.path.join(w, "lone.jpg")
    Image.fromarray(rng.integers(0, 255, (30, 18, 3), dtype=np.uint8)).save(lone, quality=90)
    missing = os.path.join(w, "missing.jpg")
    common = ["--size", "16", "--resize", "18", "--labels", labels, "--top", "2"]

    # Each good image alone: the reference rows.
    alone = {}
    for p in good + [lone]:
        out = run([predict, model, p] + common, 0).stdout.decode().splitlines()
        if out[0] != f"image: {p}" or len(out) != 3:
            fail(f"single prediction of {p}: {out}")
        alone[p] = out[1:]

    # Text: the folder (sorted walk), a lone file, a missing file.
    p = run([predict, model, d, lone, missing] + common, 1)
    out, err = p.stdout.decode().splitlines(), p.stderr.decode()
    order = sorted(good, key=lambda s: os.path.relpath(s, d).encode())
    want = []
    for g in order + [lone]:
        want += [f"image: {g}"] + alone[g]
    if out != want:
        fail("text output:\n" + "\n".join(out) + "\nwant:\n" + "\n".join(want))
    for needle in (f"{bad}: not a JPEG or PNG file", f"{missing}: cannot open", "loop: not scanned", "2 inputs failed"):
        if needle not in err:
            fail(f"stderr lacks {needle!r}:\n{err}")
    print("text: every good image printed, in order, equal to predicting it alone; 2 errors named; exit 1")

    # CSV.
    p = run([predict, model, d, lone, missing, "--format", "csv"] + common, 1)
    rows = list(csv.reader(io.StringIO(p.stdout.decode(), newline="")))
    if rows[0] != ["path", "rank", "probability", "class_index", "class_name", "error"]:
        fail(f"csv header {rows[0]}")
    names = ["zero", 'one, "1"', "two", "three"]
    got = {}
    errors = {}
    for r in rows[1:]:
        if len(r) != 6:
            fail(f"csv row {r}")
        if r[5]:
            errors[r[0]] = r[5]
            continue
        if names[int(r[3])] != r[4]:
            fail(f"csv class name {r}")
        got.setdefault(r[0], []).append(f"{r[1]} {r[2]} {r[3]} {r[4]}")
    if got != {g: alone[g] for g in good + [lone]}:
        fail(f"csv results {got}")
    if set(errors) != {bad, missing} or "unknown signature" not in errors[bad]:
        fail(f"csv errors {errors}")
    print(f"csv: {len(rows) - 1} rows parse; results as text; errors {sorted(errors.values())}")

    # JSON, with a file name that is not UTF-8.
    raw = os.path.join(w.encode(), b"odd\xffname.jpg")
    shutil.copy(lone, raw)
    p = run([predict.encode(), model.encode(), d.encode(), raw, missing.encode(), b"--format", b"json"]
            + [c.encode() for c in common], 1)
    doc = json.loads(p.stdout.decode("utf-8"))
    paths = [r["path"] for r in doc]
    byname = {r["path"]: r for r in doc}
    if byname[missing].get("error", "").find("cannot open") < 0 or "unknown signature" not in byname[bad].get("error", ""):
        fail(f"json errors {doc}")
    oddname = os.path.join(w, "odd\ufffdname.jpg")
    if oddname not in byname or [t["class_index"] for t in byname[oddname]["top"]] != \
            [int(x.split()[2]) for x in alone[lone]]:
        fail(f"json: the non-UTF-8 name is not U+FFFD-escaped or its result differs: {paths}")
    for g in good:
        top = byname[g]["top"]
        if [f"{t['rank']} {t['probability']:.6f} {t['class_index']} {t['class_name']}" for t in top] != alone[g]:
            fail(f"json result of {g}: {top} vs {alone[g]}")
    walk = sorted(good + [bad], key=lambda s: os.path.relpath(s, d).encode())
    if paths != walk + [oddname, missing]:
        fail(f"json records out of input order: {paths}")
    print(f"json: {len(doc)} records parse; quotes, commas and a non-UTF-8 byte escaped")

    # All good: exit 0; a folder without images: an error record, exit 1.
    run([predict, model, lone, good[0]] + common, 0)
    empty = os.path.join(w, "empty")
    os.makedirs(empty)
    p = run([predict, model, empty, lone, "--format", "json"] + common, 1)
    doc = json.loads(p.stdout)
    if len(doc) != 2 or "no image file" not in doc[0].get("error", "") or "top" not in doc[1]:
        fail(f"empty folder: {doc}")
    print("all-good run exits 0; an empty folder is an error record, exit 1")


main()
