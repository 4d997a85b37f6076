// Redis 7.0's multi-part AOF on disk: the manifest and the command stream.
//
// Dependency rule (module persist): see rdb_format.hpp.
//
// An AOF directory (appenddirname) holds a manifest
// `<appendfilename>.manifest`, at most one BASE file (the dataset at the
// last rewrite: `<appendfilename>.<seq>.base.rdb` in RDB format, or
// `.base.aof` as commands), INCR files (`<appendfilename>.<seq>.incr.aof`,
// the commands since, in order) and HISTORY files waiting to be deleted.
// Manifest lines: `file <name> seq <n> type <b|h|i>` (name quoted like
// redis-cli when it needs it); '#' lines are comments.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "setd/persist/rdb_decoder.hpp"

namespace setd::persist {

struct AofFileInfo {
  std::string name;
  long long seq = 0;
  char type = 0;  // 'b' base, 'h' history, 'i' incr
};

struct AofManifest {
  std::optional<AofFileInfo> base;
  std::vector<AofFileInfo> history;
  std::vector<AofFileInfo> incrs;  // in replay order (ascending seq)
  long long base_seq = 0;          // the current (or last used) base seq
  long long incr_seq = 0;          // the last incr seq used
};

// Parses manifest text. Returns "" or Redis 7.0's message ("Invalid AOF
// manifest file format", "Found duplicate base file information", "Found a
// non-monotonic sequence number", "Unknown AOF file type", "File can't be a
// path, just a filename", "Found an empty AOF manifest", "The AOF manifest
// file contains too long line"), with the line number in `*line`.
std::string parse_aof_manifest(std::string_view text, AofManifest& out, int* line = nullptr);
// The manifest's text: base, then history, then incrs, as Redis writes it.
std::string format_aof_manifest(const AofManifest& m);

// Reads AOF commands (RESP multibulk) from a Source, as Redis's
// loadSingleAppendOnlyFile: '#' annotation lines are skipped; anything else
// that is not a multibulk is a format error; the input ending inside a
// command is a truncation. Lines are at most 1024 bytes, and an argument's
// memory grows with the bytes read, never with the length it announces.
class AofCommandReader {
 public:
  enum class Status { kCommand, kEnd, kTruncated, kBadFormat, kIoError };
  explicit AofCommandReader(Source& src) : src_(src), valid_up_to_(src.offset()) {}
  // The next command into `args`.
  Status next(std::vector<std::string>& args);
  // Offset (in the source) just after the last complete command.
  uint64_t valid_up_to() const { return valid_up_to_; }

 private:
  // A line up to "\n" (kept without "\r\n"); false at the end of input.
  bool read_line(std::string& line, bool& too_long);
  bool read_exact(std::string& out, size_t n);

  Source& src_;
  uint64_t valid_up_to_ = 0;
};

// RESP multibulk encoding of one command (what the AOF and replicas get).
void append_command(std::string& out, const std::vector<std::string>& args);
template <class Range>
void append_command_range(std::string& out, const Range& args) {
  out += '*';
  out += std::to_string(args.size());
  out += "\r\n";
  for (const auto& a : args) {
    out += '$';
    out += std::to_string(a.size());
    out += "\r\n";
    out.append(a.data(), a.size());
    out += "\r\n";
  }
}

}  // namespace setd::persist
