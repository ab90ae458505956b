#include "striate/io/safetensors.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <functional>
#include <limits>
#include <unordered_set>

#include "striate/core/autograd.h"
#include "striate/core/ops/factory.h"
#include "striate/io/atomic_file.h"
#include "striate/io/json.h"

namespace striate::io {

// The format is little-endian; so is every host Striate targets, which lets
// tensor bytes go to and from the file without swapping.
static_assert(std::endian::native == std::endian::little, "safetensors I/O assumes a little-endian host");

namespace {

constexpr const char* kMetadataKey = "__metadata__";

struct DTypeName {
  DType dtype;
  const char* name;
};
constexpr DTypeName kDTypeNames[] = {
    {DType::F64, "F64"}, {DType::F32, "F32"}, {DType::F16, "F16"}, {DType::BF16, "BF16"},
    {DType::I64, "I64"}, {DType::I32, "I32"}, {DType::U8, "U8"},   {DType::Bool, "BOOL"},
};

// One tensor as the header describes it, checked against the data region.
struct Entry {
  std::string name;
  DType dtype;
  Shape shape;
  uint64_t begin;
  uint64_t end;
};

struct Layout {
  std::vector<Entry> entries;  // header order
  Metadata metadata;
};

class Reader {
 public:
  Reader(std::string source, uint64_t size) : source_(std::move(source)), size_(size) {}
  virtual ~Reader() = default;
  const std::string& source() const { return source_; }
  uint64_t size() const { return size_; }
  // Reads exactly `n` bytes at `offset` (within size()) or throws IOError.
  virtual void read(void* dst, uint64_t n, uint64_t offset) = 0;

 private:
  std::string source_;
  uint64_t size_;
};

class MemoryReader : public Reader {
 public:
  MemoryReader(const void* data, uint64_t size, std::string source)
      : Reader(std::move(source), size), data_(static_cast<const char*>(data)) {}
  void read(void* dst, uint64_t n, uint64_t offset) override {
    if (n > 0) std::memcpy(dst, data_ + offset, n);
  }

 private:
  const char* data_;
};

class FileReader : public Reader {
 public:
  FileReader(int fd, uint64_t size, std::string path) : Reader(std::move(path), size), fd_(fd) {}
  ~FileReader() override { ::close(fd_); }
  void read(void* dst, uint64_t n, uint64_t offset) override {
    char* out = static_cast<char*>(dst);
    while (n > 0) {
      const size_t chunk = n < (uint64_t{1} << 30) ? static_cast<size_t>(n) : (size_t{1} << 30);
      const ssize_t got = ::pread(fd_, out, chunk, static_cast<off_t>(offset));
      if (got < 0 && errno == EINTR) continue;
      if (got < 0) {
        const int err = errno;
        throw IOError(detail::concat("safetensors: '", source(), "': read failed: ", std::strerror(err)));
      }
      if (got == 0)
        throw IOError(detail::concat("safetensors: '", source(), "': the file ended early (was it truncated while "
                                     "being read?)"));
      out += got;
      n -= static_cast<uint64_t>(got);
      offset += static_cast<uint64_t>(got);
    }
  }

