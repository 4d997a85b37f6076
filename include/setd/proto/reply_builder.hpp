// RESP reply writer: typed calls in, protocol bytes out.
//
// Dependency rule (module proto): the C++ standard library and setd/base only.
// Command handlers talk to a ReplyBuilder and never format bytes themselves;
// the builder picks the RESP2 or RESP3 form of each type. RESP3-only types
// fall back as Redis 7.0 does: map -> flat array of 2n, set/push -> array,
// double -> bulk string, boolean -> integer 0/1, verbatim -> bulk string,
// null -> $-1 (or *-1 for a null array).
#pragma once

#include <charconv>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace setd::proto {

class ReplyBuilder {
 public:
  // Appends to `out`, which the builder does not own.
  explicit ReplyBuilder(std::string* out, int resp = 2) : out_(out), resp_(resp) {}

  int resp() const { return resp_; }
  void set_resp(int resp) { resp_ = resp; }
  std::string& buffer() { return *out_; }
  void set_buffer(std::string* out) { out_ = out; }

  // +<text>. `text` must not contain CR or LF.
  void simple(std::string_view text) {
    out_->push_back('+');
    out_->append(text);
    crlf();
  }
  void ok() { out_->append("+OK\r\n", 5); }

  // -<text>. `text` carries its own code ("ERR ...", "WRONGTYPE ..."); a text
  // that does not start with an upper-case code word gets "ERR " in front, and
  // CR/LF inside it become spaces (both as Redis does). Counts the error.
  void error(std::string_view text);
  // -<text> exactly (no "ERR " added; CR/LF become spaces), as Redis's
  // addReplyErrorFormat("-%s") for errors a script returns. With `count`
  // false the error is not counted (Redis's ERR_REPLY_FLAG_NO_STATS_UPDATE:
  // a script's error that its redis.call already counted).
  void error_as_is(std::string_view text, bool count = true);
  // Number of errors written and the code of the last one ("ERR",
  // "WRONGTYPE", ...), for the errorstats section of INFO.
  uint64_t error_count() const { return errors_; }
  std::string_view last_error_code() const { return last_error_code_; }

  void integer(long long v) { prefixed_number(':', v); }
  void bulk(std::string_view data) {
    prefixed_number('$', static_cast<long long>(data.size()));
    out_->append(data);
    crlf();
  }
  void bulk_ll(long long v);  // an integer sent as a bulk string
  void null() {
    if (resp_ >= 3)
      out_->append("_\r\n", 3);
    else
      out_->append("$-1\r\n", 5);
  }
  void null_array() {
    if (resp_ >= 3)
      out_->append("_\r\n", 3);
    else
      out_->append("*-1\r\n", 5);
  }
  void array(size_t n) { prefixed_number('*', static_cast<long long>(n)); }
  void set(size_t n) { prefixed_number(resp_ >= 3 ? '~' : '*', static_cast<long long>(n)); }
  void map(size_t n) {
    if (resp_ >= 3)
      prefixed_number('%', static_cast<long long>(n));
    else
      prefixed_number('*', static_cast<long long>(2 * n));
  }
  void push(size_t n) { prefixed_number(resp_ >= 3 ? '>' : '*', static_cast<long long>(n)); }
  void boolean(bool v) {
    if (resp_ >= 3)
      out_->append(v ? "#t\r\n" : "#f\r\n", 4);
    else
      out_->append(v ? ":1\r\n" : ":0\r\n", 4);
  }
  // Formats like Redis 7.0: %.17g, "inf"/"-inf"; RESP3 ',' type, RESP2 bulk.
  void dbl(double v);
  // RESP3 verbatim string (=<len>\r\n<fmt>:<text>); RESP2 plain bulk string.
  void verbatim(std::string_view text, std::string_view format = "txt");

  // Replies whose element count is known only afterwards: remember a mark,
  // write the elements, then close it with the count.
  enum class Aggregate { kArray, kSet, kMap };
  size_t begin_deferred() const { return out_->size(); }
  void end_deferred(size_t mark, size_t n, Aggregate kind = Aggregate::kArray);

  // Raw protocol bytes (for pre-encoded replies).
  void raw(std::string_view bytes) { out_->append(bytes); }

 private:
  void crlf() { out_->append("\r\n", 2); }
  void prefixed_number(char type, long long v) {
    char buf[24];
    buf[0] = type;
    auto res = std::to_chars(buf + 1, buf + sizeof(buf) - 2, v);
    res.ptr[0] = '\r';
    res.ptr[1] = '\n';
    out_->append(buf, static_cast<size_t>(res.ptr + 2 - buf));
  }

  std::string* out_;
  int resp_;
  uint64_t errors_ = 0;
  std::string last_error_code_;
};

}  // namespace setd::proto
