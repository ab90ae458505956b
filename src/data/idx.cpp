#include "striate/data/idx.h"

#include <cstdio>
#include <cstring>
#include <filesystem>

#include "data/file_io.h"
#include "striate/core/error.h"
#include "striate/core/ops/factory.h"
#include "striate/data/transforms.h"

namespace striate::data {
namespace {

constexpr int kMaxIdxDims = 8;

struct IdxType {
  uint8_t code;
  const char* name;
  size_t bytes;  // per element in the file
  DType dtype;   // in memory
};

constexpr IdxType kIdxTypes[] = {
    {0x08, "unsigned byte", 1, kByte}, {0x09, "signed byte", 1, kInt},  {0x0B, "short", 2, kInt},
    {0x0C, "int", 4, kInt},            {0x0D, "float", 4, kFloat},      {0x0E, "double", 8, kDouble},
};

uint64_t read_be(const uint8_t* p, size_t bytes) {
  uint64_t v = 0;
  for (size_t i = 0; i < bytes; ++i) v = (v << 8) | p[i];
  return v;
}

std::string hex(uint64_t v, int digits) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "0x%0*llx", digits, static_cast<unsigned long long>(v));
  return buf;
}

// Sign-extends the low `bytes` bytes of v.
int64_t as_signed(uint64_t v, size_t bytes) {
  const unsigned shift = static_cast<unsigned>(64 - 8 * bytes);
  return static_cast<int64_t>(v << shift) >> shift;
}

}  // namespace

Tensor decode_idx(const std::vector<uint8_t>& file_bytes, const std::string& name) {
  const std::vector<uint8_t> unzipped = detail::is_gzip(file_bytes) ? detail::gunzip(file_bytes, name, "read_idx")
                                                                    : std::vector<uint8_t>();
  const std::vector<uint8_t>& bytes = detail::is_gzip(file_bytes) ? unzipped : file_bytes;
  const char* gz = detail::is_gzip(file_bytes) ? " (after gunzip)" : "";

  STRIATE_CHECK(bytes.size() >= 4, IOError, "read_idx: ", name, " is too short for an IDX header: ", bytes.size(),
                " bytes", gz);
  STRIATE_CHECK(bytes[0] == 0 && bytes[1] == 0, IOError, "read_idx: ", name,
                " is not an IDX file: bad magic number ", hex(read_be(bytes.data(), 4), 8),
                " (expected 0x0000TTDD: two zero bytes, a type code, the number of dims)");
  const IdxType* type = nullptr;
  for (const auto& t : kIdxTypes)
    if (t.code == bytes[2]) type = &t;
  STRIATE_CHECK(type != nullptr, IOError, "read_idx: ", name, " has an unknown IDX type code ",
                hex(bytes[2], 2), " (expected 08, 09, 0B, 0C, 0D or 0E)");
  const int ndim = bytes[3];
  STRIATE_CHECK(ndim >= 1 && ndim <= kMaxIdxDims, IOError, "read_idx: ", name, " declares ", ndim,
                " dims (expected 1 to ", kMaxIdxDims, ")");
  const size_t header = 4 + 4 * static_cast<size_t>(ndim);
  STRIATE_CHECK(bytes.size() >= header, IOError, "read_idx: ", name, " is truncated: its header declares ", ndim,
                " dims but the file has ", bytes.size(), " bytes", gz);
  Shape sizes;
  uint64_t numel = 1;
  bool overflow = false;
  for (int d = 0; d < ndim; ++d) {
    const uint64_t s = read_be(bytes.data() + 4 + 4 * d, 4);
    sizes.push_back(static_cast<int64_t>(s));
    // Any real IDX file is far below 2^40 elements; above is a corrupt header.
    if (s != 0 && numel > (uint64_t{1} << 40) / s) overflow = true;
    numel *= s;
  }
  STRIATE_CHECK(!overflow, IOError, "read_idx: ", name, " declares an impossible shape ", sizes);
  const uint64_t data_bytes = numel * type->bytes;
  const uint64_t have = bytes.size() - header;
  STRIATE_CHECK(have >= data_bytes, IOError, "read_idx: ", name, " is truncated: its header declares ", sizes, " ",
                type->name, " = ", data_bytes, " bytes of data, but it has ", have, gz);
  STRIATE_CHECK(have == data_bytes, IOError, "read_idx: ", name, " has ", have - data_bytes,
                " bytes after the ", sizes, " ", type->name, " data its header declares", gz);

  Tensor out = empty(sizes, TensorOptions(type->dtype));
  const uint8_t* src = bytes.data() + header;
  const auto n = static_cast<size_t>(numel);
  switch (type->code) {
    case 0x08:
      if (n) std::memcpy(out.data_ptr(), src, n);
      break;
    case 0x09:
    case 0x0B:
    case 0x0C: {
      auto* dst = out.data_ptr<int32_t>();
      for (size_t i = 0; i < n; ++i)
        dst[i] = static_cast<int32_t>(as_signed(read_be(src + i * type->bytes, type->bytes), type->bytes));
      break;
    }
    case 0x0D: {
      auto* dst = out.data_ptr<float>();
      for (size_t i = 0; i < n; ++i) {
        const auto bits = static_cast<uint32_t>(read_be(src + 4 * i, 4));
        std::memcpy(dst + i, &bits, 4);
      }
      break;
    }
    case 0x0E: {
      auto* dst = out.data_ptr<double>();
      for (size_t i = 0; i < n; ++i) {
        const uint64_t bits = read_be(src + 8 * i, 8);
        std::memcpy(dst + i, &bits, 8);
      }
      break;
    }
  }
  return out;
}

