#include "striate/data/image_folder.h"

#include <algorithm>
#include <cctype>
#include <filesystem>

#include "striate/core/error.h"
#include "striate/core/ops/factory.h"
#include "striate/data/transforms.h"

namespace striate::data {
namespace {

namespace fs = std::filesystem;

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

bool is_hidden(const fs::path& p) { return !p.filename().empty() && p.filename().string()[0] == '.'; }

}  // namespace

ImageFolder::ImageFolder(const std::string& root, ImageMode mode, std::vector<std::string> extensions) : mode_(mode) {
  for (auto& e : extensions) e = lower(e);
  std::error_code ec;
  STRIATE_CHECK(fs::is_directory(root, ec), IOError, "ImageFolder: ", root,
                " is not a folder (expected root/<class name>/<image files>)");
  for (const auto& entry : fs::directory_iterator(root, ec)) {
    std::error_code type_ec;
    if (entry.is_directory(type_ec) && !is_hidden(entry.path())) classes_.push_back(entry.path().filename().string());
  }
  STRIATE_CHECK(!ec, IOError, "ImageFolder: cannot list ", root, ": ", ec.message());
  std::sort(classes_.begin(), classes_.end());
  STRIATE_CHECK(!classes_.empty(), IOError, "ImageFolder: ", root,
                " has no class sub-folders (expected root/<class name>/<image files>)");
  for (size_t k = 0; k < classes_.size(); ++k) {
    class_to_index_[classes_[k]] = static_cast<int64_t>(k);
    const fs::path folder = fs::path(root) / classes_[k];
    std::vector<std::string> files;
    fs::recursive_directory_iterator it(folder, fs::directory_options::follow_directory_symlink, ec), end;
    for (; !ec && it != end; it.increment(ec)) {
      if (is_hidden(it->path())) {
        if (it->is_directory(ec)) it.disable_recursion_pending();
        continue;
      }
      std::error_code type_ec;
      if (!it->is_regular_file(type_ec)) continue;
      const std::string ext = lower(it->path().extension().string());
      if (std::find(extensions.begin(), extensions.end(), ext) != extensions.end())
        files.push_back(it->path().string());
    }
    STRIATE_CHECK(!ec, IOError, "ImageFolder: cannot list ", folder.string(), ": ", ec.message());
    STRIATE_CHECK(!files.empty(), IOError, "ImageFolder: class folder ", folder.string(),
                  " has no image files (looked for extensions ", extensions, ")");
    std::sort(files.begin(), files.end());
    for (auto& f : files) samples_.emplace_back(std::move(f), static_cast<int64_t>(k));
  }
}

Example ImageFolder::fetch(int64_t index, const SampleContext&) const {
  const auto& [path, label] = samples_[static_cast<size_t>(index)];
  Tensor target = empty(Shape{}, TensorOptions(kLong));
  *target.data_ptr<int64_t>() = label;
  return Example{image_to_tensor(read_image(path, mode_)), target};
}

}  // namespace striate::data
