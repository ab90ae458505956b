// x_or_o: is this picture an X or an O? The classic first look at a CNN,
// small enough to follow every number.
//
// Images are 9×9 pixels of +1 (ink) and -1 (paper). Three 3×3 features are
// written by hand: the two diagonals "\" and "/" and a small cross "x". The
// network is
//
//   convolution with the features, divided by 9 (the pixels in a window), so
//   a perfect match scores 1 and a perfect mismatch -1        -> 3 maps 7×7
//   ReLU: keep matches, drop mismatches                       -> 3 maps 7×7
//   2×2 max pooling, stride 2 (the last row/column is pooled
//   on its own, ceil_mode): "is the feature somewhere here?"   -> 3 maps 4×4
//   a fully connected vote: each of the 48 pooled values
//   votes for X and for O with a weight                        -> 2 scores
//
// The program prints the feature maps and draws them to x_or_o.png (or the
// path given as the first argument). It votes first with weights read off
// the clean X and O, then learns the votes by backpropagation from the clean
// letters and their one-pixel shifts, and classifies variants it never saw:
// diagonal shifts and thicker strokes. It exits non-zero if any is wrong.
#include <striate/striate.h>
#include <striate/core/ops/conv.h>
#include <striate/data/image.h>

#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

using namespace striate;

namespace {

using Picture = std::vector<std::string>;  // '#' ink, '.' paper

const Picture kX = {
    ".........",
    ".#.....#.",
    "..#...#..",
    "...#.#...",
    "....#....",
    "...#.#...",
    "..#...#..",
    ".#.....#.",
    ".........",
};
const Picture kO = {
    ".........",
    "...###...",
    "..#...#..",
    ".#.....#.",
    ".#.....#.",
    ".#.....#.",
    "..#...#..",
    "...###...",
    ".........",
};

Picture shifted(const Picture& p, int down, int right) {
  Picture out(9, std::string(9, '.'));
  for (int y = 0; y < 9; ++y)
    for (int x = 0; x < 9; ++x) {
      const int sy = y - down, sx = x - right;
      if (sy >= 0 && sy < 9 && sx >= 0 && sx < 9) out[y][x] = p[sy][sx];
    }
  return out;
}

// Strokes two pixels wide: ink spreads one pixel to the right.
Picture thickened(const Picture& p) {
  Picture out = p;
  for (int y = 0; y < 9; ++y)
    for (int x = 1; x < 9; ++x)
      if (p[y][x - 1] == '#') out[y][x] = '#';
  return out;
}

Tensor to_tensor(const std::vector<Picture>& pictures) {
  std::vector<float> values;
  for (const Picture& p : pictures)
    for (const std::string& row : p)
      for (char c : row) values.push_back(c == '#' ? 1.f : -1.f);
  return from_vector(values, {static_cast<int64_t>(pictures.size()), 1, 9, 9});
}

Tensor features() {
  // "\", "/" and "x", as +1/-1 weights, stacked as conv2d's [out, in, 3, 3].
  return from_vector(std::vector<float>{
                         1, -1, -1, -1, 1, -1, -1, -1, 1,   //  "\"
                         -1, -1, 1, -1, 1, -1, 1, -1, -1,   //  "/"
                         1, -1, 1, -1, 1, -1, 1, -1, 1,     //  "x"
                     },
                     {3, 1, 3, 3});
}

struct Layers {
  Tensor maps;    // [N, 3, 7, 7]  convolution / 9
  Tensor active;  // [N, 3, 7, 7]  after ReLU
  Tensor pooled;  // [N, 3, 4, 4]  after 2×2 max pooling
};

Layers run_features(const Tensor& images) {
  Layers l;
  l.maps = conv2d(images, features()) / 9.0;
  l.active = relu(l.maps);
  l.pooled = max_pool2d(l.active, 2, 2, 0, 1, /*ceil_mode=*/true);
  return l;
}

void print_map(const std::string& title, const Tensor& map) {
  std::cout << title << "\n";
  const int64_t h = map.size(0), w = map.size(1);
  const std::vector<float> v = map.contiguous().to_vector<float>();
  for (int64_t y = 0; y < h; ++y) {
    for (int64_t x = 0; x < w; ++x) std::printf(" %5.2f", v[y * w + x]);
    std::printf("\n");
  }
}

// Maps: -1 blue, 0 white, +1 red. Pictures (gray): ink black, paper white.
// Each value is a cell of `scale` pixels.
void paint(std::vector<uint8_t>& rgb, int64_t width, const Tensor& map, int64_t left, int64_t top, int64_t scale,
           bool gray = false) {
  const int64_t h = map.size(0), w = map.size(1);
  const std::vector<float> v = map.contiguous().to_vector<float>();
  for (int64_t y = 0; y < h * scale; ++y)
    for (int64_t x = 0; x < w * scale; ++x) {
      const float t = std::max(-1.f, std::min(1.f, v[(y / scale) * w + x / scale]));
      const auto fade = static_cast<uint8_t>(255 * (1 - std::abs(t)));
      uint8_t* p = &rgb[((top + y) * width + left + x) * 3];
      if (gray) {
        p[0] = p[1] = p[2] = static_cast<uint8_t>(127.5f * (1 - t));
        continue;
      }
      p[0] = t < 0 ? fade : 255;
      p[1] = fade;
      p[2] = t > 0 ? fade : 255;
    }
}

// One row per image: the image, its three feature maps, the three after ReLU
// and the three pooled maps.
void draw(const std::string& path, const Tensor& images, const Layers& l) {
  const int64_t s = 12, gap = 8, rows = images.size(0);
  // Gaps: 1 before the image, 2 after it, 1 after each map and 1 more after each stage.
  const int64_t width = (9 + 6 * 7 + 3 * 4) * s + 15 * gap, height = rows * (9 * s + gap) + gap;
  std::vector<uint8_t> rgb(static_cast<size_t>(width * height * 3), 255);
  for (int64_t n = 0; n < rows; ++n) {
    const int64_t top = gap + n * (9 * s + gap);
    int64_t left = gap;
    paint(rgb, width, images[n][0], left, top, s, /*gray=*/true);
    left += 9 * s + 2 * gap;
    for (const Tensor* stage : {&l.maps, &l.active, &l.pooled}) {
      for (int64_t f = 0; f < 3; ++f) {
        paint(rgb, width, (*stage)[n][f], left, top, s);
        left += (*stage).size(3) * s + gap;
      }
      left += gap;
    }
  }
  data::write_png(path, from_vector(rgb, {height, width, 3}), data::ImageLayout::HWC);
}

}  // namespace

