// Reading and writing image files (PNG via libpng, JPEG via libjpeg-turbo),
// and image grids for looking at filters and feature maps.
//
// Decoded images are u8 [H, W, C] (height, width, channels), C = 1 (gray),
// 2 (gray + alpha), 3 (RGB) or 4 (RGBA); image_to_tensor (transforms.h) turns
// one into f32 [C, H, W] in [0, 1]. Note that torchvision.io.read_image gives
// CHW instead. Pixel values are the file's own: no gamma or colour-profile
// conversion (as PIL). A file that cannot be read or decoded is an IOError
// naming it; a build without libpng or libjpeg throws NotImplementedError.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "striate/core/tensor.h"

namespace striate::data {

// The channels to convert to, as torchvision.io.ImageReadMode. Gray from
// colour uses PIL's convert("L") (0.299 R + 0.587 G + 0.114 B, rounded); dropping alpha
// discards it (no compositing), as PIL's convert("RGB").
enum class ImageMode { Unchanged, Gray, RGB, RGBA };

bool built_with_zlib();
bool built_with_png();
bool built_with_jpeg();

// PNG or JPEG, told apart by the first bytes.
Tensor read_image(const std::string& path, ImageMode mode = ImageMode::Unchanged);
Tensor decode_image(const std::vector<uint8_t>& bytes, ImageMode mode = ImageMode::Unchanged,
                    const std::string& name = "<memory>");
// Decoders refuse images with more pixels than this (a corrupt header must
// not make us allocate gigabytes).
inline constexpr int64_t kMaxImagePixels = int64_t{1} << 26;  // 8192 x 8192

// How the dims of an image tensor are laid out. Auto: 2-D is [H, W]; a 3-D
// tensor is HWC when its last dim is 1..4, else CHW when its first is 1..4.
enum class ImageLayout { Auto, HWC, CHW };

// u8 images are written as they are; floating ones are clamped to [0, 1] and
// scaled by 255, rounding half up (torchvision.utils.save_image).
void write_png(const std::string& path, const Tensor& image, ImageLayout layout = ImageLayout::Auto);
std::vector<uint8_t> encode_png(const Tensor& image, ImageLayout layout = ImageLayout::Auto);
// JPEG has no alpha: 1 or 3 channels. quality in 1..100.
void write_jpeg(const std::string& path, const Tensor& image, int quality = 90,
                ImageLayout layout = ImageLayout::Auto);
std::vector<uint8_t> encode_jpeg(const Tensor& image, int quality = 90, ImageLayout layout = ImageLayout::Auto);

struct GridOptions {
  GridOptions& nrow(int64_t v) { nrow_ = v; return *this; }          // images per row
  GridOptions& padding(int64_t v) { padding_ = v; return *this; }    // pixels between and around
  GridOptions& pad_value(double v) { pad_value_ = v; return *this; }
  // Min-max scale to [0, 1]: over all images, or each on its own (scale_each).
  GridOptions& normalize(bool v) { normalize_ = v; return *this; }
  GridOptions& scale_each(bool v) { scale_each_ = v; return *this; }
  // Each pixel becomes upscale x upscale (nearest), e.g. to see 5x5 filters.
  GridOptions& upscale(int64_t v) { upscale_ = v; return *this; }

  int64_t nrow_ = 8;
  int64_t padding_ = 2;
  double pad_value_ = 0;
  bool normalize_ = false;
  bool scale_each_ = false;
  int64_t upscale_ = 1;
};

// Tiles images [N, C, H, W] (or [N, H, W]) into f32 [C, rows*(H*u+p)+p,
// nrow*(W*u+p)+p], as torchvision.utils.make_grid (which also repeats one
// channel to three; this does not, so gray stays gray). Filters of a first
// conv layer are weight [out, in, kh, kw]; one input's feature maps are
// [C, H, W], i.e. unsqueeze(1) to [C, 1, H, W].
Tensor make_grid(const Tensor& images, const GridOptions& options = {});
void save_image_grid(const std::string& path, const Tensor& images, const GridOptions& options = {});

}  // namespace striate::data
