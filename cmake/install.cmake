# Install rules (included from the top CMakeLists.txt when ONNXRUN_INSTALL is ON):
#   include/onnxrun.h                      the public API
#   lib/libonnxrun.a, lib/libonnxrun.so*   the engine (SONAME libonnxrun.so.<major>)
#   bin/onnxrun                            the CLI
#   lib/pkgconfig/onnxrun.pc               pkg-config (Libs.private for --static)
#   lib/cmake/onnxrun/                     find_package(onnxrun): onnxrun::onnxrun (shared),
#                                          onnxrun::onnxrun_static
include(CMakePackageConfigHelpers)

set(ONNXRUN_CMAKE_DIR "${CMAKE_INSTALL_LIBDIR}/cmake/onnxrun")

install(FILES "${CMAKE_SOURCE_DIR}/runtime/onnxrun.h" DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}")
install(TARGETS onnxrun_static onnxrun_shared EXPORT onnxrunTargets
  ARCHIVE DESTINATION "${CMAKE_INSTALL_LIBDIR}"
  LIBRARY DESTINATION "${CMAKE_INSTALL_LIBDIR}"
  RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}")
if(TARGET onnxrun)
  install(TARGETS onnxrun RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}")
endif()
install(EXPORT onnxrunTargets NAMESPACE onnxrun:: DESTINATION "${ONNXRUN_CMAKE_DIR}")

configure_package_config_file("${CMAKE_CURRENT_LIST_DIR}/onnxrunConfig.cmake.in"
  "${CMAKE_BINARY_DIR}/onnxrunConfig.cmake" INSTALL_DESTINATION "${ONNXRUN_CMAKE_DIR}")
# 0.x: minor versions may break the API.
write_basic_package_version_file("${CMAKE_BINARY_DIR}/onnxrunConfigVersion.cmake"
  COMPATIBILITY SameMinorVersion)
install(FILES "${CMAKE_BINARY_DIR}/onnxrunConfig.cmake" "${CMAKE_BINARY_DIR}/onnxrunConfigVersion.cmake"
  DESTINATION "${ONNXRUN_CMAKE_DIR}")

# The .pc file locates the prefix from its own folder, so an installed tree can be moved.
file(RELATIVE_PATH ONNXRUN_PC_TO_PREFIX "/prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/prefix")
string(REGEX REPLACE "/$" "" ONNXRUN_PC_TO_PREFIX "${ONNXRUN_PC_TO_PREFIX}")
configure_file("${CMAKE_CURRENT_LIST_DIR}/onnxrun.pc.in" "${CMAKE_BINARY_DIR}/onnxrun.pc" @ONLY)
install(FILES "${CMAKE_BINARY_DIR}/onnxrun.pc" DESTINATION "${CMAKE_INSTALL_LIBDIR}/pkgconfig")
