# Training tests (issue 4): SGD and schedules, checkpoints and fine-tuning, whole tiny runs.
rn_test(test_optim SOURCES test_optim.c LIBS rn_optim TIMEOUT 30)
rn_test(test_checkpoint SOURCES test_checkpoint.c LIBS rn_optim rn_model rn_data TIMEOUT 60)
rn_test(test_ckpt_reader SOURCES test_ckpt_reader.c LIBS rn_optim rn_model rn_data TIMEOUT 60)
# The op contract on crafted checkpoints (issue 12 items 2, 3): rn_graph_finalize's check, apart.
add_test(NAME test_ckpt_contract COMMAND test_ckpt_reader contract WORKING_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
rn_test(test_train SOURCES test_train.c LIBS rn_train TIMEOUT 400)
target_compile_definitions(test_train PRIVATE RESNET_TRAIN="$<TARGET_FILE:resnet-train>")
add_dependencies(test_train resnet-train)
rn_test(test_train_skipped SOURCES test_train_skipped.c LIBS rn_train TIMEOUT 120)
# Issue 12: SIGTERM during an evaluation (resnet-train's validation, resnet-eval) stops within 2 s;
# runs that do not fit in memory are refused before allocating; without that check, the programs that
# run out of memory exit 1 with an error.
rn_test(test_limits SOURCES test_limits.c LIBS rn_optim rn_data TIMEOUT 300)
target_compile_definitions(test_limits PRIVATE RN_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
                                               RESNET_TRAIN="$<TARGET_FILE:resnet-train>"
                                               RESNET_EVAL="$<TARGET_FILE:resnet-eval>"
                                               RESNET_BENCH="$<TARGET_FILE:resnet-bench>"
                                               RESNET_PREDICT="$<TARGET_FILE:resnet-predict>")
add_dependencies(test_limits resnet-train resnet-eval resnet-bench resnet-predict)
# Issue 13: the model file carries its preprocessing and class names; runs never clobber each other.
rn_test(test_meta SOURCES test_meta.c LIBS rn_export rn_model rn_data TIMEOUT 180)
target_compile_definitions(test_meta PRIVATE RESNET_TRAIN="$<TARGET_FILE:resnet-train>"
                                             RESNET_EVAL="$<TARGET_FILE:resnet-eval>"
                                             RESNET_PREDICT="$<TARGET_FILE:resnet-predict>"
                                             RESNET_EXPORT="$<TARGET_FILE:resnet-export>")
add_dependencies(test_meta resnet-train resnet-eval resnet-predict resnet-export)
# Issue 11: the training step with the bucketed gradient reducer attached, in one process.
rn_test(test_step SOURCES test_step.c LIBS rn_dist rn_model TIMEOUT 60)
# Issue 11: data parallelism under mpirun (2 ranks on this machine), when Open MPI is there.
if(MPI_C_FOUND AND MPIEXEC_EXECUTABLE)
  rn_test(test_dist SOURCES test_dist.c LIBS rn_train TIMEOUT 180)
  target_compile_definitions(test_dist PRIVATE RESNET_TRAIN="$<TARGET_FILE:resnet-train>"
                                               MPIRUN="${MPIEXEC_EXECUTABLE}")
  add_dependencies(test_dist resnet-train)
endif()
# Issue 14: EMA of the weights, gradient clipping and AdamW against hand computation; AdamW against
# torch.optim.AdamW when python3 has torch (skipped, 77, otherwise).
rn_test(test_ema SOURCES test_ema.c LIBS rn_optim rn_model TIMEOUT 30)
add_test(NAME test_adamw_torch COMMAND test_ema torch WORKING_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
set_tests_properties(test_adamw_torch PROPERTIES TIMEOUT 60 SKIP_RETURN_CODE 77)
# Issue 14: whole tiny runs with EMA, AdamW and clipping: resumed runs bit-identical, the EMA's
# columns in metrics.csv, warm-up resets, export of the EMA (at the end of a run, resnet-export
# --ema, resnet-eval --ema); the torchvision recipe config loads.
rn_test(test_train_ema SOURCES test_train_ema.c LIBS rn_train TIMEOUT 300)
target_compile_definitions(test_train_ema PRIVATE RN_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
                                                  RESNET_EXPORT="$<TARGET_FILE:resnet-export>"
                                                  RESNET_EVAL="$<TARGET_FILE:resnet-eval>")
add_dependencies(test_train_ema resnet-export resnet-eval)
