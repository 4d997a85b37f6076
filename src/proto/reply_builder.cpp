#include "setd/proto/reply_builder.hpp"

#include <cmath>
#include <cstdio>

namespace setd::proto {

namespace {

// An error text "starts with a code" when its first word is upper case
// letters (ERR, WRONGTYPE, EXECABORT, NOSCRIPT, ...), as Redis's replies do.
bool has_code(std::string_view text) {
  size_t i = 0;
  while (i < text.size() && text[i] >= 'A' && text[i] <= 'Z') ++i;
  return i > 0 && (i == text.size() || text[i] == ' ');
}

}  // namespace

void ReplyBuilder::error(std::string_view text) {
  if (!text.empty() && text[0] == '-') text.remove_prefix(1);
  out_->push_back('-');
  const size_t start = out_->size();
  if (!has_code(text)) out_->append("ERR ", 4);
  out_->append(text);
  for (size_t i = start; i < out_->size(); ++i)
    if ((*out_)[i] == '\r' || (*out_)[i] == '\n') (*out_)[i] = ' ';
  const size_t space = out_->find(' ', start);
  last_error_code_.assign(*out_, start,
                          (space == std::string::npos ? out_->size() : space) - start);
  crlf();
  ++errors_;
}

void ReplyBuilder::error_as_is(std::string_view text, bool count) {
  if (!text.empty() && text[0] == '-') text.remove_prefix(1);
  out_->push_back('-');
  const size_t start = out_->size();
  out_->append(text);
  for (size_t i = start; i < out_->size(); ++i)
    if ((*out_)[i] == '\r' || (*out_)[i] == '\n') (*out_)[i] = ' ';
  if (count) {
    const size_t space = out_->find(' ', start);
    last_error_code_.assign(*out_, start,
                            (space == std::string::npos ? out_->size() : space) - start);
    ++errors_;
  }
  crlf();
}

void ReplyBuilder::bulk_ll(long long v) {
  char buf[24];
  auto res = std::to_chars(buf, buf + sizeof(buf), v);
  bulk(std::string_view(buf, static_cast<size_t>(res.ptr - buf)));
}

void ReplyBuilder::dbl(double v) {
  char buf[64];
  int len;
  if (std::isinf(v))
    len = std::snprintf(buf, sizeof(buf), "%s", v > 0 ? "inf" : "-inf");
  else
    len = std::snprintf(buf, sizeof(buf), "%.17g", v);
  const std::string_view text(buf, static_cast<size_t>(len));
  if (resp_ >= 3) {
    out_->push_back(',');
    out_->append(text);
    crlf();
  } else {
    bulk(text);
  }
}

void ReplyBuilder::verbatim(std::string_view text, std::string_view format) {
  if (resp_ < 3) {
    bulk(text);
    return;
  }
  prefixed_number('=', static_cast<long long>(text.size() + format.size() + 1));
  out_->append(format);
  out_->push_back(':');
  out_->append(text);
  crlf();
}

void ReplyBuilder::end_deferred(size_t mark, size_t n, Aggregate kind) {
  char buf[24];
  char type = '*';
  size_t count = n;
  if (kind == Aggregate::kSet && resp_ >= 3) type = '~';
  if (kind == Aggregate::kMap) {
    if (resp_ >= 3)
      type = '%';
    else
      count = 2 * n;
  }
  buf[0] = type;
  auto res = std::to_chars(buf + 1, buf + sizeof(buf) - 2, count);
  res.ptr[0] = '\r';
  res.ptr[1] = '\n';
  out_->insert(mark, buf, static_cast<size_t>(res.ptr + 2 - buf));
}

}  // namespace setd::proto
