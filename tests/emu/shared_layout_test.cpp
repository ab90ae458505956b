// The shared-memory layouts of implicit_gemm.cuh's tiles, checked against
// the GPU's bank model: 32 banks of 4 bytes; a warp's access is served in
// wavefronts of 128 bytes (32 threads of 4-byte accesses, 16 of 8-byte, 8
// of 16-byte), and two different words of one bank in a wavefront conflict.
// Conflicts do not change results, so the numeric tests cannot see them;
// this test does, for every warp's staging stores and fragment reads.
#define STRIATE_CUDA_EMULATION 1
#include "cuda_emu.h"
// (the prelude first, as the force-include puts it in a kernel file)

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "kernels/cuda/implicit_gemm.cuh"

namespace {

using namespace striate::kernels::cuda;

// How many ways one warp's access conflicts (1: none): `bytes` holds each
// lane's byte offset into shared memory, every access `width` bytes wide.
int conflict_ways(const std::vector<int64_t>& bytes, int width) {
  const size_t per_wavefront = 128 / width;
  int worst = 1;
  for (size_t first = 0; first < bytes.size(); first += per_wavefront) {
    std::map<int64_t, std::set<int64_t>> words_of_bank;
    for (size_t lane = first; lane < std::min(bytes.size(), first + per_wavefront); ++lane)
      for (int w = 0; w < width / 4; ++w) {
        const int64_t word = bytes[lane] / 4 + w;
        words_of_bank[word % 32].insert(word);
      }
    for (const auto& [bank, words] : words_of_bank) worst = std::max(worst, static_cast<int>(words.size()));
  }
  return worst;
}

// Each thread's staging stores of one operand's slice (ROWS rows, staged
// fast-k or not), warp by warp: conflict-free, and Math::column a
// permutation of the rows within every k lane, so no two stores collide.
template <typename Shape, int ROWS, bool kFastK>
void expect_conflict_free_staging(const std::string& what) {
  using T = typename Shape::T;
  using Math = typename Shape::Math;
  using S = Stager<ROWS, Shape::BK, Shape::kThreads, kFastK>;
  constexpr int ld = ROWS + Math::kPad;
  for (int k = 0; k < Shape::BK; ++k) {
    std::set<int> columns;
    for (int row = 0; row < ROWS; ++row) columns.insert(Math::column(k, row));
    EXPECT_EQ(columns.size(), static_cast<size_t>(ROWS)) << what << ": k lane " << k;
    EXPECT_TRUE(*columns.begin() == 0 && *columns.rbegin() == ROWS - 1) << what << ": k lane " << k;
  }
  for (int warp = 0; warp < Shape::kThreads / 32; ++warp)
    for (int i = 0; i < S::kPerThread; ++i) {
      std::vector<int64_t> bytes;
      for (int lane = 0; lane < 32; ++lane) {
        const int tid = warp * 32 + lane, k = S::k_lane(tid, i);
        bytes.push_back((int64_t{k} * ld + Math::column(k, S::row(tid, i))) * int64_t{sizeof(T)});
      }
      EXPECT_EQ(conflict_ways(bytes, sizeof(T)), 1) << what << ": warp " << warp << ", element " << i;
    }
}

template <typename Shape>
void expect_conflict_free_staging_of_both_operands(const std::string& name) {
  expect_conflict_free_staging<Shape, Shape::BM, true>(name + " A, fast k");
  expect_conflict_free_staging<Shape, Shape::BM, false>(name + " A, fast rows");
  expect_conflict_free_staging<Shape, Shape::BN, true>(name + " B, fast k");
  expect_conflict_free_staging<Shape, Shape::BN, false>(name + " B, fast rows");
}

TEST(SharedLayout, StagingStoresAreConflictFreeInEveryTile) {
  expect_conflict_free_staging_of_both_operands<FloatTile>("FloatTile");
  expect_conflict_free_staging_of_both_operands<FloatTileShortM>("FloatTileShortM");
  expect_conflict_free_staging_of_both_operands<FloatTileShortN>("FloatTileShortN");
  expect_conflict_free_staging_of_both_operands<DoubleTile>("DoubleTile");
  expect_conflict_free_staging_of_both_operands<Tf32Tile>("Tf32Tile");
  expect_conflict_free_staging_of_both_operands<Tf32TileShortM>("Tf32TileShortM");
  expect_conflict_free_staging_of_both_operands<Tf32TileShortN>("Tf32TileShortN");
}

// ThreadTileMath::multiply reads, per k lane, two runs of MICRO/2 elements
// (one 8- or 16-byte read each) of each operand, at fragment_index's offsets.
template <typename Shape, int ROWS, int MICRO, bool kAlongN>
void expect_conflict_free_micro_tile_reads(const std::string& what) {
  using T = typename Shape::T;
  using Math = typename Shape::Math;
  constexpr int kThreadsN = Shape::BN / Math::kMicroN, kWidth = (MICRO / 2) * sizeof(T);
  for (int warp = 0; warp < Shape::kThreads / 32; ++warp)
    for (int k = 0; k < Shape::BK; ++k)
      for (int run = 0; run < 2; ++run) {
        std::vector<int64_t> bytes;
        for (int lane = 0; lane < 32; ++lane) {
          const int tid = warp * 32 + lane, thread = kAlongN ? tid % kThreadsN : tid / kThreadsN;
          const int index = fragment_index<ROWS, MICRO>(thread, run * (MICRO / 2));
          bytes.push_back((int64_t{k} * (ROWS + Math::kPad) + index) * int64_t{sizeof(T)});
          EXPECT_EQ(bytes.back() % kWidth, 0) << what << ": a fragment read is not aligned to its width";
        }
        EXPECT_EQ(conflict_ways(bytes, kWidth), 1) << what << ": warp " << warp << ", k " << k;
      }
}

template <typename Shape>
void expect_conflict_free_micro_tile_reads_of_both_operands(const std::string& name) {
  using Math = typename Shape::Math;
  expect_conflict_free_micro_tile_reads<Shape, Shape::BM, Math::kMicroM, false>(name + " A");
  expect_conflict_free_micro_tile_reads<Shape, Shape::BN, Math::kMicroN, true>(name + " B");
}

TEST(SharedLayout, MicroTileReadsAreConflictFree) {
  expect_conflict_free_micro_tile_reads_of_both_operands<FloatTile>("FloatTile");
  expect_conflict_free_micro_tile_reads_of_both_operands<FloatTileShortM>("FloatTileShortM");
  expect_conflict_free_micro_tile_reads_of_both_operands<FloatTileShortN>("FloatTileShortN");
  expect_conflict_free_micro_tile_reads_of_both_operands<DoubleTile>("DoubleTile");
}

// WarpMmaTf32Math::multiply reads, per 8 k, each lane's fragment elements
// (mma.cuh's layout) from the swizzled slices.
template <typename Shape>
void expect_conflict_free_tf32_fragment_reads(const std::string& name) {
  using Math = typename Shape::Math;
  constexpr int lda = Shape::BM + Math::kPad, ldb = Shape::BN + Math::kPad;
  for (int warp = 0; warp < Shape::kThreads / 32; ++warp)
    for (int kk = 0; kk < Shape::BK; kk += 8) {
      for (int i = 0; i < Math::MI; ++i)
        for (int r = 0; r < 4; ++r) {  // a[r] = A[g + 8 (r & 1)][t + 4 (r >= 2)]
          std::vector<int64_t> bytes;
          for (int lane = 0; lane < 32; ++lane) {
            const auto l = Math::lane_of(warp * 32 + lane);
            const int k = kk + l.t + (r >= 2 ? 4 : 0), row = l.wm + i * 16 + l.g + (r & 1 ? 8 : 0);
            bytes.push_back((int64_t{k} * lda + Math::column(k, row)) * 4);
          }
          EXPECT_EQ(conflict_ways(bytes, 4), 1)
              << name << " A fragment: warp " << warp << ", k " << kk << ", i " << i << ", r " << r;
        }
      for (int j = 0; j < Math::NI; ++j)
        for (int r = 0; r < 2; ++r) {  // b[r] = B[t + 4 r][g]
          std::vector<int64_t> bytes;
          for (int lane = 0; lane < 32; ++lane) {
            const auto l = Math::lane_of(warp * 32 + lane);
            const int k = kk + l.t + 4 * r, column = l.wn + j * 8 + l.g;
            bytes.push_back((int64_t{k} * ldb + Math::column(k, column)) * 4);
          }
          EXPECT_EQ(conflict_ways(bytes, 4), 1)
              << name << " B fragment: warp " << warp << ", k " << kk << ", j " << j << ", r " << r;
        }
    }
}

TEST(SharedLayout, Tf32FragmentReadsAreConflictFree) {
  expect_conflict_free_tf32_fragment_reads<Tf32Tile>("Tf32Tile");
  expect_conflict_free_tf32_fragment_reads<Tf32TileShortM>("Tf32TileShortM");
  expect_conflict_free_tf32_fragment_reads<Tf32TileShortN>("Tf32TileShortN");
}

// The model itself: a 2-way conflict, a broadcast, and 16-byte wavefronts.
TEST(SharedLayout, TheBankModelCountsConflictsAndBroadcasts) {
  std::vector<int64_t> stride_two, same_word, quads;
  for (int lane = 0; lane < 32; ++lane) {
    stride_two.push_back(lane * 8);  // words 0, 2, ..., 62: banks 0, 2, ... twice
    same_word.push_back(64);
    quads.push_back(lane * 16);      // 8 lanes of 16 bytes fill one wavefront
  }
  EXPECT_EQ(conflict_ways(stride_two, 4), 2);
  EXPECT_EQ(conflict_ways(same_word, 4), 1);
  EXPECT_EQ(conflict_ways(quads, 16), 1);
  quads[1] = 512;  // lane 1 now shares lane 0's banks in another row
  EXPECT_EQ(conflict_ways(quads, 16), 2);
}

}  // namespace
