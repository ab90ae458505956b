// IDX reading (raw and gzip) and the MNIST / Fashion-MNIST datasets on small
// generated files; the real Fashion-MNIST is in fashion_mnist_test.cpp.
#include <gtest/gtest.h>

#include <cstring>

#include "data/data_test_util.h"

namespace striate::data::test {
namespace {

Bytes iota_bytes(size_t n, int mul = 1) {
  Bytes b(n);
  for (size_t i = 0; i < n; ++i) b[i] = static_cast<uint8_t>(i * mul % 256);
  return b;
}

template <typename E>
std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  }
  return "(no exception)";
}

TEST(Idx, ReadsRawUnsignedBytes) {
  ScratchDir dir;
  const auto path = dir.write("images", idx_u8({2, 3, 4}, iota_bytes(24)));
  Tensor t = read_idx(path);
  EXPECT_EQ(t.dtype(), kByte);
  EXPECT_EQ(t.sizes(), (Shape{2, 3, 4}));
  EXPECT_EQ(t.to_vector<int>(), [] {
    std::vector<int> v(24);
    for (int i = 0; i < 24; ++i) v[i] = i;
    return v;
  }());
}

TEST(Idx, GzipIsRecognisedByContentNotName) {
  ScratchDir dir;
  const Bytes raw = idx_u8({5}, {1, 2, 3, 4, 5});
  const auto stored = dir.write("labels.bin", gzip_stored(raw));  // no .gz in the name
  EXPECT_EQ(read_idx(stored).to_vector<int>(), (std::vector<int>{1, 2, 3, 4, 5}));
  // Two gzip members in a row, as `cat a.gz b.gz` makes: one stream to gzip -d.
  Bytes half1(raw.begin(), raw.begin() + 6), half2(raw.begin() + 6, raw.end());
  Bytes two = gzip_stored(half1);
  const Bytes second = gzip_stored(half2);
  two.insert(two.end(), second.begin(), second.end());
  EXPECT_EQ(decode_idx(two).to_vector<int>(), (std::vector<int>{1, 2, 3, 4, 5}));
}

TEST(Idx, ReadsDeflateCompressedFixture) {
  if (!built_with_zlib()) GTEST_SKIP() << "built without zlib";
  Tensor images = read_idx(fixture("tiny-images-idx3-ubyte.gz"));
  ASSERT_EQ(images.sizes(), (Shape{3, 4, 5}));
  const auto v = images.to_vector<int>();
  for (int i = 0; i < 60; ++i) EXPECT_EQ(v[i], i * 7 % 256) << i;
  EXPECT_EQ(read_idx(fixture("tiny-labels-idx1-ubyte.gz")).to_vector<int>(), (std::vector<int>{7, 0, 9}));
}

TEST(Idx, ReadsOtherElementTypesBigEndian) {
  // 0x0B: signed 16-bit -> int32; 0x0D: f32; 0x0E: f64.
  Bytes shorts{0, 0, 0x0B, 1};
  put_be32(shorts, 3);
  for (int16_t v : {int16_t{-2}, int16_t{300}, int16_t{-32768}}) {
    shorts.push_back(static_cast<uint8_t>(static_cast<uint16_t>(v) >> 8));
    shorts.push_back(static_cast<uint8_t>(v));
  }
  Tensor s = decode_idx(shorts);
  EXPECT_EQ(s.dtype(), kInt);
  EXPECT_EQ(s.to_vector<int>(), (std::vector<int>{-2, 300, -32768}));

  Bytes floats{0, 0, 0x0D, 2};
  put_be32(floats, 1);
  put_be32(floats, 2);
  for (float f : {1.5f, -0.25f}) {
    uint32_t bits;
    std::memcpy(&bits, &f, 4);
    put_be32(floats, bits);
  }
  Tensor f = decode_idx(floats);
  EXPECT_EQ(f.dtype(), kFloat);
  EXPECT_EQ(f.sizes(), (Shape{1, 2}));
  EXPECT_EQ(f.to_vector<float>(), (std::vector<float>{1.5f, -0.25f}));

  Bytes doubles{0, 0, 0x0E, 1};
  put_be32(doubles, 1);
  uint64_t bits;
  const double d = -3.0e100;
  std::memcpy(&bits, &d, 8);
  put_be32(doubles, static_cast<uint32_t>(bits >> 32));
  put_be32(doubles, static_cast<uint32_t>(bits));
  EXPECT_EQ(decode_idx(doubles).to_vector<double>(), (std::vector<double>{d}));

  Bytes bytes_signed{0, 0, 0x09, 1};
  put_be32(bytes_signed, 2);
  bytes_signed.push_back(0xFF);
  bytes_signed.push_back(0x7F);
  EXPECT_EQ(decode_idx(bytes_signed).to_vector<int>(), (std::vector<int>{-1, 127}));
}