Tensor read_idx(const std::string& path) { return decode_idx(detail::read_file(path, "read_idx"), path); }

// ---- MNIST and Fashion-MNIST ---------------------------------------------------

namespace {

constexpr MNIST::Layout kMnistLayout{
    "MNIST",
    "Download train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz and "
    "t10k-labels-idx1-ubyte.gz from a mirror of http://yann.lecun.com/exdb/mnist/ (for example "
    "https://ossci-datasets.s3.amazonaws.com/mnist/) into that folder."};

const std::vector<std::string>& mnist_classes() {
  static const std::vector<std::string> names{"0 - zero", "1 - one", "2 - two",   "3 - three", "4 - four",
                                              "5 - five", "6 - six", "7 - seven", "8 - eight", "9 - nine"};
  return names;
}

// The file `base` (or base.gz) in root, root/raw or root/<name>/raw.
std::string find_mnist_file(const std::string& root, const std::string& base, const MNIST::Layout& layout) {
  namespace fs = std::filesystem;
  const std::vector<fs::path> folders{fs::path(root), fs::path(root) / "raw", fs::path(root) / layout.name / "raw"};
  std::vector<std::string> candidates;
  for (const auto& folder : folders) {
    candidates.push_back((folder / base).string());
    candidates.push_back((folder / (base + ".gz")).string());
  }
  const std::string found = detail::first_existing_file(candidates);
  STRIATE_CHECK(!found.empty(), IOError, layout.name, ": cannot find ", base, " or ", base, ".gz in ", root,
                " (also looked in ", folders[1].string(), " and ", folders[2].string(), "). ", layout.how_to_get);
  return found;
}

}  // namespace

MNIST::MNIST(const std::string& root, bool train) : MNIST(root, train, kMnistLayout) {}

MNIST::MNIST(const std::string& root, bool train, const Layout& layout) : train_(train) {
  const std::string prefix = train ? "train" : "t10k";
  images_path_ = find_mnist_file(root, prefix + "-images-idx3-ubyte", layout);
  labels_path_ = find_mnist_file(root, prefix + "-labels-idx1-ubyte", layout);
  images_ = read_idx(images_path_);
  STRIATE_CHECK(images_.dtype() == kByte && images_.dim() == 3, IOError, layout.name, ": ", images_path_,
                " should hold unsigned-byte images [N, H, W], but holds ", dtype_name(images_.dtype()), " ",
                images_.sizes());
  const Tensor labels = read_idx(labels_path_);
  STRIATE_CHECK(labels.dtype() == kByte && labels.dim() == 1, IOError, layout.name, ": ", labels_path_,
                " should hold unsigned-byte labels [N], but holds ", dtype_name(labels.dtype()), " ", labels.sizes());
  STRIATE_CHECK(labels.size(0) == images_.size(0), IOError, layout.name, ": ", images_path_, " has ",
                images_.size(0), " images but ", labels_path_, " has ", labels.size(0), " labels");
  const uint8_t* l = labels.data_ptr<uint8_t>();
  for (int64_t i = 0; i < labels.size(0); ++i)
    STRIATE_CHECK(l[i] < 10, IOError, layout.name, ": ", labels_path_, " has label ", static_cast<int>(l[i]),
                  " at index ", i, " (expected 0 to 9)");
  targets_ = labels.to(kLong);
}

const std::vector<std::string>& MNIST::classes() const { return mnist_classes(); }

Tensor MNIST::float_images() const { return image_to_tensor(images_.unsqueeze(-1)); }

Example MNIST::fetch(int64_t index, const SampleContext&) const {
  const int64_t h = images_.size(1), w = images_.size(2);
  Tensor image = empty({1, h, w}, TensorOptions(kFloat));
  const uint8_t* src = images_.data_ptr<uint8_t>() + index * h * w;
  float* dst = image.data_ptr<float>();
  for (int64_t i = 0; i < h * w; ++i) dst[i] = static_cast<float>(src[i]) * (1.0f / 255.0f);
  Tensor target = empty(Shape{}, TensorOptions(kLong));
  *target.data_ptr<int64_t>() = targets_.data_ptr<int64_t>()[index];
  return Example{image, target};
}

namespace {

constexpr MNIST::Layout kFashionMnistLayout{
    "FashionMNIST",
    "Install Debian's package with `sudo apt-get install dataset-fashion-mnist` (it puts the files in "
    "/usr/share/datasets/fashion-mnist), or download them from https://github.com/zalandoresearch/fashion-mnist "
    "(data/fashion/*.gz) into that folder."};

}  // namespace

FashionMNIST::FashionMNIST(const std::string& root, bool train) : MNIST(root, train, kFashionMnistLayout) {}

const std::vector<std::string>& FashionMNIST::classes() const {
  static const std::vector<std::string> names{"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                              "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
  return names;
}

}  // namespace striate::data
