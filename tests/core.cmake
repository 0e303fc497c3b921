# Core tests: ops, blocks, whole networks, configs.
rn_test(test_layers SOURCES test_layers.c LIBS rn_core TIMEOUT 300)
rn_test(test_resnet SOURCES test_resnet.c LIBS rn_model TIMEOUT 300)
rn_test(test_config SOURCES test_config.c LIBS rn_model TIMEOUT 60)
target_compile_definitions(test_config PRIVATE RESNET_INFO="$<TARGET_FILE:resnet-info>")
add_dependencies(test_config resnet-info)
# Memory (issue 12): the executor's estimate against what it allocates and the measured growth.
rn_test(test_mem SOURCES test_mem.c LIBS rn_model TIMEOUT 120)