TEST(Idx, MalformedFilesAreIOErrorsNamingTheFile) {
  ScratchDir dir;
  const auto bad_magic = dir.write("bad_magic", Bytes{0, 1, 8, 1, 0, 0, 0, 0});
  EXPECT_NE(message_of<IOError>([&] { read_idx(bad_magic); }).find("bad magic"), std::string::npos);
  EXPECT_NE(message_of<IOError>([&] { read_idx(bad_magic); }).find(bad_magic), std::string::npos);

  const auto bad_type = dir.write("bad_type", Bytes{0, 0, 7, 1, 0, 0, 0, 0});
  EXPECT_NE(message_of<IOError>([&] { read_idx(bad_type); }).find("type code 0x07"), std::string::npos);

  Bytes truncated = idx_u8({10, 10}, iota_bytes(100));
  truncated.resize(truncated.size() - 1);
  const auto trunc_path = dir.write("trunc", truncated);
  const std::string m = message_of<IOError>([&] { read_idx(trunc_path); });
  EXPECT_NE(m.find("truncated"), std::string::npos) << m;
  EXPECT_NE(m.find("[10, 10]"), std::string::npos) << m;
  EXPECT_NE(m.find(trunc_path), std::string::npos) << m;

  Bytes trailing = idx_u8({2}, {1, 2});
  trailing.push_back(0);
  EXPECT_THROW(decode_idx(trailing), IOError);
  EXPECT_THROW(decode_idx(Bytes{0, 0, 8}), IOError);          // short header
  EXPECT_THROW(decode_idx(Bytes{0, 0, 8, 0}), IOError);       // zero dims
  EXPECT_THROW(decode_idx(Bytes{0, 0, 8, 2, 0, 0, 0}), IOError);  // dims cut short
  // 2^32-1 squared elements: an impossible header, not a huge allocation.
  EXPECT_THROW(decode_idx(Bytes{0, 0, 8, 2, 255, 255, 255, 255, 255, 255, 255, 255}), IOError);
  EXPECT_THROW(read_idx(dir.file("missing")), IOError);
  EXPECT_THROW(read_idx(dir.path().string()), IOError);  // a folder

  // A gzip stream cut short, and gzip followed by garbage.
  const Bytes gz = gzip_stored(idx_u8({4}, {1, 2, 3, 4}));
  if (built_with_zlib()) {
    const Bytes cut(gz.begin(), gz.end() - 6);
    EXPECT_NE(message_of<IOError>([&] { decode_idx(cut, "cut.gz"); }).find("cut.gz"), std::string::npos);
    Bytes garbage = gz;
    garbage.push_back(42);
    EXPECT_NE(message_of<IOError>([&] { decode_idx(garbage); }).find("trailing garbage"), std::string::npos);
    Bytes bad_crc = gz;
    bad_crc[bad_crc.size() - 8] ^= 1;
    EXPECT_THROW(decode_idx(bad_crc), IOError);
  } else {
    EXPECT_THROW(decode_idx(gz), NotImplementedError);
  }
}

// ---- MNIST-layout datasets on generated files ------------------------------------

void write_mnist(const ScratchDir& dir, const std::string& folder, const std::string& prefix, int n, bool gz,
                 Bytes labels = {}) {
  if (labels.empty())
    for (int i = 0; i < n; ++i) labels.push_back(static_cast<uint8_t>(i % 10));
  const Bytes images = idx_u8({static_cast<uint32_t>(n), 28, 28}, iota_bytes(static_cast<size_t>(n) * 784, 3));
  const Bytes label_file = idx_u8({static_cast<uint32_t>(labels.size())}, labels);
  const std::string ext = gz ? ".gz" : "";
  dir.write(folder + "/" + prefix + "-images-idx3-ubyte" + ext, gz ? gzip_stored(images) : images);
  dir.write(folder + "/" + prefix + "-labels-idx1-ubyte" + ext, gz ? gzip_stored(label_file) : label_file);
}

