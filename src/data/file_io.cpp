#include "data/file_io.h"

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>

#include "striate/core/error.h"
#include "striate/data/image.h"

#ifdef STRIATE_WITH_ZLIB
#include <zlib.h>
#endif

namespace striate::data {

bool built_with_zlib() {
#ifdef STRIATE_WITH_ZLIB
  return true;
#else
  return false;
#endif
}

namespace detail {
namespace {

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};
using File = std::unique_ptr<std::FILE, FileCloser>;

}  // namespace

std::vector<uint8_t> read_file(const std::string& path, const char* reader) {
  std::error_code ec;
  STRIATE_CHECK(!std::filesystem::is_directory(path, ec), IOError, reader, ": ", path,
                " is a directory, expected a file");
  File f(std::fopen(path.c_str(), "rb"));
  STRIATE_CHECK(f != nullptr, IOError, reader, ": cannot open ", path, ": ", std::strerror(errno));
  std::vector<uint8_t> bytes;
  uint8_t chunk[1 << 16];
  size_t n;
  while ((n = std::fread(chunk, 1, sizeof(chunk), f.get())) > 0) bytes.insert(bytes.end(), chunk, chunk + n);
  STRIATE_CHECK(!std::ferror(f.get()), IOError, reader, ": error reading ", path, ": ", std::strerror(errno));
  return bytes;
}

void write_file(const std::string& path, const std::vector<uint8_t>& bytes, const char* writer) {
  File f(std::fopen(path.c_str(), "wb"));
  STRIATE_CHECK(f != nullptr, IOError, writer, ": cannot create ", path, ": ", std::strerror(errno));
  const size_t written = std::fwrite(bytes.data(), 1, bytes.size(), f.get());
  const bool flushed = std::fflush(f.get()) == 0;
  STRIATE_CHECK(written == bytes.size() && flushed, IOError, writer, ": error writing ", path, ": ",
                std::strerror(errno));
}

bool is_gzip(const std::vector<uint8_t>& bytes) {
  return bytes.size() >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b;
}

std::vector<uint8_t> gunzip(const std::vector<uint8_t>& bytes, const std::string& name, const char* reader) {
#ifndef STRIATE_WITH_ZLIB
  throw NotImplementedError(::striate::detail::concat(reader, ": ", name,
                                           " is gzip-compressed but striate was built without zlib "
                                           "(install zlib1g-dev and reconfigure, or gunzip the file)"));
#else
  std::vector<uint8_t> out;
  // The uncompressed size is unknown; the trailer's ISIZE (mod 2^32) is only
  // a hint, and a corrupt one must not drive the allocation.
  out.reserve(std::min<size_t>(bytes.size() * 4, size_t{1} << 30));
  size_t consumed = 0;
  while (consumed < bytes.size()) {
    z_stream zs{};
    // 15 + 16: a gzip wrapper, the largest window.
    STRIATE_CHECK(inflateInit2(&zs, 15 + 16) == Z_OK, IOError, reader, ": zlib could not start for ", name);
    zs.next_in = const_cast<Bytef*>(bytes.data() + consumed);
    const size_t available = bytes.size() - consumed;
    zs.avail_in = static_cast<uInt>(std::min<size_t>(available, UINT32_MAX));
    int status = Z_OK;
    uint8_t chunk[1 << 16];
    while (status == Z_OK) {
      zs.next_out = chunk;
      zs.avail_out = sizeof(chunk);
      status = inflate(&zs, Z_NO_FLUSH);
      if (status == Z_OK || status == Z_STREAM_END || status == Z_BUF_ERROR)
        out.insert(out.end(), chunk, chunk + (sizeof(chunk) - zs.avail_out));
      // Z_BUF_ERROR with input left cannot happen (the output chunk was
      // emptied); with none left the stream was cut short.
      if (status == Z_BUF_ERROR && zs.avail_in == 0) break;
    }
    const size_t used = available - zs.avail_in;
    const std::string message = zs.msg ? zs.msg : "";
    inflateEnd(&zs);
    STRIATE_CHECK(status != Z_BUF_ERROR, IOError, reader, ": ", name,
                  " is truncated (the gzip stream ends before its end marker)");
    STRIATE_CHECK(status == Z_STREAM_END, IOError, reader, ": ", name, " is not valid gzip data",
                  message.empty() ? "" : ": ", message);
    consumed += used;
    // Anything after a member must be another member (gzip -d accepts those).
    if (consumed < bytes.size()) {
      const size_t left = bytes.size() - consumed;
      STRIATE_CHECK(left >= 2 && bytes[consumed] == 0x1f && bytes[consumed + 1] == 0x8b, IOError, reader, ": ",
                    name, " has ", left, " bytes of trailing garbage after its gzip data");
    }
  }
  return out;
#endif
}

std::string first_existing_file(const std::vector<std::string>& candidates) {
  for (const auto& path : candidates) {
    std::error_code ec;
    if (std::filesystem::is_regular_file(path, ec)) return path;
  }
  return "";
}

}  // namespace detail
}  // namespace striate::data
