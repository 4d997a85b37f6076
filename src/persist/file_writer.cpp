#include "setd/persist/file_writer.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "setd/persist/crc64.hpp"

namespace setd::persist {

bool write_all(int fd, const char* data, size_t len) {
  while (len > 0) {
    const ssize_t n = ::write(fd, data, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data += n;
    len -= static_cast<size_t>(n);
  }
  return true;
}

bool fsync_parent_dir(const std::string& path) {
  const size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : path.substr(0, slash ? slash : 1);
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool ok = ::fsync(fd) == 0 || errno == EINVAL;  // some filesystems refuse: fine
  ::close(fd);
  return ok;
}

FileWriter::FileWriter(std::string temp_path, std::string final_path, bool checksum, Tail tail,
                       bool incremental_fsync)
    : temp_path_(std::move(temp_path)),
      final_path_(std::move(final_path)),
      checksum_(checksum),
      tail_(tail),
      incremental_fsync_(incremental_fsync) {
  fd_ = ::open(temp_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) {
    error_ = std::strerror(errno);
    state_.store(State::kFailed, std::memory_order_release);
    return;
  }
  thread_ = std::thread([this] { run(); });
}

FileWriter::~FileWriter() {
  {
    std::lock_guard lock(mu_);
    cancel_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (fd_ >= 0) {
    ::close(fd_);
    ::unlink(temp_path_.c_str());
  }
}

void FileWriter::write(std::string&& chunk) {
  if (chunk.empty()) return;
  {
    std::lock_guard lock(mu_);
    if (state_.load() != State::kRunning) return;  // failed: nothing more is kept
    backlog_.fetch_add(chunk.size(), std::memory_order_relaxed);
    queue_.push_back(std::move(chunk));
  }
  cv_.notify_one();
}

void FileWriter::finish() {
  {
    std::lock_guard lock(mu_);
    finishing_ = true;
  }
  cv_.notify_one();
}

std::string FileWriter::error() const {
  std::lock_guard lock(mu_);
  return error_;
}

FileWriter::State FileWriter::wait() {
  std::unique_lock lock(mu_);
  done_cv_.wait(lock, [&] { return state_.load() != State::kRunning; });
  return state_.load();
}

void FileWriter::fail(const std::string& what) {
  std::lock_guard lock(mu_);
  error_ = what;
  state_.store(State::kFailed, std::memory_order_release);
  done_cv_.notify_all();
}

void FileWriter::run() {
  constexpr uint64_t kIncrementalFsyncBytes = 4 * 1024 * 1024;
  uint64_t crc = 0;
  uint64_t unsynced = 0;
  for (;;) {
    std::string chunk;
    bool finishing = false;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return cancel_ || finishing_ || !queue_.empty(); });
      if (cancel_) return;
      if (!queue_.empty()) {
        chunk = std::move(queue_.front());
        queue_.pop_front();
      } else {
        finishing = true;
      }
    }
    if (!finishing) {
      if (checksum_) crc = crc64(crc, chunk);
      const bool ok = write_all(fd_, chunk.data(), chunk.size());
      backlog_.fetch_sub(chunk.size(), std::memory_order_relaxed);
      if (!ok) {
        fail(std::string("Write error saving DB on disk: ") + std::strerror(errno));
        break;
      }
      written_.fetch_add(chunk.size(), std::memory_order_relaxed);
      unsynced += chunk.size();
      if (incremental_fsync_ && unsynced >= kIncrementalFsyncBytes) {
        ::fdatasync(fd_);
        unsynced = 0;
      }
      continue;
    }
    // Everything is written: the checksum, then make it durable and visible.
    if (tail_ == Tail::kChecksum) {
      char tail[8];
      for (int i = 0; i < 8; ++i) tail[i] = static_cast<char>((crc >> (8 * i)) & 0xFF);
      if (!write_all(fd_, tail, sizeof(tail))) {
        fail(std::string("Write error saving DB on disk: ") + std::strerror(errno));
        break;
      }
      written_.fetch_add(sizeof(tail), std::memory_order_relaxed);
    }
    if (::fsync(fd_) != 0) {
      fail(std::string("Write error saving DB on disk: fsync: ") + std::strerror(errno));
      break;
    }
    ::close(fd_);
    fd_ = -1;
    if (::rename(temp_path_.c_str(), final_path_.c_str()) != 0) {
      const std::string why = std::strerror(errno);
      ::unlink(temp_path_.c_str());
      fail("Error moving temp DB file " + temp_path_ + " on the final destination " + final_path_ +
           ": " + why);
      return;
    }
    fsync_parent_dir(final_path_);
    std::lock_guard lock(mu_);
    state_.store(State::kDone, std::memory_order_release);
    done_cv_.notify_all();
    return;
  }
  // Failed: drop whatever is still queued; the destructor removes the file.
  std::lock_guard lock(mu_);
  size_t dropped = 0;
  for (auto& c : queue_) dropped += c.size();
  queue_.clear();
  backlog_.fetch_sub(dropped, std::memory_order_relaxed);
}

}  // namespace setd::persist
