# Core tests: ops, blocks, whole networks, configs.
rn_test(test_layers SOURCES test_layers.c LIBS rn_core TIMEOUT 300)
rn_test(test_resnet SOURCES test_resnet.c LIBS rn_model TIMEOUT 300)
rn_test(test_config SOURCES test_config.c LIBS rn_model TIMEOUT 60)
# Bad configs through resnet-info and resnet-train; every program's --help, --version and usage errors.
target_compile_definitions(test_config PRIVATE RN_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
  RESNET_TRAIN="$<TARGET_FILE:resnet-train>" RESNET_INFO="$<TARGET_FILE:resnet-info>"
  RESNET_EXPORT="$<TARGET_FILE:resnet-export>" RESNET_PREDICT="$<TARGET_FILE:resnet-predict>"
  RESNET_EVAL="$<TARGET_FILE:resnet-eval>" RESNET_BENCH="$<TARGET_FILE:resnet-bench>"
  BENCH_LOADER="$<TARGET_FILE:bench-loader>" FMNIST_TO_FOLDER="$<TARGET_FILE:fashion-mnist-to-folder>")
add_dependencies(test_config resnet-train resnet-info resnet-export resnet-predict resnet-eval resnet-bench
  bench-loader fashion-mnist-to-folder)
rn_test(test_config_table SOURCES test_config_table.c LIBS rn_model TIMEOUT 60)
target_compile_definitions(test_config_table PRIVATE RN_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
rn_test(test_graph SOURCES test_graph.c LIBS rn_core TIMEOUT 60)
# Memory (issue 12): the executor's estimate against what it allocates and the measured growth.
rn_test(test_mem SOURCES test_mem.c LIBS rn_model TIMEOUT 120)
# The evaluation's counts (issue 13): top-k with ties, loss, confusion, views averaged, sums.
rn_test(test_eval_counts SOURCES test_eval_counts.c LIBS rn_core TIMEOUT 30)
# Out of memory (issue 12): every fallible allocation and oneDNN creation of the executor, failed in turn.
rn_test(test_alloc SOURCES test_alloc.c LIBS rn_model TIMEOUT 60)
# Issue 11's layering: the core's folder includes nothing above it (tests/check_layers.sh).
add_test(NAME layering COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/check_layers.sh ${PROJECT_SOURCE_DIR})
