# Install test (issue 8): `cmake --install` into a fresh prefix, the layout, every public header on
# its own, the examples built against the prefix through pkg-config and find_package(resnet), and
# the installed programs' data lookup after the prefix is moved. tests/install/check_install.sh.
add_executable(test_install_jpeg install/make_jpeg.c)
target_link_libraries(test_install_jpeg PRIVATE PkgConfig::TURBOJPEG)
# An ASan build's libresnet needs the sanitizer runtimes in the programs linked against it too.
set(RN_INSTALL_CFLAGS "")
if(RN_SANITIZE)
  set(RN_INSTALL_CFLAGS "-fsanitize=address,undefined")
endif()
add_test(NAME install COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/install/check_install.sh
  --cmake ${CMAKE_COMMAND} --build ${CMAKE_BINARY_DIR} --src ${PROJECT_SOURCE_DIR}
  --work ${CMAKE_CURRENT_BINARY_DIR}/install_work --jpeg $<TARGET_FILE:test_install_jpeg>
  --version ${PROJECT_VERSION} --cc ${CMAKE_C_COMPILER} --cflags "${RN_INSTALL_CFLAGS}")
set_tests_properties(install PROPERTIES TIMEOUT 300)
