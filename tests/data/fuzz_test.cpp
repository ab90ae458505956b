// Fuzz-style robustness: every reader gets truncated, bit-flipped and random
// inputs (deterministic seeds) and must either return a well-formed result or
// throw IOError — never crash, hang or throw anything else. The suite also
// runs under AddressSanitizer, which turns an out-of-bounds read into a failure.
#include <gtest/gtest.h>

#include <iostream>
#include <typeinfo>

#include "data/data_test_util.h"

namespace striate::data::test {
namespace {

// Runs `read`; an IOError is fine, and so is a result `check` accepts.
struct Outcomes {
  int valid = 0, io_errors = 0;
};
Outcomes outcomes;

template <typename Read, typename Check>
void expect_io_error_or_valid(const Read& read, const Check& check, const std::string& what) {
  try {
    check(read());
    ++outcomes.valid;
  } catch (const IOError&) {
    ++outcomes.io_errors;
  } catch (const std::exception& e) {
    ADD_FAILURE() << what << ": threw " << typeid(e).name() << " instead of IOError: " << e.what();
  }
}

// Every prefix (up to `limit` evenly spread lengths), `flips` inputs with 1-4
// bytes overwritten, and `randoms` random inputs that keep the first `keep`
// bytes (a magic number) so the decoder gets past its first check.
template <typename Read, typename Check>
void fuzz(const Bytes& valid, const Read& read, const Check& check, const std::string& name, uint64_t seed,
          size_t keep, int limit = 120, int flips = 200, int randoms = 60) {
  // The untouched input decodes: the variants start from a valid file.
  outcomes = {};
  expect_io_error_or_valid([&] { return read(valid); }, check, name + " (valid)");
  ASSERT_EQ(outcomes.valid, 1) << name << ": the valid input was rejected";
  ByteRandom random(seed);
  const size_t step = std::max<size_t>(1, valid.size() / static_cast<size_t>(limit));
  for (size_t n = 0; n < valid.size(); n += step) {
    const Bytes cut(valid.begin(), valid.begin() + static_cast<std::ptrdiff_t>(n));
    expect_io_error_or_valid([&] { return read(cut); }, check, name + " truncated to " + std::to_string(n));
  }
  for (int i = 0; i < flips; ++i) {
    Bytes b = valid;
    const int64_t count = 1 + random.below(4);
    for (int64_t k = 0; k < count; ++k) {
      // Half the flips land in the first 64 bytes, where the headers are.
      const auto span = static_cast<int64_t>(i % 2 == 0 ? std::min<size_t>(64, b.size()) : b.size());
      b[static_cast<size_t>(random.below(span))] = random.byte();
    }
    expect_io_error_or_valid([&] { return read(b); }, check, name + " flip #" + std::to_string(i));
  }
  for (int i = 0; i < randoms; ++i) {
    Bytes b(valid.begin(), valid.begin() + static_cast<std::ptrdiff_t>(std::min(keep, valid.size())));
    const Bytes tail = random.bytes(static_cast<size_t>(random.below(static_cast<int64_t>(valid.size()) * 2 + 1)));
    b.insert(b.end(), tail.begin(), tail.end());
    expect_io_error_or_valid([&] { return read(b); }, check, name + " random #" + std::to_string(i));
  }
  std::cout << "  " << name << ": " << outcomes.valid << " decoded, " << outcomes.io_errors << " IOErrors\n";
}

void check_tensor(const Tensor& t) {
  ASSERT_TRUE(t.defined());
  ASSERT_GE(t.dim(), 1);
  ASSERT_EQ(t.numel(), shape_numel(t.sizes()));
}

void check_image(const Tensor& t) {
  ASSERT_TRUE(t.defined());
  ASSERT_EQ(t.dim(), 3);
  ASSERT_EQ(t.dtype(), kByte);
  ASSERT_TRUE(t.size(2) >= 1 && t.size(2) <= 4);
  ASSERT_LE(t.size(0) * t.size(1), kMaxImagePixels);
  if (t.numel() > 0) (void)t.sum().item<int64_t>();  // every byte readable
}

// Recomputes each PNG chunk's CRC, so that corrupted chunk contents reach
// the decoder instead of stopping at the checksum.
Bytes fix_png_crcs(Bytes b) {
  size_t at = 8;
  while (at + 12 <= b.size()) {
    const uint32_t length = (uint32_t{b[at]} << 24) | (uint32_t{b[at + 1]} << 16) | (uint32_t{b[at + 2]} << 8) | b[at + 3];
    if (length > b.size() - at - 12) break;
    const Bytes typed(b.begin() + static_cast<std::ptrdiff_t>(at + 4),
                      b.begin() + static_cast<std::ptrdiff_t>(at + 8 + length));
    const uint32_t crc = crc32(typed);
    for (int k = 0; k < 4; ++k) b[at + 8 + length + static_cast<size_t>(k)] = static_cast<uint8_t>(crc >> (24 - 8 * k));
    at += 12 + length;
  }
  return b;
}

Bytes mnist_like_idx() {
  Bytes pixels(3 * 6 * 5);
  for (size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<uint8_t>(i * 13);
  return idx_u8({3, 6, 5}, pixels);
}

TEST(Fuzz, IdxRaw) {
  fuzz(mnist_like_idx(), [](const Bytes& b) { return decode_idx(b, "fuzz.idx"); }, check_tensor, "idx", 1, 4);
}

TEST(Fuzz, IdxGzip) {
  if (!built_with_zlib()) GTEST_SKIP() << "built without zlib";
  // Stored blocks (from the test) and real deflate (Python's gzip, committed).
  fuzz(gzip_stored(mnist_like_idx()), [](const Bytes& b) { return decode_idx(b, "fuzz.gz"); }, check_tensor,
       "idx stored gzip", 2, 10);
  fuzz(read_bytes(fixture("tiny-images-idx3-ubyte.gz")), [](const Bytes& b) { return decode_idx(b, "fuzz.gz"); },
       check_tensor, "idx deflate gzip", 3, 10);
}

TEST(Fuzz, IdxFilesThroughTheDatasets) {
  // The file path as MNIST uses it: a few corrupted label files in a folder.
  ScratchDir dir;
  ByteRandom random(4);
  Bytes images = idx_u8({2, 28, 28}, Bytes(2 * 784, 7));
  for (int i = 0; i < 20; ++i) {
    Bytes labels = idx_u8({2}, {1, 2});
    labels[static_cast<size_t>(random.below(static_cast<int64_t>(labels.size())))] = random.byte();
    dir.write("m/train-images-idx3-ubyte", images);
    dir.write("m/train-labels-idx1-ubyte", labels);
    expect_io_error_or_valid([&] { return MNIST(dir.file("m"), true).size(); },
                             [](int64_t n) { ASSERT_EQ(n, 2); }, "MNIST labels flip #" + std::to_string(i));
  }
}

TEST(Fuzz, Cifar) {
  const Bytes cifar10 = cifar_records({{1}, {7}});
  const auto check = [](const CifarBatch& b) {
    ASSERT_EQ(b.images.size(0), b.labels.size(0));
    ASSERT_EQ(b.images.sizes().back(), 32);
  };
  fuzz(cifar10, [](const Bytes& b) { return decode_cifar_batch(b, CifarKind::Cifar10, "fuzz.bin"); }, check,
       "cifar10", 5, 0, 60, 100, 30);
  fuzz(cifar_records({{3, 40}}), [](const Bytes& b) { return decode_cifar_batch(b, CifarKind::Cifar100, "fuzz.bin"); },
       check, "cifar100", 6, 0, 60, 100, 30);
}

TEST(Fuzz, Png) {
  if (!built_with_png()) GTEST_SKIP() << "built without libpng";
  const auto read = [](const Bytes& b) { return decode_image(b, ImageMode::Unchanged, "fuzz.png"); };
  std::vector<uint8_t> v(9 * 7 * 3);
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<uint8_t>(i * i);
  const Bytes rgb = encode_png(from_vector(v, {9, 7, 3}));
  fuzz(rgb, read, check_image, "png rgb", 7, 8);
  fuzz(read_bytes(fixture("palette_4x2.png")), read, check_image, "png palette", 8, 8, 60, 100, 20);
  fuzz(read_bytes(fixture("gray16_3x2.png")), read, check_image, "png 16-bit", 9, 8, 60, 100, 20);
  // Corruptions that keep every chunk's CRC valid reach the decoder proper.
  ByteRandom random(10);
  for (int i = 0; i < 200; ++i) {
    Bytes b = rgb;
    b[static_cast<size_t>(8 + random.below(static_cast<int64_t>(b.size()) - 8))] = random.byte();
    expect_io_error_or_valid([&] { return read(fix_png_crcs(b)); }, check_image, "png crc-fixed #" + std::to_string(i));
  }
  std::cout << "  png crc-fixed (with png palette and 16-bit above): " << outcomes.valid << " decoded, "
            << outcomes.io_errors << " IOErrors\n";
}

TEST(Fuzz, Jpeg) {
  if (!built_with_jpeg()) GTEST_SKIP() << "built without libjpeg";
  const auto read = [](const Bytes& b) { return decode_image(b, ImageMode::RGB, "fuzz.jpg"); };
  fuzz(read_bytes(fixture("rgb_10x12.jpg")), read, check_image, "jpeg rgb", 11, 3);
  fuzz(read_bytes(fixture("gray_7x9.jpg")), read, check_image, "jpeg gray", 12, 3, 60, 100, 20);
}

TEST(Fuzz, ImageFilesOfAnyKind) {
  // decode_image's dispatch on arbitrary bytes, and read_image from files.
  ByteRandom random(13);
  ScratchDir dir;
  for (int i = 0; i < 100; ++i) {
    const Bytes b = random.bytes(static_cast<size_t>(random.below(200)));
    expect_io_error_or_valid([&] { return decode_image(b); }, check_image, "random image #" + std::to_string(i));
  }
  for (int i = 0; i < 10; ++i) {
    const auto path = dir.write("f" + std::to_string(i) + ".png", random.bytes(static_cast<size_t>(random.below(100))));
    expect_io_error_or_valid([&] { return read_image(path); }, check_image, path);
  }
}

}  // namespace
}  // namespace striate::data::test
