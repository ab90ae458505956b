# Optional libraries of striate::data, found here and linked privately:
#   zlib           gzip-compressed IDX files (MNIST, Fashion-MNIST)
#   libpng         PNG decoding (ImageFolder) and write_png / save_image_grid
#   libjpeg(-turbo) JPEG decoding (ImageFolder)
# Each is optional: without it the library still builds, and the feature that
# needs it throws a striate::Error saying it was built without the library.
# Debian packages: zlib1g-dev, libpng-dev, libjpeg-dev (libjpeg62-turbo-dev).
find_package(ZLIB QUIET)
find_package(PNG QUIET)
find_package(JPEG QUIET)

set(STRIATE_WITH_ZLIB ${ZLIB_FOUND})
set(STRIATE_WITH_PNG ${PNG_FOUND})
set(STRIATE_WITH_JPEG ${JPEG_FOUND})

if(STRIATE_WITH_ZLIB)
  target_compile_definitions(striate PRIVATE STRIATE_WITH_ZLIB=1)
  target_link_libraries(striate PRIVATE ZLIB::ZLIB)
endif()
if(STRIATE_WITH_PNG)
  target_compile_definitions(striate PRIVATE STRIATE_WITH_PNG=1)
  target_link_libraries(striate PRIVATE PNG::PNG)
endif()
if(STRIATE_WITH_JPEG)
  target_compile_definitions(striate PRIVATE STRIATE_WITH_JPEG=1)
  target_link_libraries(striate PRIVATE JPEG::JPEG)
endif()
