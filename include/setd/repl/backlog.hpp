// The replication backlog: the last `repl-backlog-size` bytes of the
// replication stream, so that a replica that lost its link can continue from
// its offset (PSYNC ... +CONTINUE) instead of loading a full copy.
//
// Dependency rule (module repl): server, persist, db, proto, base; never Asio.
//
// Offsets are Redis's: the stream's bytes are numbered from 1, `end_offset()`
// is the number of bytes ever appended (master_repl_offset), and the backlog
// holds [first_offset(), end_offset()]. A ring of `size` bytes, allocated on
// first use (an idle backlog costs nothing).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace setd::repl {

class Backlog {
 public:
  // `end_offset`: master_repl_offset when the backlog is created (the next
  // byte appended gets end_offset + 1).
  Backlog(size_t size, int64_t end_offset) : size_(size == 0 ? 1 : size), end_(end_offset) {}

  void append(std::string_view data);
  // repl-backlog-size changed: keeps the newest bytes that still fit.
  void resize(size_t size);

  size_t size() const { return size_; }
  size_t histlen() const { return histlen_; }
  // Heap bytes held (the ring, once allocated).
  size_t memory_bytes() const { return ring_.capacity(); }
  int64_t end_offset() const { return end_; }
  // Offset of the oldest byte held (end_offset() + 1 while empty), as
  // INFO's repl_backlog_first_byte_offset.
  int64_t first_offset() const { return end_ - static_cast<int64_t>(histlen_) + 1; }
  // Can a replica that has processed everything before `offset` continue
  // from here (Redis's check: offset in [first, end + 1])?
  bool covers(int64_t offset) const { return offset >= first_offset() && offset <= end_ + 1; }
  // Appends the bytes from `offset` (inclusive) to the end to `out`.
  void copy_from(int64_t offset, std::string& out) const;

 private:
  size_t size_;
  int64_t end_;
  std::vector<char> ring_;  // allocated on the first append
  size_t next_ = 0;         // where the next byte goes
  size_t histlen_ = 0;
};

}  // namespace setd::repl
