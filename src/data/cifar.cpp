#include "striate/data/cifar.h"

#include <cstring>
#include <filesystem>

#include "data/file_io.h"
#include "striate/core/error.h"
#include "striate/core/ops/factory.h"

namespace striate::data {
namespace {

constexpr int64_t kPixels = 3 * 32 * 32;

const char* kind_name(CifarKind kind) { return kind == CifarKind::Cifar10 ? "CIFAR10" : "CIFAR100"; }

CifarBatch concat_batches(const std::vector<CifarBatch>& parts, CifarKind kind) {
  int64_t n = 0;
  for (const auto& p : parts) n += p.images.size(0);
  CifarBatch all;
  all.images = empty({n, 3, 32, 32}, TensorOptions(kByte));
  all.labels = empty({n}, TensorOptions(kLong));
  if (kind == CifarKind::Cifar100) all.coarse_labels = empty({n}, TensorOptions(kLong));
  int64_t at = 0;
  for (const auto& p : parts) {
    const int64_t m = p.images.size(0);
    std::memcpy(all.images.data_ptr<uint8_t>() + at * kPixels, p.images.data_ptr(), static_cast<size_t>(m * kPixels));
    std::memcpy(all.labels.data_ptr<int64_t>() + at, p.labels.data_ptr(), static_cast<size_t>(m) * sizeof(int64_t));
    if (kind == CifarKind::Cifar100)
      std::memcpy(all.coarse_labels.data_ptr<int64_t>() + at, p.coarse_labels.data_ptr(),
                  static_cast<size_t>(m) * sizeof(int64_t));
    at += m;
  }
  return all;
}

// The folder holding `first_file`: root itself or its extracted-archive sub-folder.
std::string find_cifar_folder(const std::string& root, const char* archive_folder, const std::string& first_file,
                              CifarKind kind) {
  namespace fs = std::filesystem;
  for (const fs::path& folder : {fs::path(root), fs::path(root) / archive_folder}) {
    std::error_code ec;
    if (fs::is_regular_file(folder / first_file, ec)) return folder.string();
  }
  const bool ten = kind == CifarKind::Cifar10;
  throw IOError(::striate::detail::concat(kind_name(kind), ": cannot find ", first_file, " in ", root, " or ",
                               (fs::path(root) / archive_folder).string(), ". Download the binary version from ",
                               ten ? "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"
                                   : "https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz",
                               " and extract it there (tar xzf ", ten ? "cifar-10-binary.tar.gz" : "cifar-100-binary.tar.gz",
                               " -C ", root, ")."));
}

Example cifar_example(const CifarBatch& data, const Tensor& targets, int64_t index) {
  Tensor image = empty({3, 32, 32}, TensorOptions(kFloat));
  const uint8_t* src = data.images.data_ptr<uint8_t>() + index * kPixels;
  float* dst = image.data_ptr<float>();
  for (int64_t i = 0; i < kPixels; ++i) dst[i] = static_cast<float>(src[i]) * (1.0f / 255.0f);
  Tensor target = empty(Shape{}, TensorOptions(kLong));
  *target.data_ptr<int64_t>() = targets.data_ptr<int64_t>()[index];
  return Example{image, target};
}

}  // namespace

CifarBatch decode_cifar_batch(const std::vector<uint8_t>& bytes, CifarKind kind, const std::string& name) {
  const bool hundred = kind == CifarKind::Cifar100;
  const size_t label_bytes = hundred ? 2 : 1;
  const size_t record = label_bytes + kPixels;
  STRIATE_CHECK(!bytes.empty(), IOError, kind_name(kind), ": ", name, " is empty");
  STRIATE_CHECK(bytes.size() % record == 0, IOError, kind_name(kind), ": ", name, " has ", bytes.size(),
                " bytes, not a whole number of ", record, "-byte records (", label_bytes, " label byte",
                hundred ? "s" : "", " + 3072 pixels): truncated, or not a ", kind_name(kind), " binary batch",
                hundred ? "" : " (a CIFAR-100 file?)");
  const auto n = static_cast<int64_t>(bytes.size() / record);
  CifarBatch out;
  out.images = empty({n, 3, 32, 32}, TensorOptions(kByte));
  out.labels = empty({n}, TensorOptions(kLong));
  if (hundred) out.coarse_labels = empty({n}, TensorOptions(kLong));
  auto* images = out.images.data_ptr<uint8_t>();
  auto* labels = out.labels.data_ptr<int64_t>();
  for (int64_t i = 0; i < n; ++i) {
    const uint8_t* r = bytes.data() + static_cast<size_t>(i) * record;
    if (hundred) {
      STRIATE_CHECK(r[0] < 20 && r[1] < 100, IOError, "CIFAR100: ", name, " record ", i, " has coarse label ",
                    static_cast<int>(r[0]), " and fine label ", static_cast<int>(r[1]),
                    " (expected 0..19 and 0..99): not a CIFAR-100 binary batch, or corrupt");
      out.coarse_labels.data_ptr<int64_t>()[i] = r[0];
      labels[i] = r[1];
    } else {
      STRIATE_CHECK(r[0] < 10, IOError, "CIFAR10: ", name, " record ", i, " has label ", static_cast<int>(r[0]),
                    " (expected 0..9): not a CIFAR-10 binary batch, or corrupt");
      labels[i] = r[0];
    }
    std::memcpy(images + i * kPixels, r + label_bytes, kPixels);
  }
  return out;
}

CifarBatch read_cifar_batch(const std::string& path, CifarKind kind) {
  return decode_cifar_batch(detail::read_file(path, kind_name(kind)), kind, path);
}

CIFAR10::CIFAR10(const std::string& root, bool train) {
  const std::vector<std::string> files =
      train ? std::vector<std::string>{"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin",
                                       "data_batch_5.bin"}
            : std::vector<std::string>{"test_batch.bin"};
  const std::string folder = find_cifar_folder(root, "cifar-10-batches-bin", files[0], CifarKind::Cifar10);
  std::vector<CifarBatch> parts;
  for (const auto& f : files)
    parts.push_back(read_cifar_batch((std::filesystem::path(folder) / f).string(), CifarKind::Cifar10));
  data_ = concat_batches(parts, CifarKind::Cifar10);
}

const std::vector<std::string>& CIFAR10::classes() const {
  static const std::vector<std::string> names{"airplane", "automobile", "bird", "cat",  "deer",
                                              "dog",      "frog",       "horse", "ship", "truck"};
  return names;
}

Example CIFAR10::fetch(int64_t index, const SampleContext&) const {
  return cifar_example(data_, data_.labels, index);
}

CIFAR100::CIFAR100(const std::string& root, bool train, bool coarse) : coarse_(coarse) {
  const std::string file = train ? "train.bin" : "test.bin";
  const std::string folder = find_cifar_folder(root, "cifar-100-binary", file, CifarKind::Cifar100);
  data_ = read_cifar_batch((std::filesystem::path(folder) / file).string(), CifarKind::Cifar100);
}

Example CIFAR100::fetch(int64_t index, const SampleContext&) const { return cifar_example(data_, targets(), index); }

}  // namespace striate::data
