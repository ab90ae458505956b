#include "striate/io/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>

#include "striate/core/error.h"

namespace striate::io {

namespace {

constexpr size_t kBufferSize = size_t{1} << 20;

std::mutex hook_mutex;
test_hooks::AtomicWriteHook write_hook;

void run_hook(std::string_view stage, uint64_t bytes) {
  test_hooks::AtomicWriteHook hook;
  {
    std::lock_guard<std::mutex> lock(hook_mutex);
    hook = write_hook;
  }
  if (hook) hook(stage, bytes);
}

std::string errno_text(int err) { return std::strerror(err); }

std::string directory_of(const std::string& path) {
  const auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

// Makes a completed rename durable; some file systems refuse to fsync a
// directory, which costs durability on a power cut but not atomicity.
void sync_directory(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

}  // namespace

namespace test_hooks {
void set_atomic_write_hook(AtomicWriteHook hook) {
  std::lock_guard<std::mutex> lock(hook_mutex);
  write_hook = std::move(hook);
}
}  // namespace test_hooks

AtomicFileWriter::AtomicFileWriter(std::string path) : path_(std::move(path)) {
  STRIATE_CHECK(!path_.empty() && path_.back() != '/', IOError, "cannot write '", path_, "': not a file name");
  static std::atomic<uint64_t> counter{0};
  // The pid and a counter make the name unique across processes and
  // threads; O_EXCL guards against leftovers from a killed process.
  for (int attempt = 0; attempt < 100; ++attempt) {
    temp_path_ = detail::concat(path_, ".tmp.", ::getpid(), ".", counter.fetch_add(1));
    fd_ = ::open(temp_path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd_ >= 0 || errno != EEXIST) break;
  }
  if (fd_ < 0) {
    const int err = errno;
    throw IOError(detail::concat("cannot write '", path_, "': creating the temporary file '", temp_path_,
                                 "' failed: ", errno_text(err)));
  }
  buffer_.reserve(kBufferSize);
}

AtomicFileWriter::~AtomicFileWriter() {
  if (!committed_) discard();
}

void AtomicFileWriter::discard() noexcept {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
  if (!temp_path_.empty()) ::unlink(temp_path_.c_str());
  temp_path_.clear();
}

void AtomicFileWriter::write_fully(const char* data, size_t size) {
  STRIATE_CHECK(fd_ >= 0, IOError, "cannot write '", path_, "': the file was already committed or discarded");
  while (size > 0) {
    // Linux writes at most ~2 GiB per call; larger tensors take several.
    const size_t chunk = size < (size_t{1} << 30) ? size : (size_t{1} << 30);
    const ssize_t n = ::write(fd_, data, chunk);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      discard();
      throw IOError(detail::concat("cannot write '", path_, "': ", errno_text(err)));
    }
    data += n;
    size -= static_cast<size_t>(n);
    bytes_written_ += static_cast<uint64_t>(n);
    try {
      run_hook("write", bytes_written_);
    } catch (...) {
      discard();
      throw;
    }
  }
}

void AtomicFileWriter::flush_buffer() {
  if (buffer_.empty()) return;
  // Cleared first, so a failed write is not retried by a later flush.
  std::vector<char> pending;
  pending.swap(buffer_);
  buffer_.reserve(kBufferSize);
  write_fully(pending.data(), pending.size());
}

void AtomicFileWriter::write(const void* data, size_t size) {
  const char* bytes = static_cast<const char*>(data);
  if (buffer_.size() + size <= kBufferSize) {
    buffer_.insert(buffer_.end(), bytes, bytes + size);
    return;
  }
  flush_buffer();
  if (size >= kBufferSize) {
    write_fully(bytes, size);
  } else {
    buffer_.insert(buffer_.end(), bytes, bytes + size);
  }
}

void AtomicFileWriter::commit() {
  STRIATE_CHECK(fd_ >= 0 && !committed_, IOError, "cannot write '", path_,
                "': the file was already committed or discarded");
  flush_buffer();
  try {
    run_hook("sync", bytes_written_);
    if (::fsync(fd_) != 0) {
      const int err = errno;
      throw IOError(detail::concat("cannot write '", path_, "': fsync failed: ", errno_text(err)));
    }
    const int fd = fd_;
    fd_ = -1;
    // close() can report a delayed write error (NFS); the data is then not safe.
    if (::close(fd) != 0) {
      const int err = errno;
      throw IOError(detail::concat("cannot write '", path_, "': close failed: ", errno_text(err)));
    }
    run_hook("rename", bytes_written_);
    if (::rename(temp_path_.c_str(), path_.c_str()) != 0) {
      const int err = errno;
      throw IOError(detail::concat("cannot write '", path_, "': renaming '", temp_path_, "' over it failed: ",
                                   errno_text(err)));
    }
  } catch (...) {
    discard();
    throw;
  }
  committed_ = true;
  temp_path_.clear();
  sync_directory(directory_of(path_));
}

void write_file_atomically(const std::string& path, const std::function<void(AtomicFileWriter&)>& write) {
  AtomicFileWriter writer(path);
  write(writer);
  writer.commit();
}

}  // namespace striate::io
