# Core tests: ops, blocks, whole networks, configs.
rn_test(test_layers SOURCES test_layers.c LIBS rn_core TIMEOUT 300)
