# Export tests (issue 5): ONNX round trip, import variants and refusals, fuzzing (also under
# ASan/UBSan), and comparisons with onnx.checker, onnxruntime (npm onnxruntime-node), OpenCV dnn and
# PyTorch (Debian python3-onnx / python3-opencv / python3-torch, run by /usr/bin/python3).
# Every test fails, rather than skips, when a tool it needs is missing. `ctest -R export` runs them.

rn_test(test_export SOURCES test_export.c LIBS rn_export rn_model TIMEOUT 300)
rn_test(test_export_import SOURCES test_export_import.c LIBS rn_onnx rn_model TIMEOUT 120)
rn_test(test_export_fuzz SOURCES test_export_fuzz.c LIBS rn_onnx rn_model TIMEOUT 300)

# The importer's tests again, compiled with AddressSanitizer and UBSan together with the code they
# reach (ONNX reader/writer, generated protobuf-c code, graph, builder). libprotobuf-c itself is
# Debian's uninstrumented build.
# (In a -DRN_SANITIZE=ON build every test already is one: tools/test-sanitize.sh.)
set_source_files_properties(${RN_ONNX_GEN_DIR}/export/onnx.pb-c.c PROPERTIES GENERATED TRUE)
if(NOT RN_SANITIZE)
foreach(t test_export_import test_export_fuzz)
  add_executable(${t}_asan ${t}.c ${RN_ONNX_SOURCES}
    ${PROJECT_SOURCE_DIR}/layers/graph.c ${PROJECT_SOURCE_DIR}/layers/op_contract.c ${PROJECT_SOURCE_DIR}/src/common.c ${PROJECT_SOURCE_DIR}/src/rng.c
    ${PROJECT_SOURCE_DIR}/src/resnet.c ${PROJECT_SOURCE_DIR}/src/ini.c
    ${PROJECT_SOURCE_DIR}/src/parse.c ${PROJECT_SOURCE_DIR}/src/config_table.c ${PROJECT_SOURCE_DIR}/src/model_meta.c)
  add_dependencies(${t}_asan rn_onnx)  # the generated protobuf-c sources
  target_include_directories(${t}_asan PRIVATE ${RN_ONNX_GEN_DIR})
  target_compile_options(${t}_asan PRIVATE -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer
                                           -fno-sanitize-recover=all)
  target_link_options(${t}_asan PRIVATE -fsanitize=address,undefined)
  target_link_libraries(${t}_asan PRIVATE PkgConfig::PROTOBUFC ${MATH_LIB})
  add_test(NAME ${t}_asan COMMAND ${t}_asan WORKING_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
  set_tests_properties(${t}_asan PROPERTIES TIMEOUT 300
                       ENVIRONMENT "ASAN_OPTIONS=detect_leaks=1:abort_on_error=1;UBSAN_OPTIONS=print_stacktrace=1")
endforeach()
endif()

# Model generator for the comparisons with other runtimes.
add_executable(test_export_model test_export_model.c)
target_link_libraries(test_export_model PRIVATE rn_onnx rn_model)

# Script tests: /usr/bin/python3 (Debian's, with onnx, cv2, torch), never the python first on PATH.
set(RN_EXPORT_PY /usr/bin/python3)
set(RN_EXPORT_WORK ${CMAKE_CURRENT_BINARY_DIR}/export_work)
set(RN_EXPORT_NODE ${CMAKE_CURRENT_BINARY_DIR}/export_node)  # onnxruntime-node, installed by the setup test
set(RN_EXPORT_ORT_VERSION 1.22.0)
set(RN_EXPORT_SCRIPT ${CMAKE_CURRENT_SOURCE_DIR}/export/check_export.py)
set(RN_EXPORT_ARGS --work ${RN_EXPORT_WORK} --bin ${CMAKE_BINARY_DIR} --src ${PROJECT_SOURCE_DIR}
                   --node-dir ${RN_EXPORT_NODE} --ort-version ${RN_EXPORT_ORT_VERSION})

function(rn_export_script name)
  cmake_parse_arguments(S "" "TIMEOUT" "SETUP;REQUIRES" ${ARGN})
  add_test(NAME export_${name} COMMAND ${RN_EXPORT_PY} ${RN_EXPORT_SCRIPT} ${name} ${RN_EXPORT_ARGS})
  set_tests_properties(export_${name} PROPERTIES TIMEOUT ${S_TIMEOUT})
  if(S_SETUP)
    set_tests_properties(export_${name} PROPERTIES FIXTURES_SETUP "${S_SETUP}")
  endif()
  if(S_REQUIRES)
    set_tests_properties(export_${name} PROPERTIES FIXTURES_REQUIRED "${S_REQUIRES}")
  endif()
endfunction()

rn_export_script(models TIMEOUT 180 SETUP export_models)
rn_export_script(ort_install TIMEOUT 300 SETUP export_ort)
rn_export_script(checker TIMEOUT 120 REQUIRES export_models)
rn_export_script(onnxruntime TIMEOUT 120 REQUIRES "export_models;export_ort")
rn_export_script(opencv TIMEOUT 120 REQUIRES export_models)
rn_export_script(zoo TIMEOUT 180 REQUIRES export_models)
rn_export_script(torch TIMEOUT 300)
rn_export_script(tools TIMEOUT 180 REQUIRES export_models)

# Crafted models that break the op contract: refused at load, never exported (issue 12).
rn_test(test_export_contract SOURCES test_export_contract.c LIBS rn_export rn_model TIMEOUT 120)
target_compile_definitions(test_export_contract PRIVATE RESNET_EXPORT="$<TARGET_FILE:resnet-export>")
add_dependencies(test_export_contract resnet-export)

# Ten-crop test-time augmentation and resnet-eval --report against independent computations (issue 13).
rn_test(test_eval_tta SOURCES test_eval_tta.c LIBS rn_eval rn_export rn_model rn_data TIMEOUT 60)
target_compile_definitions(test_eval_tta PRIVATE RESNET_EVAL="$<TARGET_FILE:resnet-eval>")
add_dependencies(test_eval_tta resnet-eval)

# resnet-predict over files and folders with a bad file among good ones; text, csv and json (issue 13).
add_test(NAME export_predict COMMAND ${RN_EXPORT_PY} ${CMAKE_CURRENT_SOURCE_DIR}/export/check_predict.py
         --bin ${CMAKE_BINARY_DIR} --src ${PROJECT_SOURCE_DIR} --work ${CMAKE_CURRENT_BINARY_DIR}/predict_work)
set_tests_properties(export_predict PROPERTIES TIMEOUT 60)
