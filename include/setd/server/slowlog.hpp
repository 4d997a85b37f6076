// The slow log (SLOWLOG), as Redis 7.0's slowlog.c: commands that ran for
// at least slowlog-log-slower-than microseconds, newest first, at most
// slowlog-max-len of them. An entry keeps at most 32 arguments (the last
// saying how many more there were) of at most 128 bytes each (with how many
// more bytes there were).
//
// Dependency rule (module server): standard library only here.
#pragma once

#include <cstdint>
#include <deque>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace setd::server {

class SlowLog {
 public:
  static constexpr size_t kMaxArgc = 32;     // SLOWLOG_ENTRY_MAX_ARGC
  static constexpr size_t kMaxString = 128;  // SLOWLOG_ENTRY_MAX_STRING

  struct Entry {
    long long id = 0;
    long long time = 0;      // unix seconds
    long long duration = 0;  // µs
    std::vector<std::string> args;
    std::string peer;  // "ip:port"
    std::string name;  // client name
  };

  // Whether a command that ran `duration_us` is logged with this threshold
  // (negative: the slow log is off).
  static bool wanted(long long duration_us, long long slower_than) {
    return slower_than >= 0 && duration_us >= slower_than;
  }
  // Adds an entry (args already redacted), then trims to `max_len`.
  void push(std::span<const std::string_view> args, long long duration_us, std::string peer,
            std::string name, size_t max_len);
  // Trims to `max_len` (also what Redis does when the entry is not logged).
  void trim(size_t max_len) {
    while (entries_.size() > max_len) entries_.pop_back();
  }
  void reset() { entries_.clear(); }

  const std::deque<Entry>& entries() const { return entries_; }  // newest first

 private:
  std::deque<Entry> entries_;
  long long next_id_ = 0;
};

}  // namespace setd::server
