# augment_ref.py — the reference side of test_data_augment: torchvision's TrivialAugmentWide /
# RandAugment operations (torchvision.transforms.autoaugment._apply_op, nearest interpolation,
# fill None = 0, on PIL images, i.e. PIL's ImageOps / ImageEnhance / Image.transform) and their
# magnitude tables (_augmentation_space), from Debian's python3-torchvision and python3-pil.
#   /usr/bin/python3 augment_ref.py CASES
# CASES lines:
#   names NAME...                 the op names in the caller's order: must be torchvision's
#   op IN W H NAME MAGNITUDE OUT  IN: packed RGB (H, W, 3) uint8; OUT: the op's result, same layout
#   tables W H OUT                OUT: float32 (2, 14, 31): TrivialAugmentWide's then
#                                 RandAugment's (31 bins, image W x H) tables, 0 where an op has none
#   version OUT                   OUT: torch's major version, as text
# Exit 77 (ctest's skip code) when numpy, PIL or torchvision is missing.
import sys

try:
    import numpy as np
    import torch
    import torchvision
    from PIL import Image
    from torchvision.transforms import InterpolationMode
    from torchvision.transforms.autoaugment import RandAugment, TrivialAugmentWide, _apply_op
except ImportError as e:  # not installed: skip, do not fail
    print(f"augment_ref: skipped, {e}")
    sys.exit(77)

ops = 0
for line in open(sys.argv[1]):
    f = line.split()
    if not f:
        continue
    if f[0] == "names":
        for space in (TrivialAugmentWide()._augmentation_space(31), RandAugment()._augmentation_space(31, (8, 8))):
            if list(space.keys()) != f[1:]:
                sys.exit(f"augment_ref: op order {list(space.keys())} is not the caller's {f[1:]}")
    elif f[0] == "op":
        w, h = int(f[2]), int(f[3])
        im = Image.frombytes("RGB", (w, h), open(f[1], "rb").read())
        out = _apply_op(im, f[4], float(f[5]), interpolation=InterpolationMode.NEAREST, fill=None)
        open(f[6], "wb").write(np.asarray(out, dtype=np.uint8).tobytes())
        ops += 1
    elif f[0] == "version":
        open(f[1], "w").write(torch.__version__.split(".")[0] + "\n")
    elif f[0] == "tables":
        w, h = int(f[1]), int(f[2])
        t = np.zeros((2, 14, 31), dtype=np.float32)
        spaces = (TrivialAugmentWide()._augmentation_space(31), RandAugment()._augmentation_space(31, (h, w)))
        for p, space in enumerate(spaces):
            for k, (mags, signed) in enumerate(space.values()):
                if mags.ndim > 0:
                    t[p, k] = mags.to(torch.float32).numpy()
        open(f[3], "wb").write(t.tobytes())
print(f"augment_ref: {ops} operations, torchvision {torchvision.__version__}, PIL {Image.__version__}")
