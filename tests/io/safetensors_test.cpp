// safetensors: round trips, the exact byte layout, a file written by
// PyTorch, and a clear IOError (never a crash) for every kind of damage.
#include <gtest/gtest.h>

#include <random>

#include "io/io_test_util.h"
#include "support/npy.h"

namespace striate::io {
namespace {

using test::expect_identical;
using test::read_bytes;
using test::ScratchDir;
using test::write_bytes;

// One tensor of every dtype, with values that show byte-order or conversion slips.
NamedTensors every_dtype() {
  return {
      {"f64", from_vector<double>({1.5, -0.0, 1e-300, 3.141592653589793, -2.0, 7.0}, {2, 3})},
      {"f32", from_vector<float>({0.1f, -2.5f, 3e38f, 1e-40f}, {4})},
      {"f16", from_vector<float>({0.1f, -65504.f, 6e-8f}, {3}).to(kHalf)},
      {"bf16", from_vector<float>({1e30f, -0.1f, 3.f, 0.f}, {2, 2}).to(kBFloat16)},
      {"i64", from_vector<int64_t>({-(int64_t{1} << 62), 0, 123456789012345}, {3})},
      {"i32", from_vector<int32_t>({-7, 2147483647}, {1, 2})},
      {"u8", from_vector<uint8_t>({0, 128, 255}, {3})},
      {"bool", from_vector<int64_t>({1, 0, 0, 1, 1}, {5}).ne(0)},
  };
}

TEST(Safetensors, RoundTripsEveryDTypeAndMetadata) {
  ScratchDir dir;
  const NamedTensors tensors = every_dtype();
  const Metadata metadata = {{"format", "pt"}, {"note", "caf\xC3\xA9 \"quoted\"\n"}};
  save_safetensors(dir.file("all.safetensors"), tensors, metadata);
  const SafetensorsContents loaded = load_safetensors(dir.file("all.safetensors"));
  EXPECT_EQ(loaded.metadata, metadata);
  ASSERT_EQ(loaded.tensors.size(), tensors.size());
  for (size_t i = 0; i < tensors.size(); ++i) {
    EXPECT_EQ(loaded.tensors[i].first, tensors[i].first);  // order kept
    expect_identical(loaded.tensors[i].second, tensors[i].second, tensors[i].first);
  }
  ASSERT_NE(loaded.find("u8"), nullptr);
  EXPECT_EQ(loaded.find("nope"), nullptr);
}

TEST(Safetensors, MemoryFormMatchesTheFile) {
  ScratchDir dir;
  save_safetensors(dir.file("a.safetensors"), every_dtype(), {{"k", "v"}});
  const std::string bytes = serialize_safetensors(every_dtype(), {{"k", "v"}});
  EXPECT_EQ(read_bytes(dir.file("a.safetensors")), bytes);
  const SafetensorsContents parsed = parse_safetensors(bytes.data(), bytes.size());
  ASSERT_EQ(parsed.tensors.size(), 8u);
  expect_identical(parsed.tensors[3].second, every_dtype()[3].second);
}

TEST(Safetensors, WritesTheLayoutOtherReadersExpect) {
  const std::string bytes =
      serialize_safetensors({{"0.weight", from_vector<float>({1.f, 2.f}, {1, 2})},
                             {"1.num_batches_tracked", from_vector<int64_t>({3}, {})}},
                            {{"format", "pt"}});
  const std::string json =
      R"({"__metadata__":{"format":"pt"},"0.weight":{"dtype":"F32","shape":[1,2],"data_offsets":[0,8]},)"
      R"("1.num_batches_tracked":{"dtype":"I64","shape":[],"data_offsets":[8,16]}})";
  const size_t padded = (json.size() + 7) / 8 * 8;  // data starts 8-byte aligned
  ASSERT_EQ(bytes.size(), 8 + padded + 16);
  uint64_t length = 0;
  for (int i = 7; i >= 0; --i) length = (length << 8) | static_cast<unsigned char>(bytes[i]);
  EXPECT_EQ(length, padded);
  EXPECT_EQ(bytes.substr(8, json.size()), json);
  EXPECT_EQ(bytes.substr(8 + json.size(), padded - json.size()), std::string(padded - json.size(), ' '));
  float f[2];
  std::memcpy(f, bytes.data() + 8 + padded, 8);
  EXPECT_EQ(f[0], 1.f);
  EXPECT_EQ(f[1], 2.f);
  EXPECT_EQ(static_cast<unsigned char>(bytes[8 + padded + 8]), 3);  // little-endian int64
}

TEST(Safetensors, SavesViewsAsContiguousTensors) {
  const Tensor base = arange(24, TensorOptions(kFloat)).view({2, 3, 4});
  const NamedTensors views = {
      {"transposed", base.transpose(0, 2)},
      {"strided", base.slice(2, 0, 4, 3)},
      {"expanded", from_vector<float>({1.f, 2.f}, {2, 1}).expand({2, 5})},
      {"offset", base[1]},
      {"requires_grad", ones({2}, TensorOptions(kFloat)).requires_grad_()},
  };
  const std::string bytes = serialize_safetensors(views);
  const SafetensorsContents loaded = parse_safetensors(bytes.data(), bytes.size());
  ASSERT_EQ(loaded.tensors.size(), views.size());
  for (size_t i = 0; i < views.size(); ++i) {
    expect_identical(loaded.tensors[i].second, views[i].second.detach().contiguous(), views[i].first);
    EXPECT_TRUE(loaded.tensors[i].second.is_contiguous());
    EXPECT_FALSE(loaded.tensors[i].second.requires_grad());
  }
}

TEST(Safetensors, HandlesEmptyAndZeroDimTensors) {
  const NamedTensors tensors = {{"empty", zeros({0, 3}, TensorOptions(kFloat))},
                                {"scalar", full({}, 2.5, TensorOptions(kDouble))},
                                {"also_empty", zeros({4, 0}, TensorOptions(kLong))}};
  const std::string bytes = serialize_safetensors(tensors);
  const SafetensorsContents loaded = parse_safetensors(bytes.data(), bytes.size());
  ASSERT_EQ(loaded.tensors.size(), 3u);
  for (size_t i = 0; i < 3; ++i) expect_identical(loaded.tensors[i].second, tensors[i].second, tensors[i].first);
  // No tensors at all is a valid file too.
  const std::string none = serialize_safetensors({});
  EXPECT_TRUE(parse_safetensors(none.data(), none.size()).tensors.empty());
}

TEST(Safetensors, RefusesBadNamesBeforeTouchingTheFile) {
  ScratchDir dir;
  const std::string path = dir.file("out.safetensors");
  const Tensor t = zeros({1});
  EXPECT_THROW(save_safetensors(path, {{"a", t}, {"a", t}}), ValueError);
  EXPECT_THROW(save_safetensors(path, {{"", t}}), ValueError);
  EXPECT_THROW(save_safetensors(path, {{"__metadata__", t}}), ValueError);
  EXPECT_THROW(save_safetensors(path, {{"bad\xFF", t}}), ValueError);
  EXPECT_THROW(save_safetensors(path, {{"undefined", Tensor()}}), ValueError);
  EXPECT_THROW(save_safetensors(path, {{"a", t}}, {{"k", "\xC3"}}), ValueError);
  EXPECT_TRUE(dir.entries().empty());
}

TEST(Safetensors, LoadsTheDTypesFilePyTorchWrote) {
  const std::string folder = "safetensors/dtypes/";
  const SafetensorsContents loaded = load_safetensors(testing::reference_path(folder + "tensors.safetensors"));
  EXPECT_EQ(loaded.metadata.at("format"), "pt");
  // Python's json escapes non-ASCII as \uXXXX, the emoji as a surrogate pair.
  EXPECT_EQ(loaded.metadata.at("note"), "written by gen_safetensors.py \xC3\xA9\xE4\xB8\xAD\xF0\x9F\x98\x80");
  // The file lists tensors by decreasing element size, then by name.
  std::vector<std::string> order;
  for (const auto& [name, t] : loaded.tensors) order.push_back(name);
  EXPECT_EQ(order, (std::vector<std::string>{"f64", "i64", "empty", "f32", "i32", "scalar", "bf16", "f16", "bool",
                                             "u8"}));
  const std::pair<const char*, DType> expected_dtypes[] = {
      {"f64", kDouble}, {"f32", kFloat}, {"f16", kHalf}, {"bf16", kBFloat16}, {"i64", kLong},
      {"i32", kInt},    {"u8", kByte},   {"bool", kBool}, {"scalar", kFloat}, {"empty", kFloat}};
  for (const auto& [name, dtype] : expected_dtypes) {
    SCOPED_TRACE(name);
    const Tensor* t = loaded.find(name);
    ASSERT_NE(t, nullptr);
    EXPECT_EQ(t->dtype(), dtype);
    const Tensor reference = testing::load_npy(testing::reference_path(folder + name + ".npy"));
    ASSERT_EQ(t->sizes(), reference.sizes());
    if (is_floating_point(dtype)) {
      // The .npy holds f16 and bf16 values as float64, exactly.
      EXPECT_EQ(t->to(kDouble).to_vector<double>(), reference.to(kDouble).to_vector<double>());
    } else {
      EXPECT_EQ(t->to_vector<int64_t>(), reference.to_vector<int64_t>());
    }
  }
}

// ---- malformed files ---------------------------------------------------------

std::string with_length(const std::string& header, const std::string& data, uint64_t length) {
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((length >> (8 * i)) & 0xFF);
  return out + header + data;
}

std::string file_bytes(const std::string& header, const std::string& data) {
  return with_length(header, data, header.size());
}

// Both entry points report the problem as an IOError naming the source.
void expect_corrupt(const std::string& bytes, const std::string& problem) {
  ScratchDir dir;
  const std::string path = dir.file("damaged.safetensors");
  write_bytes(path, bytes);
  try {
    load_safetensors(path);
    ADD_FAILURE() << "loaded a file that should fail with: " << problem;
  } catch (const IOError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(path), std::string::npos) << msg;
    EXPECT_NE(msg.find(problem), std::string::npos) << "expected \"" << problem << "\" in: " << msg;
  }
  try {
    parse_safetensors(bytes.data(), bytes.size(), "in-memory copy");
    ADD_FAILURE() << "parsed bytes that should fail with: " << problem;
  } catch (const IOError& e) {
    EXPECT_NE(std::string(e.what()).find("in-memory copy"), std::string::npos) << e.what();
  }
}

std::string entry(const std::string& name, const std::string& dtype, const std::string& shape, uint64_t begin,
                  uint64_t end) {
  return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape + ",\"data_offsets\":[" +
         std::to_string(begin) + "," + std::to_string(end) + "]}";
}

TEST(SafetensorsCorrupt, FileTooShortOrHeaderLengthWrong) {
  expect_corrupt("", "too short for the 8-byte header length");
  expect_corrupt("\x10\x00\x00", "too short");
  expect_corrupt(with_length("{}", "", 3), "header length 3 exceeds the 2 bytes");
  expect_corrupt(with_length("{}", "", ~uint64_t{0}), "exceeds");
}

TEST(SafetensorsCorrupt, HugeHeaderIsRefusedBeforeAllocating) {
  // A sparse file takes no disk space but lets the length pass the size check.
  ScratchDir dir;
  const std::string path = dir.file("huge.safetensors");
  write_bytes(path, with_length("", "", kMaxSafetensorsHeaderBytes + 1));
  std::filesystem::resize_file(path, kMaxSafetensorsHeaderBytes + 64);
  try {
    load_safetensors(path);
    ADD_FAILURE();
  } catch (const IOError& e) {
    EXPECT_NE(std::string(e.what()).find("exceeds the limit of"), std::string::npos) << e.what();
  }
}

TEST(SafetensorsCorrupt, HeaderNotJsonOrNotAnObject) {
  expect_corrupt(file_bytes("{\"a\":", ""), "not valid JSON");
  expect_corrupt(file_bytes("[]", ""), "does not start with '{'");
  expect_corrupt(file_bytes("", ""), "does not start with '{'");
  expect_corrupt(file_bytes(" {}", ""), "does not start with '{'");
  expect_corrupt(file_bytes(std::string("{}\0\0", 4), ""), "not valid JSON");
  expect_corrupt(file_bytes("{\"a\":1}", ""), "tensor \"a\": expected an object");
}

TEST(SafetensorsCorrupt, EntryFieldsChecked) {
  const std::string f4(4, '\0');
  expect_corrupt(file_bytes("{" + entry("w", "F8_E4M3", "[4]", 0, 4) + "}", f4), "unsupported dtype \"F8_E4M3\"");
  expect_corrupt(file_bytes("{\"w\":{\"dtype\":\"F32\",\"shape\":[1]}}", f4), "tensor \"w\": missing \"data_offsets\"");
  expect_corrupt(file_bytes("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"x\":1}}", f4),
                 "unexpected key \"x\"");
  expect_corrupt(file_bytes("{\"w\":{\"dtype\":32,\"shape\":[1],\"data_offsets\":[0,4]}}", f4),
                 "\"dtype\" is not a string");
  expect_corrupt(file_bytes("{" + entry("w", "F32", "[-1]", 0, 4) + "}", f4), "not a non-negative integer");
  expect_corrupt(file_bytes("{" + entry("w", "F32", "[1.0]", 0, 4) + "}", f4), "not a non-negative integer");
  expect_corrupt(file_bytes("{" + entry("w", "F32", "4", 0, 4) + "}", f4), "\"shape\" is not an array");
  expect_corrupt(file_bytes("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", f4),
                 "not an array of two integers");
  expect_corrupt(file_bytes("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,-4]}}", f4),
                 "two non-negative integers");
  expect_corrupt(file_bytes("{" + entry("w", "F32", "[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1]", 0, 4) + "}", f4),
                 "rank 17 exceeds");
  expect_corrupt(file_bytes("{" + entry("w", "F32", "[4294967296,4294967296]", 0, 4) + "}", f4), "is too large");
  expect_corrupt(file_bytes("{\"__metadata__\":{\"k\":1}}", ""), "\"__metadata__\" value for \"k\" is not a string");
  expect_corrupt(file_bytes("{\"__metadata__\":[]}", ""), "\"__metadata__\" is not an object");
}

TEST(SafetensorsCorrupt, OffsetsMustTileTheDataExactly) {
  const std::string d8(8, '\0');
  expect_corrupt(file_bytes("{" + entry("w", "F32", "[3]", 0, 12) + "}", d8), "run past the end of the data (8 bytes)");
  expect_corrupt(file_bytes("{" + entry("w", "F32", "[0]", 8, 4) + "}", d8), "run backwards");
  expect_corrupt(file_bytes("{" + entry("w", "F32", "[2]", 0, 4) + "}", d8), "needs 8 bytes but data_offsets span 4");
  expect_corrupt(file_bytes("{" + entry("a", "F32", "[2]", 0, 8) + "," + entry("b", "F32", "[1]", 4, 8) + "}", d8),
                 "tensor \"b\" (bytes 4..8) overlaps tensor \"a\" (bytes 0..8)");
  expect_corrupt(file_bytes("{" + entry("a", "F32", "[1]", 4, 8) + "}", d8), "data bytes 0..4 before tensor \"a\"");
  expect_corrupt(file_bytes("{" + entry("a", "F32", "[1]", 0, 4) + "}", d8), "data bytes 4..8 at the end");
  expect_corrupt(file_bytes("{}", d8), "data bytes 0..8 at the end");
  expect_corrupt(file_bytes("{" + entry("a", "F32", "[1]", 0, 4) + "," + entry("a", "F32", "[1]", 4, 8) + "}", d8),
                 "duplicate key \"a\"");
  // The same tensor listed in any order is fine; a zero-size one may sit anywhere between.
  const std::string ok = file_bytes(
      "{" + entry("b", "F32", "[1]", 4, 8) + "," + entry("z", "F32", "[0]", 4, 4) + "," + entry("a", "F32", "[1]", 0, 4) + "}",
      d8);
  EXPECT_EQ(parse_safetensors(ok.data(), ok.size()).tensors.size(), 3u);
}

TEST(SafetensorsCorrupt, BoolBytesMustBeZeroOrOne) {
  expect_corrupt(file_bytes("{" + entry("m", "BOOL", "[2]", 0, 2) + "}", std::string("\x01\x02", 2)),
                 "BOOL element 1 holds byte 2");
}

TEST(SafetensorsCorrupt, MissingFileOrNotAFile) {
  ScratchDir dir;
  EXPECT_THROW(load_safetensors(dir.file("missing.safetensors")), IOError);
  try {
    load_safetensors(dir.file(""));
    ADD_FAILURE();
  } catch (const IOError& e) {
    EXPECT_NE(std::string(e.what()).find("not a regular file"), std::string::npos) << e.what();
  }
}

// ---- fuzz-style: damaged copies of a valid file --------------------------------

// Whatever parse_safetensors returns must be internally consistent; reading
// every byte lets AddressSanitizer catch any tensor that points out of bounds.
void check_consistent(const SafetensorsContents& contents, size_t file_size) {
  uint64_t total = 0;
  for (const auto& [name, t] : contents.tensors) {
    ASSERT_TRUE(t.defined());
    ASSERT_TRUE(t.is_contiguous());
    ASSERT_EQ(t.nbytes(), static_cast<size_t>(t.numel()) * t.element_size());
    const auto* bytes = static_cast<const unsigned char*>(t.data_ptr());
    unsigned sum = 0;
    for (size_t i = 0; i < t.nbytes(); ++i) sum += bytes[i];
    (void)sum;
    total += t.nbytes();
  }
  ASSERT_LE(total, file_size);
}

std::string fuzz_seed_file() {
  return serialize_safetensors(
      {{"conv.weight", from_vector<float>({1, 2, 3, 4, 5, 6}, {1, 2, 3})},
       {"bn.num_batches_tracked", from_vector<int64_t>({7}, {})},
       {"mask", from_vector<int64_t>({1, 0, 1}, {3}).ne(0)},
       {"half", from_vector<float>({0.5f, 1.5f}, {2}).to(kHalf)},
       {"none", zeros({0}, TensorOptions(kByte))},
       {"last", from_vector<double>({9.0}, {1})}},
      {{"format", "pt"}});
}

TEST(SafetensorsFuzz, EveryTruncationIsAnIOError) {
  const std::string valid = fuzz_seed_file();
  ASSERT_NO_THROW(parse_safetensors(valid.data(), valid.size()));
  for (size_t length = 0; length < valid.size(); ++length) {
    // A fresh buffer of exactly this size, so ASan sees any read past it.
    const std::vector<char> cut(valid.begin(), valid.begin() + static_cast<std::ptrdiff_t>(length));
    EXPECT_THROW(parse_safetensors(cut.data(), cut.size()), IOError) << "length " << length;
  }
  ScratchDir dir;
  for (size_t length = 0; length < valid.size(); length += 37) {
    write_bytes(dir.file("cut"), valid.substr(0, length));
    EXPECT_THROW(load_safetensors(dir.file("cut")), IOError) << "length " << length;
  }
}

TEST(SafetensorsFuzz, RandomMutationsGiveAnIOErrorOrAValidResult) {
  const std::string valid = fuzz_seed_file();
  const size_t header_end = 8 + static_cast<unsigned char>(valid[0]) + 256 * static_cast<unsigned char>(valid[1]);
  std::mt19937 rng(20240605);  // fixed: the same variants every run
  auto pick = [&](size_t lo, size_t hi) { return std::uniform_int_distribution<size_t>(lo, hi)(rng); };
  const std::string structural = "{}[]\":,-.0123456789eE \\";
  ScratchDir dir;
  int accepted = 0, rejected = 0;
  for (int variant = 0; variant < 600; ++variant) {
    std::string bytes = valid;
    switch (variant % 6) {
      case 0:  // a few random bytes anywhere
        for (size_t n = pick(1, 3); n > 0; --n) bytes[pick(0, bytes.size() - 1)] = static_cast<char>(pick(0, 255));
        break;
      case 1: {  // one digit of the header changed: shapes and offsets
        std::vector<size_t> digits;
        for (size_t i = 8; i < header_end; ++i)
          if (bytes[i] >= '0' && bytes[i] <= '9') digits.push_back(i);
        bytes[digits[pick(0, digits.size() - 1)]] = static_cast<char>('0' + pick(0, 9));
        break;
      }
      case 2:  // a header byte replaced by JSON punctuation
        bytes[pick(8, header_end - 1)] = structural[pick(0, structural.size() - 1)];
        break;
      case 3: {  // header bytes deleted or inserted, with the length prefix kept consistent
        const size_t at = pick(8, header_end - 1);
        std::string changed = bytes.substr(8, header_end - 8);
        if (rng() % 2) changed.erase(at - 8, pick(1, 6));
        else changed.insert(at - 8, std::string(pick(1, 4), structural[pick(0, structural.size() - 1)]));
        bytes = with_length(changed, valid.substr(header_end), changed.size());
        break;
      }
      case 4: {  // the length prefix itself off by a little or a lot
        uint64_t length = header_end - 8;
        length = rng() % 2 ? length + pick(1, 16) - 8 : length ^ (uint64_t{1} << pick(0, 63));
        bytes = with_length(valid.substr(8, header_end - 8), valid.substr(header_end), length);
        break;
      }
      case 5:  // data bytes only: still a valid file
        bytes[pick(header_end, bytes.size() - 1)] = static_cast<char>(pick(0, 255));
        break;
    }
    const std::vector<char> buffer(bytes.begin(), bytes.end());
    try {
      const SafetensorsContents contents = parse_safetensors(buffer.data(), buffer.size());
      check_consistent(contents, buffer.size());
      ++accepted;
    } catch (const IOError&) {
      ++rejected;
    }
    if (variant % 20 == 0) {  // the file path through the same bytes
      write_bytes(dir.file("mutant"), bytes);
      try {
        check_consistent(load_safetensors(dir.file("mutant")), bytes.size());
      } catch (const IOError&) {
      }
    }
  }
  // Both outcomes happen, so the variants exercise more than one path.
  EXPECT_GT(accepted, 50);
  EXPECT_GT(rejected, 200);
}

}  // namespace
}  // namespace striate::io
