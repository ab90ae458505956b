// Atomic writes: a failure at any step leaves the previous file intact and
// no temporary file behind.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include "io/io_test_util.h"

namespace striate::io {
namespace {

using test::read_bytes;
using test::ScopedWriteHook;
using test::ScratchDir;
using test::write_bytes;

TEST(AtomicFile, WritesAndReplaces) {
  ScratchDir dir;
  const std::string path = dir.file("out.bin");
  write_file_atomically(path, [](AtomicFileWriter& w) { w.write("first"); });
  EXPECT_EQ(read_bytes(path), "first");
  write_file_atomically(path, [](AtomicFileWriter& w) {
    w.write("sec");
    w.write("ond");
  });
  EXPECT_EQ(read_bytes(path), "second");
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"out.bin"});
}

TEST(AtomicFile, LargeWritesBypassTheBufferInOrder) {
  ScratchDir dir;
  const std::string path = dir.file("big.bin");
  std::string expected;
  write_file_atomically(path, [&](AtomicFileWriter& w) {
    for (int i = 0; i < 5; ++i) {
      // Alternating small and larger-than-buffer pieces.
      const std::string piece(i % 2 ? (3u << 20) / 2 + i : 1000 + i, static_cast<char>('a' + i));
      w.write(piece);
      expected += piece;
    }
  });
  EXPECT_EQ(read_bytes(path), expected);
}

TEST(AtomicFile, UncommittedWriterLeavesNothing) {
  ScratchDir dir;
  write_bytes(dir.file("keep.bin"), "old");
  {
    AtomicFileWriter w(dir.file("keep.bin"));
    w.write(std::string(3 << 20, 'x'));  // reaches the disk, then is abandoned
    EXPECT_EQ(dir.entries().size(), 2u);
  }
  EXPECT_EQ(read_bytes(dir.file("keep.bin")), "old");
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"keep.bin"});
}

TEST(AtomicFile, ExceptionInTheWriterKeepsThePreviousFile) {
  ScratchDir dir;
  const std::string path = dir.file("model.bin");
  write_bytes(path, "previous");
  EXPECT_THROW(write_file_atomically(path,
                                     [](AtomicFileWriter& w) {
                                       w.write("partial");
                                       throw ValueError("the caller failed");
                                     }),
               ValueError);
  EXPECT_EQ(read_bytes(path), "previous");
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"model.bin"});
}

// An I/O failure injected at each step: mid-data, before fsync, before rename.
TEST(AtomicFile, InjectedFailureAtEveryStageKeepsThePreviousFile) {
  ScratchDir dir;
  const std::string path = dir.file("ckpt.bin");
  write_bytes(path, "previous");
  const std::string payload(5 << 20, 'n');
  for (const std::string failing_stage : {"write", "sync", "rename"}) {
    SCOPED_TRACE(failing_stage);
    std::vector<std::string> stages;
    {
      ScopedWriteHook hook([&](std::string_view stage, uint64_t bytes) {
        stages.emplace_back(stage);
        // The first "write" fails only once some data is on disk.
        if (stage == failing_stage && (stage != "write" || bytes > (2u << 20))) throw IOError("injected: disk full");
      });
      EXPECT_THROW(write_file_atomically(path, [&](AtomicFileWriter& w) { w.write(payload); }), IOError);
    }
    EXPECT_EQ(stages.back(), failing_stage);
    EXPECT_EQ(read_bytes(path), "previous");
    EXPECT_EQ(dir.entries(), std::vector<std::string>{"ckpt.bin"});
  }
  // With the hook gone, the same write goes through.
  write_file_atomically(path, [&](AtomicFileWriter& w) { w.write(payload); });
  EXPECT_EQ(read_bytes(path), payload);
}

TEST(AtomicFile, UnwritableTargetsAreIOErrors) {
  ScratchDir dir;
  EXPECT_THROW(write_file_atomically(dir.file("no/such/dir/file.bin"), [](AtomicFileWriter&) {}), IOError);
  EXPECT_THROW(write_file_atomically("", [](AtomicFileWriter&) {}), IOError);
  // A directory in the way: the rename fails and the temporary file goes.
  std::filesystem::create_directory(dir.file("taken"));
  EXPECT_THROW(write_file_atomically(dir.file("taken"), [](AtomicFileWriter& w) { w.write("x"); }), IOError);
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"taken"});
}

TEST(AtomicFile, CommitTwiceIsAnError) {
  ScratchDir dir;
  AtomicFileWriter w(dir.file("once.bin"));
  w.write("x");
  w.commit();
  EXPECT_THROW(w.commit(), IOError);
  EXPECT_THROW(w.write(std::string(2 << 20, 'y')), IOError);
  EXPECT_EQ(read_bytes(dir.file("once.bin")), "x");
}

// safetensors goes through the same path: a failing save keeps the old weights.
TEST(AtomicFile, FailingSafetensorsSaveKeepsThePreviousFile) {
  ScratchDir dir;
  const std::string path = dir.file("weights.safetensors");
  save_safetensors(path, {{"w", full({4}, 1.0)}});
  const std::string before = read_bytes(path);
  {
    ScopedWriteHook hook([](std::string_view stage, uint64_t) {
      if (stage == "sync") throw IOError("injected: fsync failed");
    });
    EXPECT_THROW(save_safetensors(path, {{"w", full({4}, 2.0)}, {"b", zeros({2})}}), IOError);
  }
  EXPECT_EQ(read_bytes(path), before);
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"weights.safetensors"});
  EXPECT_EQ(load_safetensors(path).tensors[0].second.to_vector<float>(), std::vector<float>(4, 1.f));
}

}  // namespace
}  // namespace striate::io
