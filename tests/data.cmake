# Data tests (issue 3): datasets, transforms, loader, the Fashion-MNIST tool.
# test_data_dataset creates 20,000 files before its scan test: on a loaded, shared disk that
# alone took 50-85 s (the scan itself 0.1 s), hence the longer limit.
rn_test(test_data_dataset SOURCES test_data_dataset.c LIBS rn_data TIMEOUT 180)
rn_test(test_data_transform SOURCES test_data_transform.c LIBS rn_data TIMEOUT 60)
rn_test(test_data_loader SOURCES test_data_loader.c LIBS rn_data TIMEOUT 60)
rn_test(test_data_hostile SOURCES test_data_hostile.c LIBS rn_data TIMEOUT 60)
find_package(ZLIB REQUIRED)
rn_test(test_data_fmnist SOURCES test_data_fmnist.c LIBS rn_data ZLIB::ZLIB TIMEOUT 60)
target_compile_definitions(test_data_fmnist PRIVATE
  RN_FMNIST_TOOL="$<TARGET_FILE:fashion-mnist-to-folder>")
add_dependencies(test_data_fmnist fashion-mnist-to-folder)
# PNG decoding (issue 13): every colour type and bit depth to its documented values; a PNG
# dataset gives the same tensors as the same pixels in other encodings, trains, and skips corrupt
# PNGs like corrupt JPEGs.
rn_test(test_data_png SOURCES test_data_png.c LIBS rn_data rn_train ZLIB::ZLIB TIMEOUT 120)
# The evaluation transform against torchvision itself (Debian's python3-torchvision, run by
# /usr/bin/python3, never the python first on PATH); skipped (77) when it is missing.
rn_test(test_data_torchvision SOURCES test_data_torchvision.c LIBS rn_data ZLIB::ZLIB TIMEOUT 180)
target_compile_definitions(test_data_torchvision PRIVATE RN_PY="/usr/bin/python3"
  RN_TV_SCRIPT="${CMAKE_CURRENT_SOURCE_DIR}/torchvision_ref.py"
  RN_CORPUS_DIR="${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus")
set_tests_properties(test_data_torchvision PROPERTIES SKIP_RETURN_CODE 77)
# TrivialAugment / RandAugment and random erasing (issue 14): the operations against torchvision's
# on PIL images (Debian's python3-torchvision via /usr/bin/python3; that part skips, 77, without
# it), the magnitude tables, the sampling distributions, erasing, worker-count independence.
rn_test(test_data_augment SOURCES test_data_augment.c LIBS rn_data TIMEOUT 120)
target_compile_definitions(test_data_augment PRIVATE RN_PY="/usr/bin/python3"
  RN_AUG_SCRIPT="${CMAKE_CURRENT_SOURCE_DIR}/augment_ref.py")
set_tests_properties(test_data_augment PROPERTIES SKIP_RETURN_CODE 77)
# Mixup / cutmix (plan, pixels, targets, loader determinism, soft loss) and the RA sampler (issue 14).
rn_test(test_data_mix SOURCES test_data_mix.c LIBS rn_data rn_core TIMEOUT 60)
