# cmake --install exports striate::striate for find_package(Striate).
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(STRIATE_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/Striate)

install(TARGETS striate EXPORT StriateTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(DIRECTORY include/striate DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT StriateTargets NAMESPACE striate:: DESTINATION ${STRIATE_INSTALL_CMAKEDIR})

configure_package_config_file(cmake/StriateConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/StriateConfig.cmake
  INSTALL_DESTINATION ${STRIATE_INSTALL_CMAKEDIR})
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/StriateConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/StriateConfig.cmake
  ${CMAKE_CURRENT_BINARY_DIR}/StriateConfigVersion.cmake
  DESTINATION ${STRIATE_INSTALL_CMAKEDIR})
# A static build's config re-finds cuDNN and cuBLAS with the same modules.
if(NOT BUILD_SHARED_LIBS)
  install(FILES cmake/FindCUDNN.cmake cmake/FindCUBLAS.cmake cmake/StriatePythonSitePackages.cmake
    DESTINATION ${STRIATE_INSTALL_CMAKEDIR})
endif()
