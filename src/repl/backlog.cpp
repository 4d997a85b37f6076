#include "setd/repl/backlog.hpp"

#include <algorithm>
#include <cstring>

namespace setd::repl {

void Backlog::append(std::string_view data) {
  end_ += static_cast<int64_t>(data.size());
  if (ring_.empty()) ring_.resize(size_);
  // Only the newest size_ bytes can stay.
  if (data.size() > size_) data.remove_prefix(data.size() - size_);
  while (!data.empty()) {
    const size_t n = std::min(data.size(), size_ - next_);
    std::memcpy(ring_.data() + next_, data.data(), n);
    next_ = (next_ + n) % size_;
    data.remove_prefix(n);
    histlen_ = std::min(size_, histlen_ + n);
  }
}

void Backlog::resize(size_t size) {
  if (size == 0) size = 1;
  if (size == size_) return;
  std::string keep;
  if (histlen_ > 0) copy_from(first_offset(), keep);
  const int64_t end = end_;
  size_ = size;
  ring_.clear();
  ring_.shrink_to_fit();
  next_ = 0;
  histlen_ = 0;
  end_ = end - static_cast<int64_t>(keep.size());
  if (!keep.empty()) append(keep);
}

void Backlog::copy_from(int64_t offset, std::string& out) const {
  if (offset > end_ || histlen_ == 0) return;
  const auto skip = static_cast<size_t>(offset - first_offset());
  size_t len = histlen_ - skip;
  size_t start = (next_ + size_ - histlen_ + skip) % size_;
  out.reserve(out.size() + len);
  while (len > 0) {
    const size_t n = std::min(len, size_ - start);
    out.append(ring_.data() + start, n);
    start = (start + n) % size_;
    len -= n;
  }
}

}  // namespace setd::repl
