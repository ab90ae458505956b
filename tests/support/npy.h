// Reads the .npy files that tests/reference/*.py write with numpy.save, so
// the C++ tests compare against PyTorch without needing Python to run.
#pragma once

#include <cstdint>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

#include "striate/striate.h"

#ifndef STRIATE_REFERENCE_DIR
#error "tests must define STRIATE_REFERENCE_DIR (tests/CMakeLists.txt does)"
#endif

namespace striate::testing {

// The path of a reference file: reference_path("conv2d/stride2/out.npy").
inline std::string reference_path(const std::string& relative) {
  return std::string(STRIATE_REFERENCE_DIR) + "/" + relative;
}

// Loads a little-endian, C-ordered .npy array of f4, f8, i4, i8, u1 or b1.
inline Tensor load_npy(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  STRIATE_CHECK(in.good(), IOError, "load_npy: cannot open ", path,
                " (regenerate with tests/reference/generate.sh)");
  char magic[6];
  in.read(magic, 6);
  STRIATE_CHECK(in.good() && std::memcmp(magic, "\x93NUMPY", 6) == 0, IOError, "load_npy: ", path,
                " is not a .npy file");
  unsigned char version[2];
  in.read(reinterpret_cast<char*>(version), 2);
  uint32_t header_len = 0;
  if (version[0] == 1) {
    unsigned char b[2];
    in.read(reinterpret_cast<char*>(b), 2);
    header_len = b[0] | (b[1] << 8);
  } else {
    unsigned char b[4];
    in.read(reinterpret_cast<char*>(b), 4);
    header_len = b[0] | (b[1] << 8) | (b[2] << 16) | (uint32_t(b[3]) << 24);
  }
  std::string header(header_len, '\0');
  in.read(header.data(), header_len);
  STRIATE_CHECK(in.good(), IOError, "load_npy: truncated header in ", path);
  STRIATE_CHECK(header.find("'fortran_order': False") != std::string::npos, IOError, "load_npy: ", path,
                " is Fortran-ordered");
  auto descr_at = header.find("'descr': '");
  STRIATE_CHECK(descr_at != std::string::npos, IOError, "load_npy: no descr in ", path);
  const std::string descr = header.substr(descr_at + 10, 3);
  DType dtype;
  if (descr == "<f4") dtype = kFloat;
  else if (descr == "<f8") dtype = kDouble;
  else if (descr == "<i4") dtype = kInt;
  else if (descr == "<i8") dtype = kLong;
  else if (descr == "|u1") dtype = kByte;
  else if (descr == "|b1") dtype = kBool;
  else throw IOError("load_npy: unsupported dtype " + descr + " in " + path);
  auto shape_at = header.find("'shape': (");
  STRIATE_CHECK(shape_at != std::string::npos, IOError, "load_npy: no shape in ", path);
  const std::string dims = header.substr(shape_at + 10, header.find(')', shape_at) - shape_at - 10);
  Shape shape;
  std::stringstream ss(dims);
  std::string item;
  while (std::getline(ss, item, ','))
    if (item.find_first_of("0123456789") != std::string::npos) shape.push_back(std::stoll(item));
  Tensor t = empty(shape, TensorOptions(dtype));
  in.read(static_cast<char*>(t.data_ptr()), static_cast<std::streamsize>(t.nbytes()));
  STRIATE_CHECK(in.gcount() == static_cast<std::streamsize>(t.nbytes()), IOError, "load_npy: truncated data in ",
                path);
  return t;
}

}  // namespace striate::testing
