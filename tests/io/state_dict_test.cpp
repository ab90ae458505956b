// Module weights through safetensors: Striate -> file -> Striate, and a
// state_dict that PyTorch wrote loading into the matching Striate model.
#include <gtest/gtest.h>

#include "io/io_test_util.h"
#include "striate/layers/layers.h"
#include "support/npy.h"

namespace striate::io {
namespace {

using test::expect_identical;
using test::read_bytes;
using test::ScratchDir;

// The model tests/reference/gen_safetensors.py builds in PyTorch.
nn::Sequential make_model() {
  return nn::Sequential(nn::Conv2d(2, 3, 3), nn::BatchNorm2d(3), nn::ReLU(), nn::Flatten(), nn::Linear(48, 4));
}

std::string reference_file() {
  return striate::testing::reference_path("safetensors/sequential/model.safetensors");
}

TEST(StateDictFile, RoundTripsAModel) {
  ScratchDir dir;
  manual_seed(1);
  nn::Sequential trained = make_model();
  {
    NoGradGuard no_grad;
    trained->forward(randn({4, 2, 6, 6}));  // moves the running statistics and the batch count
  }
  save_state_dict(*trained, dir.file("model.safetensors"), {{"epoch", "3"}});
  EXPECT_EQ(load_safetensors(dir.file("model.safetensors")).metadata,
            (Metadata{{"epoch", "3"}, {"format", "pt"}}));

  manual_seed(2);
  nn::Sequential fresh = make_model();
  load_state_dict_from_safetensors(*fresh, dir.file("model.safetensors"));
  const nn::StateDict expected = trained->state_dict();
  const nn::StateDict actual = fresh->state_dict();
  ASSERT_EQ(actual.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(actual[i].first, expected[i].first);
    expect_identical(actual[i].second, expected[i].second, expected[i].first);
  }
  EXPECT_EQ(fresh->at<nn::BatchNorm2dImpl>(1).num_batches_tracked.item<int64_t>(), 1);
}

TEST(StateDictFile, LoadsWhatPyTorchSaved) {
  nn::Sequential model = make_model();
  load_state_dict_from_safetensors(*model, reference_file());
  const std::string folder = "safetensors/sequential/";
  for (const auto& [name, tensor] : model->state_dict()) {
    SCOPED_TRACE(name);
    expect_identical(tensor, striate::testing::load_npy(striate::testing::reference_path(folder + name + ".npy")));
  }
  EXPECT_EQ(model->at<nn::BatchNorm2dImpl>(1).num_batches_tracked.item<int64_t>(), 3);
  // The loaded model computes what PyTorch's did.
  model->eval();
  const Tensor input = striate::testing::load_npy(striate::testing::reference_path(folder + "input.npy"));
  const Tensor expected = striate::testing::load_npy(striate::testing::reference_path(folder + "output.npy"));
  NoGradGuard no_grad;
  const Tensor output = model->forward(input);
  ASSERT_EQ(output.sizes(), expected.sizes());
  const std::vector<float> got = output.to_vector<float>();
  const std::vector<float> want = expected.to_vector<float>();
  for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-5f) << "element " << i;
}

TEST(StateDictFile, RewritesPyTorchsFileByteForByte) {
  // Same tensors, same order, same metadata: our writer produces the bytes
  // the (hand-written) PyTorch exporter did, header padding included.
  const std::string original = read_bytes(reference_file());
  const SafetensorsContents contents = load_safetensors(reference_file());
  EXPECT_EQ(serialize_safetensors(contents.tensors, contents.metadata), original);
}

TEST(StateDictFile, MismatchedModelIsAValueErrorNamingTheFileAndKeys) {
  nn::Sequential wider(nn::Conv2d(2, 3, 3), nn::BatchNorm2d(3), nn::ReLU(), nn::Flatten(), nn::Linear(48, 5));
  const Tensor before = wider->state_dict()[0].second.clone();
  try {
    load_state_dict_from_safetensors(*wider, reference_file());
    ADD_FAILURE() << "loaded into a model of another shape";
  } catch (const ValueError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("4.weight"), std::string::npos) << msg;
    EXPECT_NE(msg.find("model.safetensors"), std::string::npos) << msg;
  }
  expect_identical(wider->state_dict()[0].second, before);  // nothing loaded

  // Missing keys: an error when strict, skipped when not.
  nn::Sequential extra(nn::Conv2d(2, 3, 3), nn::BatchNorm2d(3), nn::ReLU(), nn::Flatten(), nn::Linear(48, 4),
                       nn::Linear(4, 2));
  EXPECT_THROW(load_state_dict_from_safetensors(*extra, reference_file()), ValueError);
  load_state_dict_from_safetensors(*extra, reference_file(), /*strict=*/false);
  expect_identical(extra->state_dict()[0].second,
                   striate::testing::load_npy(striate::testing::reference_path("safetensors/sequential/0.weight.npy")));
}

TEST(StateDictFile, ConvertsDTypesLikeCopy) {
  ScratchDir dir;
  nn::Sequential source = make_model();
  nn::StateDict halves;
  for (const auto& [name, t] : source->state_dict())
    halves.emplace_back(name, t.is_floating_point() ? t.to(kBFloat16) : t);
  save_safetensors(dir.file("bf16.safetensors"), halves);
  nn::Sequential target = make_model();
  load_state_dict_from_safetensors(*target, dir.file("bf16.safetensors"));
  const Tensor w = target->state_dict()[0].second;
  EXPECT_EQ(w.dtype(), kFloat);  // the model keeps its dtype
  expect_identical(w, halves[0].second.to(kFloat));
}

TEST(StateDictFile, DamagedFileIsAnIOError) {
  ScratchDir dir;
  std::string bytes = read_bytes(reference_file());
  bytes.resize(bytes.size() - 1);
  test::write_bytes(dir.file("cut.safetensors"), bytes);
  nn::Sequential model = make_model();
  EXPECT_THROW(load_state_dict_from_safetensors(*model, dir.file("cut.safetensors")), IOError);
}

}  // namespace
}  // namespace striate::io
