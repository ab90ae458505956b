// The datasets the `striate` command knows by name, with their usual
// normalisation and (with --augment) augmentation.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "striate/data/dataset.h"

namespace striate::tools {

struct DatasetInfo {
  std::string name;
  std::string description;
};
const std::vector<DatasetInfo>& dataset_catalog();
std::string dataset_names_joined(const std::string& separator = ", ");
bool is_known_dataset(const std::string& name);

struct DatasetSplits {
  data::DatasetPtr train;  // null when not requested
  data::DatasetPtr test;
  int64_t channels = 0;
  int64_t image_size = 0;  // square images
  int64_t num_classes = 0;
  std::vector<std::string> classes;
  std::string root;  // where the files were read from ("" for fake)
};

struct DatasetRequest {
  std::string name;
  std::string root;      // "" for the dataset's default place
  bool train = true;     // load the training split
  bool augment = false;  // random crop + horizontal flip on the training split
  int64_t limit = 0;     // > 0: only the first `limit` examples of each split
};

// IOError (naming the files and how to get them) when the data is missing.
DatasetSplits load_dataset(const DatasetRequest& request);

}  // namespace striate::tools