 private:
  int fd_;
};

[[noreturn]] void corrupt(const std::string& source, const std::string& problem) {
  throw IOError(detail::concat("safetensors: '", source, "': ", problem));
}

std::string tensor_label(const std::string& name) { return "tensor " + json_quote(name); }

Shape parse_shape(const Json& value, const std::string& source, const std::string& label) {
  if (!value.is_array()) corrupt(source, label + ": \"shape\" is not an array");
  const auto& dims = value.as_array();
  if (dims.size() > static_cast<size_t>(kMaxDims))
    corrupt(source, detail::concat(label, ": rank ", dims.size(), " exceeds the maximum of ", kMaxDims));
  Shape shape;
  for (const Json& dim : dims) {
    const auto size = dim.is_number() ? dim.as_int64() : std::nullopt;
    if (!size || *size < 0)
      corrupt(source, label + ": \"shape\" holds " + (dim.is_number() ? dim.number_text() : std::string("a non-number")) +
                          ", not a non-negative integer");
    shape.push_back(*size);
  }
  return shape;
}

std::pair<uint64_t, uint64_t> parse_offsets(const Json& value, const std::string& source, const std::string& label) {
  if (!value.is_array() || value.as_array().size() != 2)
    corrupt(source, label + ": \"data_offsets\" is not an array of two integers");
  const auto& pair = value.as_array();
  std::optional<uint64_t> bounds[2];
  for (int i = 0; i < 2; ++i) {
    if (pair[i].is_number()) bounds[i] = pair[i].as_uint64();
    if (!bounds[i]) corrupt(source, label + ": \"data_offsets\" is not an array of two non-negative integers");
  }
  return {*bounds[0], *bounds[1]};
}

// The byte size of `shape` in `dtype`, or nullopt if it overflows 64 bits.
std::optional<uint64_t> byte_size(const Shape& shape, DType dtype) {
  // The product over nonzero sizes must fit, even when another size is zero,
  // so that the tensor's strides fit as well.
  int64_t nonzero_product = 1;
  bool has_zero = false;
  for (int64_t d : shape) {
    if (d == 0) {
      has_zero = true;
      continue;
    }
    if (__builtin_mul_overflow(nonzero_product, d, &nonzero_product)) return std::nullopt;
  }
  uint64_t bytes = 0;
  if (__builtin_mul_overflow(static_cast<uint64_t>(nonzero_product), element_size(dtype), &bytes)) return std::nullopt;
  if (bytes > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return std::nullopt;
  return has_zero ? 0 : bytes;
}

Entry parse_entry(const std::string& name, const Json& value, uint64_t data_size, const std::string& source) {
  const std::string label = tensor_label(name);
  if (!value.is_object()) corrupt(source, label + ": expected an object with dtype, shape and data_offsets");
  const Json* dtype_value = nullptr;
  const Json* shape_value = nullptr;
  const Json* offsets_value = nullptr;
  for (const auto& [key, member] : value.as_object()) {
    if (key == "dtype") dtype_value = &member;
    else if (key == "shape") shape_value = &member;
    else if (key == "data_offsets") offsets_value = &member;
    else corrupt(source, label + ": unexpected key " + json_quote(key));
  }
  if (!dtype_value || !shape_value || !offsets_value)
    corrupt(source, label + ": missing " + (!dtype_value ? "\"dtype\"" : !shape_value ? "\"shape\"" : "\"data_offsets\""));
  if (!dtype_value->is_string()) corrupt(source, label + ": \"dtype\" is not a string");
  const auto dtype = dtype_from_safetensors_name(dtype_value->as_string());
  if (!dtype) corrupt(source, label + ": unsupported dtype " + json_quote(dtype_value->as_string()));

  Entry entry{name, *dtype, parse_shape(*shape_value, source, label), 0, 0};
  std::tie(entry.begin, entry.end) = parse_offsets(*offsets_value, source, label);
  if (entry.begin > entry.end)
    corrupt(source, detail::concat(label, ": data_offsets [", entry.begin, ", ", entry.end, "] run backwards"));
  if (entry.end > data_size)
    corrupt(source, detail::concat(label, ": data_offsets [", entry.begin, ", ", entry.end,
                                   "] run past the end of the data (", data_size, " bytes)"));
  const auto bytes = byte_size(entry.shape, entry.dtype);
  if (!bytes) corrupt(source, label + ": shape " + shape_str(entry.shape) + " is too large");
  if (*bytes != entry.end - entry.begin)
    corrupt(source, detail::concat(label, ": shape ", shape_str(entry.shape), " in ", dtype_value->as_string(),
                                   " needs ", *bytes, " bytes but data_offsets span ", entry.end - entry.begin));
  return entry;
}

// The tensors must tile [0, data_size) exactly: no overlaps, no gaps, no tail.
void check_coverage(const std::vector<Entry>& entries, uint64_t data_size, const std::string& source) {
  std::vector<const Entry*> by_offset;
  for (const Entry& e : entries) by_offset.push_back(&e);
  std::sort(by_offset.begin(), by_offset.end(), [](const Entry* a, const Entry* b) {
    return a->begin != b->begin ? a->begin < b->begin : a->end < b->end;
  });
  uint64_t covered = 0;
  const Entry* previous = nullptr;
  for (const Entry* e : by_offset) {
    if (e->begin < covered)
      corrupt(source, detail::concat(tensor_label(e->name), " (bytes ", e->begin, "..", e->end, ") overlaps ",
                                     tensor_label(previous->name), " (bytes ", previous->begin, "..", previous->end, ")"));
    if (e->begin > covered)
      corrupt(source, detail::concat("data bytes ", covered, "..", e->begin, " before ", tensor_label(e->name),
                                     " belong to no tensor"));
    covered = e->end;
    previous = e;
  }
  if (covered != data_size)
    corrupt(source, detail::concat("data bytes ", covered, "..", data_size, " at the end belong to no tensor"));
}

Layout parse_header(std::string_view header, uint64_t data_size, const std::string& source) {
  if (header.empty() || header.front() != '{') corrupt(source, "the header does not start with '{'");
  Json root;
  try {
    root = parse_json(header, 8);
  } catch (const JsonError& e) {
    corrupt(source, std::string("the header is not valid JSON: ") + e.what());
  }
  Layout layout;
  for (const auto& [key, value] : root.as_object()) {
    if (key == kMetadataKey) {
      if (!value.is_object()) corrupt(source, "\"__metadata__\" is not an object");
      for (const auto& [meta_key, meta_value] : value.as_object()) {
        if (!meta_value.is_string())
          corrupt(source, "\"__metadata__\" value for " + json_quote(meta_key) + " is not a string");
        layout.metadata.emplace(meta_key, meta_value.as_string());
      }
      continue;
    }
    layout.entries.push_back(parse_entry(key, value, data_size, source));
  }
  check_coverage(layout.entries, data_size, source);
  return layout;
}

uint64_t read_le64(const unsigned char* b) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | b[i];
  return v;
}

SafetensorsContents read_safetensors(Reader& reader) {
  const std::string& source = reader.source();
  if (reader.size() < 8)
    corrupt(source, detail::concat("the file is ", reader.size(), " bytes, too short for the 8-byte header length"));
  unsigned char length_bytes[8];
  reader.read(length_bytes, 8, 0);
  const uint64_t header_size = read_le64(length_bytes);
  if (header_size > reader.size() - 8)
    corrupt(source, detail::concat("the header length ", header_size, " exceeds the ", reader.size() - 8,
                                   " bytes that follow it (truncated file, or not a safetensors file?)"));
  if (header_size > kMaxSafetensorsHeaderBytes)
    corrupt(source, detail::concat("the header length ", header_size, " exceeds the limit of ",
                                   kMaxSafetensorsHeaderBytes, " bytes"));
  std::string header(header_size, '\0');
  reader.read(header.data(), header_size, 8);
  const uint64_t data_start = 8 + header_size;
  Layout layout = parse_header(header, reader.size() - data_start, source);

  SafetensorsContents contents;
  contents.metadata = std::move(layout.metadata);
  contents.tensors.reserve(layout.entries.size());
  for (Entry& e : layout.entries) {
    Tensor t = empty(e.shape, TensorOptions(e.dtype));
    const uint64_t n = e.end - e.begin;
    if (n > 0) reader.read(t.data_ptr(), n, data_start + e.begin);
    if (e.dtype == DType::Bool) {
      // Any other byte would be an invalid C++ bool.
      const auto* bytes = static_cast<const unsigned char*>(t.data_ptr());
      for (uint64_t i = 0; i < n; ++i)
        if (bytes[i] > 1)
          corrupt(source, detail::concat(tensor_label(e.name), ": BOOL element ", i, " holds byte ", int(bytes[i]),
                                         ", not 0 or 1"));
    }
    contents.tensors.emplace_back(std::move(e.name), std::move(t));
  }
  return contents;
}

// The tensors as the contiguous CPU data the file holds, after checking names.
std::vector<Tensor> prepare_tensors(const NamedTensors& tensors) {
  std::unordered_set<std::string_view> names;
  std::vector<Tensor> data;
  data.reserve(tensors.size());
  for (const auto& [name, tensor] : tensors) {
    STRIATE_CHECK(!name.empty(), ValueError, "save_safetensors: tensor names must not be empty");
    STRIATE_CHECK(name != kMetadataKey, ValueError, "save_safetensors: \"__metadata__\" is reserved for metadata, "
                                                    "not a valid tensor name");
    STRIATE_CHECK(is_valid_utf8(name), ValueError, "save_safetensors: tensor name ", json_quote(name),
                  " is not valid UTF-8");
    STRIATE_CHECK(names.insert(name).second, ValueError, "save_safetensors: duplicate tensor name ", json_quote(name));
    STRIATE_CHECK(tensor.defined(), ValueError, "save_safetensors: tensor ", json_quote(name), " is undefined");
    NoGradGuard no_grad;
    data.push_back(tensor.detach().cpu().contiguous());
  }
  return data;
}

std::string build_header(const NamedTensors& tensors, const std::vector<Tensor>& data, const Metadata& metadata) {
  Json::Object root;
  if (!metadata.empty()) {
    Json::Object meta;
    for (const auto& [key, value] : metadata) {
      STRIATE_CHECK(is_valid_utf8(key) && is_valid_utf8(value), ValueError, "save_safetensors: metadata entry ",
                    json_quote(key), " is not valid UTF-8");
      meta.emplace_back(key, Json::string(value));
    }
    root.emplace_back(kMetadataKey, Json::object(std::move(meta)));
  }
  uint64_t offset = 0;
  for (size_t i = 0; i < tensors.size(); ++i) {
    Json::Array shape;
    for (int64_t d : data[i].sizes()) shape.push_back(Json::number(d));
    const uint64_t end = offset + data[i].nbytes();
    root.emplace_back(tensors[i].first,
                      Json::object({{"dtype", Json::string(safetensors_dtype_name(data[i].dtype()))},
                                    {"shape", Json::array(std::move(shape))},
                                    {"data_offsets", Json::array({Json::number(offset), Json::number(end)})}}));
    offset = end;
  }
  std::string header = to_json(Json::object(std::move(root)));
  // Padding to 8 bytes aligns the data for readers that map the file.
  header.append((8 - header.size() % 8) % 8, ' ');
  return header;
}

// Writes the length, the header and the data; `sink` takes bytes in order.
void emit(const std::string& header, const std::vector<Tensor>& data,
          const std::function<void(const void*, size_t)>& sink) {
  unsigned char length_bytes[8];
  uint64_t length = header.size();
  for (int i = 0; i < 8; ++i, length >>= 8) length_bytes[i] = static_cast<unsigned char>(length & 0xFF);
  sink(length_bytes, 8);
  sink(header.data(), header.size());
  for (const Tensor& t : data)
    if (t.nbytes() > 0) sink(t.data_ptr(), t.nbytes());
}

}  // namespace

const Tensor* SafetensorsContents::find(std::string_view name) const {
  for (const auto& [key, tensor] : tensors)
    if (key == name) return &tensor;
  return nullptr;
}

const char* safetensors_dtype_name(DType dtype) {
  for (const auto& entry : kDTypeNames)
    if (entry.dtype == dtype) return entry.name;
  throw DTypeError(detail::concat("safetensors: no safetensors name for dtype ", dtype_name(dtype)));
}

std::optional<DType> dtype_from_safetensors_name(std::string_view name) {
  for (const auto& entry : kDTypeNames)
    if (name == entry.name) return entry.dtype;
  return std::nullopt;
}

std::string serialize_safetensors(const NamedTensors& tensors, const Metadata& metadata) {
  const std::vector<Tensor> data = prepare_tensors(tensors);
  std::string out;
  emit(build_header(tensors, data, metadata), data,
       [&](const void* bytes, size_t size) { out.append(static_cast<const char*>(bytes), size); });
  return out;
}

void save_safetensors(const std::string& path, const NamedTensors& tensors, const Metadata& metadata) {
  // Whatever is wrong with the arguments shows before the temporary file exists.
  const std::vector<Tensor> data = prepare_tensors(tensors);
  const std::string header = build_header(tensors, data, metadata);
  write_file_atomically(path, [&](AtomicFileWriter& out) {
    emit(header, data, [&](const void* bytes, size_t size) { out.write(bytes, size); });
  });
}

SafetensorsContents parse_safetensors(const void* data, size_t size, const std::string& source) {
  MemoryReader reader(data, size, source);
  return read_safetensors(reader);
}

SafetensorsContents load_safetensors(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    throw IOError(detail::concat("safetensors: cannot open '", path, "': ", std::strerror(err)));
  }
  struct stat info {};
  if (::fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
    ::close(fd);
    throw IOError(detail::concat("safetensors: '", path, "' is not a regular file"));
  }
  FileReader reader(fd, static_cast<uint64_t>(info.st_size), path);
  return read_safetensors(reader);
}

}  // namespace striate::io
