# `cmake --install build --prefix P`: the programs into P/bin, the configs and class names into
# P/share/resnet.c, the layer library as the shared libresnet with its public headers under
# P/include/resnet, a pkg-config file and a CMake package (find_package(resnet) -> resnet::resnet).
# docs/DESIGN.md, "The library and what is installed".

# libresnet is the objects of the rn_* libraries as they are built: a source file added to any of
# them lands in libresnet with no change here. The programs and tests keep linking the static
# rn_* libraries, so they run from the build tree and the prefix without a library path.
set(RN_LIB_PARTS rn_base rn_core rn_model rn_data rn_eval rn_optim rn_onnx rn_export rn_dist rn_train)
add_library(resnet SHARED)
foreach(part ${RN_LIB_PARTS})
  target_sources(resnet PRIVATE $<TARGET_OBJECTS:${part}>)
endforeach()
# No public header includes a dependency's header, so every dependency links privately; the
# library's DT_NEEDED entries pull them in at run time.
find_package(ZLIB REQUIRED)
find_package(Threads REQUIRED)
target_link_libraries(resnet PRIVATE DNNL::dnnl OpenMP::OpenMP_C PkgConfig::TURBOJPEG
                      PkgConfig::SPNG PkgConfig::PROTOBUFC ZLIB::ZLIB Threads::Threads ${MATH_LIB} ${CMAKE_DL_LIBS})
if(MPI_C_FOUND)
  target_link_libraries(resnet PRIVATE MPI::MPI_C)  # rn_dist (src/dist.h)
endif()
target_link_options(resnet PRIVATE -Wl,--no-undefined)  # a part missing from RN_LIB_PARTS fails here
set_target_properties(resnet PROPERTIES
  VERSION ${PROJECT_VERSION}              # libresnet.so.0.2.0
  SOVERSION ${PROJECT_VERSION_MAJOR})     # SONAME libresnet.so.0
target_include_directories(resnet INTERFACE $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}/resnet>)

# Shipped data: the install layout is mirrored in the build tree (<build>/share/resnet.c), so the
# lookup of src/datadir.h finds it from build/<folder>/program exactly as from P/bin/program.
set(RN_DATA_FILES ${PROJECT_SOURCE_DIR}/export/imagenet_classes.txt)
file(GLOB RN_CONFIG_FILES CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/configs/*.ini)
foreach(f ${RN_DATA_FILES} ${RN_CONFIG_FILES})
  get_filename_component(name ${f} NAME)
  configure_file(${f} ${PROJECT_BINARY_DIR}/share/resnet.c/${name} COPYONLY)
endforeach()
set(RN_DATADIR ${CMAKE_INSTALL_DATADIR}/resnet.c)
file(RELATIVE_PATH RN_BIN_TO_DATA ${CMAKE_INSTALL_FULL_BINDIR} ${CMAKE_INSTALL_FULL_DATADIR}/resnet.c)
file(RELATIVE_PATH RN_LIB_TO_DATA ${CMAKE_INSTALL_FULL_LIBDIR} ${CMAKE_INSTALL_FULL_DATADIR}/resnet.c)
set_property(SOURCE ${PROJECT_SOURCE_DIR}/src/datadir.c DIRECTORY ${PROJECT_SOURCE_DIR}/src APPEND PROPERTY
  COMPILE_DEFINITIONS RN_BIN_TO_DATA="${RN_BIN_TO_DATA}" RN_LIB_TO_DATA="${RN_LIB_TO_DATA}"
  RN_INSTALL_DATADIR="${CMAKE_INSTALL_FULL_DATADIR}/resnet.c")

install(TARGETS resnet-info resnet-train resnet-export resnet-predict resnet-eval resnet-bench
                fashion-mnist-to-folder
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES ${RN_DATA_FILES} ${RN_CONFIG_FILES} DESTINATION ${RN_DATADIR})

# The public headers: what a program needs to build a network (from an INI or op by op), run it,
# train a step, load and save checkpoints and ONNX files, and load data. They keep the source
# tree's layout under include/resnet, so `#include "layers/graph.h"` reads the same in and out of
# tree (Cflags: -I<prefix>/include/resnet). Internal: layers/dnn.h and layers/layer.h (oneDNN
# types), export/onnx_wire.h (protobuf-c), the trainer's own src/train_*.h.
set(RN_PUBLIC_HEADERS
  src/common.h src/rng.h src/datadir.h src/ini.h layers/graph.h layers/exec.h layers/ref.h src/resnet.h
  src/config.h src/config_table.h src/parse.h src/train.h src/mem.h layers/exec_mem.h src/signals.h src/model_meta.h
  layers/softmax_xent.h layers/eval_counts.h
  data/opts.h data/image.h data/jpeg.h data/png.h data/transform.h data/dataset.h data/loader.h data/evaluate.h
  data/imagefiles.h data/augment.h
  optim/sgd.h optim/step.h optim/schedule.h optim/checkpoint.h optim/finetune.h
  export/onnx.h export/model_io.h export/classes.h)
foreach(h ${RN_PUBLIC_HEADERS})
  get_filename_component(dir ${h} DIRECTORY)
  install(FILES ${PROJECT_SOURCE_DIR}/${h} DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/resnet/${dir})
endforeach()

install(TARGETS resnet EXPORT resnetTargets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})

# pkg-config: paths relative to the .pc file (${pcfiledir}), so a moved prefix still works.
file(RELATIVE_PATH RN_PC_TO_PREFIX ${CMAKE_INSTALL_FULL_LIBDIR}/pkgconfig ${CMAKE_INSTALL_PREFIX})
string(REGEX REPLACE "/$" "" RN_PC_TO_PREFIX "${RN_PC_TO_PREFIX}")
configure_file(${CMAKE_CURRENT_LIST_DIR}/resnet.pc.in ${PROJECT_BINARY_DIR}/resnet.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/resnet.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

# CMake package: resnetConfig.cmake, its version file (0.x: the same minor version is compatible)
# and the exported target resnet::resnet.
include(CMakePackageConfigHelpers)
set(RN_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/resnet)
install(EXPORT resnetTargets NAMESPACE resnet:: DESTINATION ${RN_CMAKEDIR})
configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/resnetConfig.cmake.in
  ${PROJECT_BINARY_DIR}/resnetConfig.cmake INSTALL_DESTINATION ${RN_CMAKEDIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/resnetConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/resnetConfig.cmake ${PROJECT_BINARY_DIR}/resnetConfigVersion.cmake
        DESTINATION ${RN_CMAKEDIR})
