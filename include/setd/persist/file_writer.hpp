// FileWriter: a SnapshotSink that writes an RDB file from a thread of its
// own, so that disk latency never stalls the event loop.
//
// Dependency rule (module persist): see rdb_format.hpp.
//
// The file is written under a temporary name; finish() appends the CRC-64
// of everything written (zeros without checksums), then the thread fsyncs,
// renames the file to its final name (atomic: readers see the old dump or
// the new one, never a partial one) and fsyncs the directory. Any failure
// (open, write, a full disk, fsync, rename) puts the writer in kFailed with
// the reason; the temporary file is then removed and the final one is
// untouched. Destroying an unfinished writer cancels it the same way.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <thread>

#include "setd/persist/snapshot.hpp"

namespace setd::persist {

class FileWriter final : public SnapshotSink {
 public:
  enum class State { kRunning, kDone, kFailed };
  // What finish() appends: the RDB checksum (zeros when `checksum` is
  // off), or nothing (an AOF base written as commands).
  enum class Tail { kChecksum, kNone };

  // Opens (creates or truncates) `temp_path` at once: an unwritable
  // directory fails here (state() == kFailed). With `incremental_fsync`
  // the file is fsynced every 4 MB written (Redis's
  // rdb-save-incremental-fsync), so the final fsync has little left to do.
  FileWriter(std::string temp_path, std::string final_path, bool checksum,
             Tail tail = Tail::kChecksum, bool incremental_fsync = true);
  ~FileWriter() override;
  FileWriter(const FileWriter&) = delete;
  FileWriter& operator=(const FileWriter&) = delete;

  void write(std::string&& chunk) override;
  void finish() override;
  size_t backlog() const override { return backlog_.load(std::memory_order_relaxed); }

  State state() const { return state_.load(std::memory_order_acquire); }
  // Why it failed ("" while it has not).
  std::string error() const;
  uint64_t bytes_written() const { return written_.load(std::memory_order_relaxed); }
  // Blocks until the writer is done or failed (SAVE, shutdown).
  State wait();

 private:
  void run();
  void fail(const std::string& what);

  std::string temp_path_, final_path_;
  bool checksum_;
  Tail tail_;
  bool incremental_fsync_;
  int fd_ = -1;
  std::thread thread_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::condition_variable done_cv_;
  std::deque<std::string> queue_;
  bool finishing_ = false;
  bool cancel_ = false;
  std::string error_;
  std::atomic<size_t> backlog_{0};
  std::atomic<uint64_t> written_{0};
  std::atomic<State> state_{State::kRunning};
};

// Writes all of `data` to `fd` (retrying short writes and EINTR); false on
// error (errno set).
bool write_all(int fd, const char* data, size_t len);
// fsync()s the directory holding `path` (after a rename); false on error.
bool fsync_parent_dir(const std::string& path);

}  // namespace setd::persist
