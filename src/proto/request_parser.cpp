#include "setd/proto/request_parser.hpp"

#include <climits>
#include <cstring>

#include "setd/base/split_args.hpp"
#include "setd/base/strconv.hpp"

namespace setd::proto {

void RequestParser::reset() {
  in_multibulk_ = false;
  args_left_ = 0;
  bulk_len_ = -1;
  pos_ = 0;
  hint_ = 0;
  spans_.clear();
}

RequestParser::Status RequestParser::fail(std::string msg) {
  error_ = std::move(msg);
  reset();
  return Status::kError;
}

RequestParser::Status RequestParser::parse(std::string_view buf, size_t& consumed) {
  consumed = 0;
  if (!in_multibulk_) {
    if (buf.empty()) return Status::kNeedMore;
    if (buf[0] != '*') return parse_inline(buf, consumed);
  }
  return parse_multibulk(buf, consumed);
}

// Inline request: one line of space-separated words, quoted as in redis-cli.
RequestParser::Status RequestParser::parse_inline(std::string_view buf, size_t& consumed) {
  const size_t nl = buf.find('\n');
  if (nl == std::string_view::npos) {
    if (buf.size() > limits_.max_inline) return fail("Protocol error: too big inline request");
    return Status::kNeedMore;
  }
  size_t line_len = nl;
  if (line_len > 0 && buf[line_len - 1] == '\r') --line_len;
  auto words = base::split_args(buf.substr(0, line_len));
  if (!words) return fail("Protocol error: unbalanced quotes in request");
  consumed = nl + 1;
  if (words->empty()) return Status::kEmpty;
  inline_args_ = std::move(*words);
  args_.clear();
  for (const auto& w : inline_args_) args_.emplace_back(w);
  return Status::kCommand;
}

// Multibulk request: *<n>\r\n followed by n times $<len>\r\n<bytes>\r\n.
// Like Redis, the two bytes after a bulk payload are skipped, not checked.
RequestParser::Status RequestParser::parse_multibulk(std::string_view buf, size_t& consumed) {
  if (!in_multibulk_) {
    const size_t cr = buf.find('\r', 0);
    if (cr == std::string_view::npos) {
      if (buf.size() > limits_.max_inline)
        return fail("Protocol error: too big mbulk count string");
      return Status::kNeedMore;
    }
    if (cr + 1 >= buf.size()) return Status::kNeedMore;  // the '\n' has not arrived
    long long count = 0;
    if (!base::string_to_ll(buf.substr(1, cr - 1), count) || count > INT_MAX)
      return fail("Protocol error: invalid multibulk length");
    if (count > 10 && unauthenticated_)
      return fail("Protocol error: unauthenticated multibulk length");
    if (count <= 0) {
      consumed = cr + 2;
      return Status::kEmpty;
    }
    in_multibulk_ = true;
    args_left_ = count;
    bulk_len_ = -1;
    pos_ = cr + 2;
    spans_.clear();
    // Do not trust the count for the reservation: it is client-controlled.
    spans_.reserve(static_cast<size_t>(count < 1024 ? count : 1024));
  }

  while (args_left_ > 0) {
    if (bulk_len_ < 0) {
      const size_t cr = buf.find('\r', pos_);
      if (cr == std::string_view::npos) {
        if (buf.size() - pos_ > limits_.max_inline)
          return fail("Protocol error: too big bulk count string");
        hint_ = 0;
        return Status::kNeedMore;
      }
      if (cr + 1 >= buf.size()) return Status::kNeedMore;
      if (buf[pos_] != '$') {
        char c = buf[pos_];
        if (c == '\r' || c == '\n') c = ' ';  // Redis maps CR/LF in errors to spaces
        return fail(std::string("Protocol error: expected '$', got '") + c + "'");
      }
      long long len = 0;
      if (!base::string_to_ll(buf.substr(pos_ + 1, cr - pos_ - 1), len) || len < 0 ||
          len > limits_.max_bulk_len)
        return fail("Protocol error: invalid bulk length");
      if (len > 16384 && unauthenticated_)
        return fail("Protocol error: unauthenticated bulk length");
      bulk_len_ = len;
      pos_ = cr + 2;
    }
    const auto need = static_cast<size_t>(bulk_len_) + 2;
    if (buf.size() - pos_ < need) {
      hint_ = pos_ + need;
      return Status::kNeedMore;
    }
    spans_.emplace_back(pos_, static_cast<size_t>(bulk_len_));
    pos_ += need;
    bulk_len_ = -1;
    --args_left_;
  }

  args_.clear();
  for (const auto& [off, len] : spans_) args_.emplace_back(buf.data() + off, len);
  consumed = pos_;
  in_multibulk_ = false;
  pos_ = 0;
  hint_ = 0;
  return Status::kCommand;
}

}  // namespace setd::proto