TEST(MnistDataset, ReadsTrainAndTestSplitsRawOrGz) {
  ScratchDir dir;
  write_mnist(dir, "m", "train", 12, /*gz=*/false);
  write_mnist(dir, "m", "t10k", 5, /*gz=*/true);
  const std::string root = dir.file("m");
  MNIST train(root, true);
  EXPECT_EQ(train.size(), 12);
  EXPECT_EQ(train.images().sizes(), (Shape{12, 28, 28}));
  EXPECT_EQ(train.targets().dtype(), kLong);
  Example e = train.get(3);
  EXPECT_EQ(e.data.sizes(), (Shape{1, 28, 28}));
  EXPECT_EQ(e.data.dtype(), kFloat);
  EXPECT_EQ(e.target.dim(), 0);
  EXPECT_EQ(e.target.item<int64_t>(), 3);
  // Pixel k of image 3 is (3 * 784 + k) * 3 mod 256, scaled to [0, 1].
  const auto px = e.data.to_vector<float>();
  for (int k : {0, 1, 500, 783}) EXPECT_FLOAT_EQ(px[k], static_cast<float>((3 * 784 + k) * 3 % 256) / 255.0f);
  EXPECT_EQ(train.float_images().sizes(), (Shape{12, 1, 28, 28}));
  EXPECT_FLOAT_EQ(train.float_images()[3].to_vector<float>()[500], px[500]);

  if (built_with_zlib()) {
    MNIST test(root, false);
    EXPECT_EQ(test.size(), 5);
    EXPECT_NE(test.images_path().find(".gz"), std::string::npos);
  }
  EXPECT_THROW(train.get(12), IndexError);
  EXPECT_THROW(train.get(-1), IndexError);
}

TEST(MnistDataset, FindsTorchvisionLayout) {
  ScratchDir dir;
  write_mnist(dir, "FashionMNIST/raw", "t10k", 4, false);
  FashionMNIST fashion(dir.path().string(), false);
  EXPECT_EQ(fashion.size(), 4);
  EXPECT_EQ(fashion.classes().at(9), "Ankle boot");
  write_mnist(dir, "raw", "train", 3, false);
  EXPECT_EQ(MNIST(dir.path().string(), true).size(), 3);
}

TEST(MnistDataset, MissingFilesSayHowToGetThem) {
  ScratchDir dir;
  const std::string m = message_of<IOError>([&] { FashionMNIST(dir.file("nowhere"), true); });
  EXPECT_NE(m.find("train-images-idx3-ubyte"), std::string::npos) << m;
  EXPECT_NE(m.find("apt-get install dataset-fashion-mnist"), std::string::npos) << m;
  EXPECT_NE(m.find(dir.file("nowhere")), std::string::npos) << m;
  const std::string mm = message_of<IOError>([&] { MNIST(dir.file("nowhere"), false); });
  EXPECT_NE(mm.find("t10k-images-idx3-ubyte"), std::string::npos) << mm;
}

TEST(MnistDataset, InconsistentFilesAreIOErrors) {
  {
    ScratchDir dir;
    write_mnist(dir, "m", "train", 6, false, /*labels=*/{1, 2, 3, 4, 5});  // 6 images, 5 labels
    const std::string m = message_of<IOError>([&] { MNIST(dir.file("m"), true); });
    EXPECT_NE(m.find("6 images"), std::string::npos) << m;
    EXPECT_NE(m.find("5 labels"), std::string::npos) << m;
  }
  {
    ScratchDir dir;
    write_mnist(dir, "m", "train", 3, false, /*labels=*/{1, 12, 3});
    const std::string m = message_of<IOError>([&] { MNIST(dir.file("m"), true); });
    EXPECT_NE(m.find("label 12 at index 1"), std::string::npos) << m;
  }
  {
    ScratchDir dir;  // images and labels swapped
    write_mnist(dir, "m", "train", 3, false);
    std::filesystem::rename(dir.file("m/train-images-idx3-ubyte"), dir.file("m/tmp"));
    std::filesystem::rename(dir.file("m/train-labels-idx1-ubyte"), dir.file("m/train-images-idx3-ubyte"));
    std::filesystem::rename(dir.file("m/tmp"), dir.file("m/train-labels-idx1-ubyte"));
    EXPECT_THROW(MNIST(dir.file("m"), true), IOError);
  }
}

}  // namespace
}  // namespace striate::data::test
