// What `striate train` leaves in its run folder besides the checkpoint:
// metrics.csv, curves.png, filters.png, input.png and feature_maps.png.
#pragma once

#include <string>
#include <vector>

#include "striate/core/tensor.h"
#include "striate/layers/module.h"
#include "striate/train/trainer.h"

namespace striate::tools {

// The CSV's header and one row per epoch.
std::string metrics_csv_header();
std::string metrics_csv_row(const train::EpochResult& result);
// Rewrites `path` (atomically) with the header and a row per epoch of `history`.
void write_metrics_csv(const std::string& path, const std::vector<train::EpochResult>& history);
// Appends one row (the file must have been written by write_metrics_csv).
void append_metrics_csv(const std::string& path, const train::EpochResult& result);

// Loss and accuracy against the epoch, train and test, side by side.
void write_learning_curves(const std::string& path, const std::vector<train::EpochResult>& history);

// The first Conv2d's filters as a grid (filters.png). False when the model has no Conv2d.
bool write_filters(const std::string& path, nn::Module& model);
// `image` [C, H, W] (input.png) and the first Conv2d's output maps for it
// (feature_maps.png), computed in evaluation mode without gradients.
bool write_feature_maps(const std::string& input_path, const std::string& maps_path, nn::Module& model,
                        const Tensor& image);

}  // namespace striate::tools