int main(int argc, char** argv) {
  const std::string png_path = argc > 1 ? argv[1] : "x_or_o.png";
  const char* feature_names[] = {"\\ diagonal", "/ diagonal", "x cross"};

  // ---- the features at work --------------------------------------------------
  const Tensor letters = to_tensor({kX, kO});
  const Layers l = run_features(letters);
  const char* letter_names[] = {"X", "O"};
  for (int64_t n = 0; n < 2; ++n) {
    std::cout << "==== " << letter_names[n] << " ====\n";
    for (int64_t f = 0; f < 3; ++f) {
      print_map(std::string(letter_names[n]) + " * " + feature_names[f] + " / 9:", l.maps[n][f]);
      print_map("after ReLU and 2x2 max pooling:", l.pooled[n][f]);
    }
  }
  draw(png_path, letters, l);
  std::cout << "feature maps drawn to " << png_path << " (rows X, O: image | 3 maps | ReLU | pooled)\n\n";

  // ---- voting with hand-made weights ----------------------------------------
  // Each class's votes are its own clean pooled maps: a picture scores high for
  // the class whose features show up where they show up in the clean letter.
  const Tensor votes = l.pooled.flatten(1);                   // [2, 48]
  const Tensor hand_votes = votes / votes.sum({1}, true);     // each row sums to 1
  const Tensor hand_scores = votes.matmul(hand_votes.t());
  std::cout << "hand-made votes (rows: X, O images; columns: X, O scores):\n" << hand_scores << "\n\n";

  // ---- learning the votes by backpropagation --------------------------------
  std::vector<Picture> train_pictures;
  std::vector<int64_t> train_labels;
  for (int label = 0; label < 2; ++label)
    for (auto [dy, dx] : std::vector<std::pair<int, int>>{{0, 0}, {1, 0}, {-1, 0}, {0, 1}, {0, -1}}) {
      train_pictures.push_back(shifted(label == 0 ? kX : kO, dy, dx));
      train_labels.push_back(label);
    }
  const Tensor train_x = run_features(to_tensor(train_pictures)).pooled.flatten(1);  // fixed features
  const Tensor train_y = from_vector(train_labels, {static_cast<int64_t>(train_labels.size())});

  manual_seed(0);
  nn::Linear vote(48, 2);
  optim::SGD optimizer(vote->parameters(), optim::SGDOptions(0.5));
  for (int step = 0; step <= 200; ++step) {
    optimizer.zero_grad();
    Tensor loss = cross_entropy(vote(train_x), train_y);
    loss.backward();
    optimizer.step();
    if (step % 50 == 0) std::printf("step %3d  loss %.4f\n", step, loss.item<float>());
  }

  struct Variant {
    const char* name;
    Picture picture;
    int64_t label;
  };
  const std::vector<Variant> variants = {
      {"X", kX, 0},
      {"O", kO, 1},
      {"X shifted down-right", shifted(kX, 1, 1), 0},
      {"O shifted up-left", shifted(kO, -1, -1), 1},
      {"X thickened", thickened(kX), 0},
      {"O thickened", thickened(kO), 1},
      {"X thickened, shifted up-left", shifted(thickened(kX), -1, -1), 0},
      {"O thickened, shifted down", shifted(thickened(kO), 1, 0), 1},
  };
  std::vector<Picture> test_pictures;
  for (const Variant& v : variants) test_pictures.push_back(v.picture);
  Tensor probabilities;
  {
    NoGradGuard no_grad;
    probabilities = softmax(vote(run_features(to_tensor(test_pictures)).pooled.flatten(1)), 1);
  }
  const std::vector<float> p = probabilities.to_vector<float>();
  int wrong = 0;
  std::cout << "\nlearned votes on pictures it never saw (except the first two):\n";
  for (size_t i = 0; i < variants.size(); ++i) {
    const int64_t guess = p[2 * i] >= p[2 * i + 1] ? 0 : 1;
    wrong += guess != variants[i].label;
    std::printf("  %-30s P(X) %.3f  P(O) %.3f  -> %s%s\n", variants[i].name, p[2 * i], p[2 * i + 1],
                letter_names[guess], guess == variants[i].label ? "" : "   WRONG");
  }
  if (wrong > 0) {
    std::printf("%d of %zu pictures misclassified\n", wrong, variants.size());
    return 1;
  }
  std::printf("all %zu pictures classified correctly\n", variants.size());
  return 0;
}
