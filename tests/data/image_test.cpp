// PNG/JPEG decoding (checked against PIL's decoding of committed fixtures),
// encoding round trips, image grids, and ImageFolder.
#include <gtest/gtest.h>

#include "data/data_test_util.h"
#include "support/npy.h"

namespace striate::data::test {
namespace {

Tensor load(const std::string& name) { return striate::testing::load_npy(fixture(name)); }

#define REQUIRE_PNG() \
  if (!built_with_png()) GTEST_SKIP() << "built without libpng"
#define REQUIRE_JPEG() \
  if (!built_with_jpeg()) GTEST_SKIP() << "built without libjpeg"

// u8 [h, w, c] with a pattern.
Tensor pattern(int64_t h, int64_t w, int64_t c) {
  std::vector<uint8_t> v(static_cast<size_t>(h * w * c));
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<uint8_t>(i * 37 + 11);
  return from_vector(v, {h, w, c});
}

TEST(ImageDecode, PngFixturesMatchPil) {
  REQUIRE_PNG();
  Tensor gray = read_image(fixture("gray_3x2.png"));
  EXPECT_EQ(gray.sizes(), (Shape{2, 3, 1}));
  EXPECT_TRUE(allclose(gray.squeeze(-1).to(kInt), load("gray_3x2_png.npy").to(kInt), 0, 0));
  // A palette with transparency expands to RGBA.
  Tensor palette = read_image(fixture("palette_4x2.png"));
  EXPECT_EQ(palette.sizes(), (Shape{2, 4, 4}));
  EXPECT_TRUE(allclose(palette.to(kInt), load("palette_4x2_png.npy").to(kInt), 0, 0));
  // 16-bit samples keep their high byte.
  Tensor g16 = read_image(fixture("gray16_3x2.png"));
  EXPECT_TRUE(allclose(g16.squeeze(-1).to(kInt), load("gray16_3x2_high_byte.npy").to(kInt), 0, 0));
  // Modes: RGB drops alpha without compositing; gray becomes RGB by repetition.
  EXPECT_TRUE(allclose(read_image(fixture("palette_4x2.png"), ImageMode::RGB).to(kInt),
                       load("palette_4x2_png.npy").slice(2, 0, 3).to(kInt), 0, 0));
  Tensor gray_rgb = read_image(fixture("gray_3x2.png"), ImageMode::RGB);
  EXPECT_EQ(gray_rgb.sizes(), (Shape{2, 3, 3}));
  EXPECT_EQ(gray_rgb[0][1].to_vector<int>(), (std::vector<int>{128, 128, 128}));
  EXPECT_EQ(read_image(fixture("gray_3x2.png"), ImageMode::RGBA)[1][2].to_vector<int>(),
            (std::vector<int>{51, 51, 51, 255}));
}

TEST(ImageDecode, JpegFixturesMatchPil) {
  REQUIRE_JPEG();
  Tensor rgb = read_image(fixture("rgb_10x12.jpg"));
  EXPECT_EQ(rgb.sizes(), (Shape{12, 10, 3}));
  EXPECT_TRUE(allclose(rgb.to(kInt), load("rgb_10x12_jpg.npy").to(kInt), 0, 0));
  Tensor gray = read_image(fixture("gray_7x9.jpg"));
  EXPECT_EQ(gray.sizes(), (Shape{9, 7, 1}));
  EXPECT_TRUE(allclose(gray.squeeze(-1).to(kInt), load("gray_7x9_jpg.npy").to(kInt), 0, 0));
  // PIL's convert("L") weights.
  EXPECT_TRUE(allclose(read_image(fixture("rgb_10x12.jpg"), ImageMode::Gray).squeeze(-1).to(kInt),
                       load("rgb_10x12_jpg_gray.npy").to(kInt), 0, 0));
}

TEST(ImageEncode, PngRoundTripsEveryChannelCountAndLayout) {
  REQUIRE_PNG();
  ScratchDir dir;
  for (int64_t c : {1, 2, 3, 4}) {
    const Tensor img = pattern(5, 7, c);
    const auto path = dir.file("img" + std::to_string(c) + ".png");
    write_png(path, img);
    EXPECT_TRUE(allclose(read_image(path).to(kInt), img.to(kInt), 0, 0)) << c << " channels";
    // The same image given CHW.
    const Tensor chw = img.permute({2, 0, 1}).contiguous();
    EXPECT_TRUE(allclose(decode_image(encode_png(chw, ImageLayout::CHW)).to(kInt), img.to(kInt), 0, 0));
  }
  // Auto: [3, 8, 9] is CHW (last dim not 1..4), [8, 9] is gray.
  const Tensor chw = pattern(3, 8, 9).reshape({3, 8, 9});
  EXPECT_EQ(decode_image(encode_png(chw)).sizes(), (Shape{8, 9, 3}));
  EXPECT_EQ(decode_image(encode_png(pattern(8, 9, 1).squeeze(-1))).sizes(), (Shape{8, 9, 1}));
  // Floats in [0, 1]: x * 255 + 0.5 truncated, clamped.
  const Tensor f = from_vector(std::vector<float>{-1.0f, 0.0f, 0.5f, 1.0f, 2.0f, 0.1f}, {2, 3});
  EXPECT_EQ(decode_image(encode_png(f)).to_vector<int>(), (std::vector<int>{0, 0, 128, 255, 255, 26}));
  EXPECT_THROW(encode_png(zeros({6, 2, 5})), ShapeError);
  EXPECT_THROW(encode_png(zeros({2, 2}, kInt)), DTypeError);
  EXPECT_THROW(encode_png(zeros({2})), ShapeError);
  EXPECT_THROW(write_png(dir.file("no/such/folder/x.png"), pattern(2, 2, 1)), IOError);
}

TEST(ImageEncode, JpegRoundTripIsClose) {
  REQUIRE_JPEG();
  ScratchDir dir;
  // A smooth image survives JPEG almost unchanged.
  std::vector<uint8_t> v;
  for (int y = 0; y < 16; ++y)
    for (int x = 0; x < 16; ++x)
      for (int c = 0; c < 3; ++c) v.push_back(static_cast<uint8_t>(30 + 5 * x + 3 * y + 20 * c));
  const Tensor img = from_vector(v, {16, 16, 3});
  const auto path = dir.file("smooth.jpg");
  write_jpeg(path, img, 95);
  Tensor back = read_image(path);
  EXPECT_EQ(back.sizes(), img.sizes());
  EXPECT_LT((back.to(kFloat) - img.to(kFloat)).abs().max().item<float>(), 12.0f);
  EXPECT_THROW(encode_jpeg(pattern(4, 4, 4)), ShapeError);  // no alpha in JPEG
  EXPECT_THROW(encode_jpeg(pattern(4, 4, 3), 0), ValueError);
}

TEST(ImageDecode, BadFilesAreIOErrorsNamingThem) {
  ScratchDir dir;
  const auto text = dir.write("notes.png", Bytes{'h', 'e', 'l', 'l', 'o'});
  try {
    read_image(text);
    FAIL() << "expected an IOError";
  } catch (const IOError& e) {
    EXPECT_NE(std::string(e.what()).find(text), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("neither a PNG nor a JPEG"), std::string::npos) << e.what();
  }
  EXPECT_THROW(read_image(dir.write("empty.png", Bytes{})), IOError);
  EXPECT_THROW(read_image(dir.file("missing.png")), IOError);
  if (built_with_png()) {
    Bytes png = read_bytes(fixture("gray_3x2.png"));
    png.resize(png.size() / 2);
    const auto cut = dir.write("cut.png", png);
    try {
      read_image(cut);
      FAIL() << "expected an IOError";
    } catch (const IOError& e) {
      EXPECT_NE(std::string(e.what()).find(cut), std::string::npos) << e.what();
    }
  }
  if (built_with_jpeg()) {
    Bytes jpg = read_bytes(fixture("rgb_10x12.jpg"));
    jpg.resize(jpg.size() - 40);  // libjpeg would pad this with gray: an error here
    EXPECT_THROW(decode_image(jpg, ImageMode::Unchanged, "cut.jpg"), IOError);
  }
}

TEST(ImageGrid, TilesLikeTorchvisionMakeGrid) {
  // 5 images 1x2x3, nrow 2, padding 1: 3 rows of 2 -> [1, 3 * 3 + 1, 2 * 4 + 1].
  const Tensor imgs = arange(30).to(kFloat).reshape({5, 1, 2, 3});
  const Tensor grid = make_grid(imgs, GridOptions().nrow(2).padding(1).pad_value(-1));
  EXPECT_EQ(grid.sizes(), (Shape{1, 10, 9}));
  EXPECT_EQ(grid[0][0][0].item<float>(), -1.0f);
  EXPECT_EQ(grid[0][1][1].item<float>(), 0.0f);  // image 0, pixel (0, 0)
  EXPECT_EQ(grid[0][2][3].item<float>(), 5.0f);  // image 0, pixel (1, 2)
  EXPECT_EQ(grid[0][1][5].item<float>(), 6.0f);  // image 1, pixel (0, 0)
  EXPECT_EQ(grid[0][7][1].item<float>(), 24.0f); // image 4, pixel (0, 0)
  EXPECT_EQ(grid[0][7][5].item<float>(), -1.0f); // no image 5
  // normalize + scale_each: each image spans [0, 1]; upscale repeats pixels.
  const Tensor each = make_grid(imgs, GridOptions().nrow(5).padding(0).normalize(true).scale_each(true).upscale(2));
  EXPECT_EQ(each.sizes(), (Shape{1, 4, 30}));
  EXPECT_FLOAT_EQ(each[0][0][0].item<float>(), 0.0f);
  EXPECT_FLOAT_EQ(each[0][1][1].item<float>(), 0.0f);
  EXPECT_FLOAT_EQ(each[0][3][5].item<float>(), 1.0f);
  EXPECT_FLOAT_EQ(each[0][3][11].item<float>(), 1.0f);
  EXPECT_EQ(imgs[0][0][0][0].item<float>(), 0.0f);  // the input is untouched
  EXPECT_EQ(imgs[4][0][1][2].item<float>(), 29.0f);
  EXPECT_THROW(make_grid(zeros({2, 2})), ShapeError);
  EXPECT_THROW(make_grid(zeros({2, 1, 2, 2}), GridOptions().nrow(0)), ValueError);
}

TEST(ImageGrid, SavesFiltersAsPng) {
  REQUIRE_PNG();
  ScratchDir dir;
  // LeNet's first conv: weight [6, 1, 5, 5], values anywhere.
  const Tensor weight = randn({6, 1, 5, 5}).requires_grad_(true);
  const auto path = dir.file("filters.png");
  save_image_grid(path, weight, GridOptions().nrow(3).normalize(true).scale_each(true).upscale(4));
  const Tensor png = read_image(path);
  EXPECT_EQ(png.sizes(), (Shape{2 * 22 + 2, 3 * 22 + 2, 1}));
  // Feature maps of one input [C, H, W] as C gray tiles.
  save_image_grid(dir.file("maps.png"), rand({4, 7, 7}).unsqueeze(1));
  EXPECT_EQ(read_image(dir.file("maps.png")).sizes(), (Shape{11, 38, 1}));
}

TEST(ImageFolderDataset, ClassesFromSortedSubfolders) {
  if (!built_with_png() || !built_with_jpeg()) GTEST_SKIP() << "needs libpng and libjpeg";
  ScratchDir dir;
  std::filesystem::create_directories(dir.path() / "zebra" / "nested");
  std::filesystem::create_directories(dir.path() / "ant");
  std::filesystem::create_directories(dir.path() / ".hidden");
  write_png(dir.file("zebra/b.png"), pattern(4, 6, 3));
  write_png(dir.file("zebra/nested/a.PNG"), pattern(4, 6, 1));
  write_jpeg(dir.file("ant/x.jpg"), pattern(4, 6, 3));
  dir.write("ant/readme.txt", Bytes{'x'});
  write_png(dir.file(".hidden/c.png"), pattern(4, 6, 3));
  auto folder = std::make_shared<ImageFolder>(dir.path().string());
  EXPECT_EQ(folder->classes(), (std::vector<std::string>{"ant", "zebra"}));
  EXPECT_EQ(folder->class_to_index().at("zebra"), 1);
  ASSERT_EQ(folder->size(), 3);
  EXPECT_EQ(folder->samples()[1].first, dir.file("zebra/b.png"));
  EXPECT_EQ(folder->samples()[2].second, 1);
  Example gray_as_rgb = folder->get(2);
  EXPECT_EQ(gray_as_rgb.data.sizes(), (Shape{3, 4, 6}));
  EXPECT_EQ(gray_as_rgb.data.dtype(), kFloat);
  EXPECT_EQ(gray_as_rgb.target.item<int64_t>(), 1);
  EXPECT_FLOAT_EQ(gray_as_rgb.data[2][0][1].item<float>(), static_cast<float>(static_cast<uint8_t>(37 + 11)) / 255);
  // Batched through a loader after a resize.
  DataLoader loader(transformed(folder, Resize(8, 8)), DataLoaderOptions(3));
  EXPECT_EQ((*loader.begin()).data.sizes(), (Shape{3, 3, 8, 8}));

  // A corrupt image fails when read, naming the file.
  dir.write("ant/y.png", Bytes{0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0});
  ImageFolder with_bad(dir.path().string());
  try {
    with_bad.get(1);
    FAIL() << "expected an IOError";
  } catch (const IOError& e) {
    EXPECT_NE(std::string(e.what()).find("y.png"), std::string::npos) << e.what();
  }
  // Missing root, no classes, an empty class.
  EXPECT_THROW(ImageFolder(dir.file("nowhere")), IOError);
  std::filesystem::create_directories(dir.path() / "empty_root");
  EXPECT_THROW(ImageFolder(dir.file("empty_root")), IOError);
  std::filesystem::create_directories(dir.path() / "empty_root" / "cls");
  EXPECT_THROW(ImageFolder(dir.file("empty_root")), IOError);
}

}  // namespace
}  // namespace striate::data::test
