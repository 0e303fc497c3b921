# torchvision_ref.py — the reference side of test_data_torchvision: for every image file given,
# writes FILE.dec (PIL's decode, convert("RGB"), packed uint8 HxWx3) and FILE.ref
# (torchvision.transforms.Resize(RESIZE) + CenterCrop(SIZE) of it, uint8 SIZExSIZEx3, before any
# normalisation). Exit 77 (ctest's skip code) when numpy, PIL or torchvision is missing.
#   /usr/bin/python3 torchvision_ref.py RESIZE SIZE FILE...
import sys
import warnings

# PIL warns that palette files with tRNS "should be converted to RGBA": convert("RGB") drops the
# transparency, which is what is compared.
warnings.filterwarnings("ignore", category=UserWarning)

try:
    import numpy as np
    import torchvision
    import torchvision.transforms as T
    from PIL import Image
    import PIL
except ImportError as e:  # not installed: skip, do not fail
    print(f"torchvision_ref: skipped, {e}")
    sys.exit(77)

resize, size = int(sys.argv[1]), int(sys.argv[2])
# Bilinear is Resize's default; on PIL images it is PIL's antialiased resize.
tf = T.Compose([T.Resize(resize, interpolation=T.InterpolationMode.BILINEAR), T.CenterCrop(size)])
for path in sys.argv[3:]:
    im = Image.open(path).convert("RGB")
    with open(path + ".dec", "wb") as f:
        f.write(np.asarray(im, dtype=np.uint8).tobytes())
    with open(path + ".ref", "wb") as f:
        f.write(np.asarray(tf(im), dtype=np.uint8).tobytes())
print(f"torchvision_ref: {len(sys.argv) - 3} images, PIL {PIL.__version__}, torchvision {torchvision.__version__}")
