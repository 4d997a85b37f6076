// RESP request parser: turns the bytes a client sent into argument vectors.
//
// Dependency rule (module proto): the C++ standard library and setd/base only.
// The parser never sees a socket: the connection hands it a byte range and
// gets back whole commands, or "need more", or a protocol error whose text is
// exactly Redis 7.0's.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace setd::proto {

struct ParserLimits {
  // proto-max-bulk-len: the largest bulk string accepted ($<len>).
  long long max_bulk_len = 512LL * 1024 * 1024;
  // Inline requests and *<count>/$<count> lines longer than this are refused
  // (PROTO_INLINE_MAX_SIZE in Redis).
  size_t max_inline = 64 * 1024;
};

class RequestParser {
 public:
  enum class Status {
    kCommand,   // args() holds a complete command; `consumed` bytes were used
    kEmpty,     // an empty request (blank line, *0, *-1) was skipped
    kNeedMore,  // no complete request yet; call again with more bytes
    kError,     // protocol error; error() holds the text (without "-ERR ")
  };

  explicit RequestParser(ParserLimits limits = {}) : limits_(limits) {}

  // Parses the next request from `buf`, which must start at the first byte
  // not yet consumed. Between calls that return kNeedMore the caller may
  // append bytes and move the buffer, but the bytes already passed in must be
  // passed again unchanged at the start of `buf` (the parser resumes where it
  // stopped and keeps only offsets). On kCommand/kEmpty, `consumed` is set to
  // the length of the request; on kCommand the views in args() point into
  // `buf` (or into the parser, for inline requests) and stay valid until the
  // next call or until `buf` changes.
  Status parse(std::string_view buf, size_t& consumed);

  // Arguments of the last kCommand.
  const std::vector<std::string_view>& args() const { return args_; }

  // Text of the last kError, e.g. "Protocol error: invalid bulk length".
  const std::string& error() const { return error_; }

  // Bytes the parser knows it will need before the current request can
  // complete (0 if unknown). Lets the connection size its buffer for large
  // bulk strings instead of growing it in small steps.
  size_t bytes_hint() const { return hint_; }

  void set_limits(ParserLimits limits) { limits_ = limits; }
  // A client that must still authenticate may send at most 10 arguments of
  // at most 16 KiB each (Redis's limits for unauthenticated clients).
  void set_unauthenticated(bool on) { unauthenticated_ = on; }
  const ParserLimits& limits() const { return limits_; }

  // Forget any partially parsed request.
  void reset();

 private:
  Status parse_multibulk(std::string_view buf, size_t& consumed);
  Status parse_inline(std::string_view buf, size_t& consumed);
  Status fail(std::string msg);

  ParserLimits limits_;
  bool unauthenticated_ = false;
  // Resumable multibulk state (offsets are relative to the request start).
  bool in_multibulk_ = false;
  long long args_left_ = 0;  // bulk strings still to read
  long long bulk_len_ = -1;  // length of the bulk being read, -1 = header next
  size_t pos_ = 0;           // parse position within the request
  size_t hint_ = 0;
  std::vector<std::pair<size_t, size_t>> spans_;  // (offset, length) per arg
  std::vector<std::string> inline_args_;
  std::vector<std::string_view> args_;
  std::string error_;
};

}  // namespace setd::proto
