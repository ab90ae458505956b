// Writing a file so that readers only ever see the old contents or the
// complete new ones, never a torn mix, even if the process dies midway.
//
// The bytes go to a temporary file in the target's directory (a rename is
// atomic only within one file system), which is flushed, fsync'ed and then
// renamed over the target; the directory is fsync'ed too so that the rename
// itself survives a power cut. On any failure the temporary file is removed
// and the previous file is left as it was. A process killed outright can
// leave a `<target>.tmp.<pid>.<n>` file behind, but never a damaged target.
//
// The new file gets default permissions (0666 less the umask), not those of
// the file it replaces; a symbolic link at the target is replaced, not followed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace striate::io {

class AtomicFileWriter {
 public:
  // Creates the temporary file; IOError when the directory is not writable.
  explicit AtomicFileWriter(std::string path);
  // Without commit(): closes and removes the temporary file.
  ~AtomicFileWriter();
  AtomicFileWriter(const AtomicFileWriter&) = delete;
  AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;

  void write(const void* data, size_t size);  // buffered
  void write(std::string_view bytes) { write(bytes.data(), bytes.size()); }
  // Flushes, syncs and renames over the target. After a failure (IOError)
  // the temporary file is gone and the target untouched.
  void commit();

  const std::string& path() const { return path_; }
  const std::string& temp_path() const { return temp_path_; }
  uint64_t bytes_written() const { return bytes_written_; }

 private:
  void flush_buffer();
  void write_fully(const char* data, size_t size);
  void discard() noexcept;

  std::string path_;
  std::string temp_path_;
  int fd_ = -1;
  bool committed_ = false;
  uint64_t bytes_written_ = 0;  // handed to the OS so far
  std::vector<char> buffer_;
};

// Runs `write` on a fresh AtomicFileWriter for `path` and commits it; if
// `write` throws, the target is untouched and the exception propagates.
void write_file_atomically(const std::string& path, const std::function<void(AtomicFileWriter&)>& write);

namespace test_hooks {
// Called at each step of every atomic write: stage "write" after each chunk
// reaches the OS (with the bytes written so far), then "sync" and "rename"
// (with the total). A hook that throws makes that step fail, as a full disk
// or an I/O error would, so tests can check that nothing is lost.
using AtomicWriteHook = std::function<void(std::string_view stage, uint64_t bytes_written)>;
void set_atomic_write_hook(AtomicWriteHook hook);  // an empty hook removes it
}  // namespace test_hooks

}  // namespace striate::io
