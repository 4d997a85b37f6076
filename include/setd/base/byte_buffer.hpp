// ByteBuffer: a growable byte queue ([begin, end) holds unread bytes) whose
// memory grows only with the bytes written into it.
//
// Dependency rule (module base): the C++ standard library only.
//
// std::vector<char>::resize() zero-fills, so sizing a vector for a large
// announced request touches (and makes resident) every page of it before a
// single byte has arrived. ByteBuffer uses malloc/realloc instead: capacity
// beyond the bytes written is never touched, and growth is geometric
// (reserve_for_write() at most doubles the capacity), so a peer that
// announces 200 MB and sends one byte costs a few KB, not 200 MB.
//
// Not thread-safe. Allocation failure throws std::bad_alloc.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string_view>

namespace setd::base {

class ByteBuffer {
 public:
  ByteBuffer() noexcept = default;
  ~ByteBuffer() { std::free(data_); }
  ByteBuffer(const ByteBuffer&) = delete;
  ByteBuffer& operator=(const ByteBuffer&) = delete;

  // Unread bytes.
  std::string_view view() const noexcept { return {data_ + rpos_, wpos_ - rpos_}; }
  size_t size() const noexcept { return wpos_ - rpos_; }
  bool empty() const noexcept { return rpos_ == wpos_; }
  size_t capacity() const noexcept { return cap_; }

  // Marks `n` unread bytes as read. When nothing is left unread the buffer
  // rewinds (capacity is kept; see release()).
  void consume(size_t n) noexcept {
    rpos_ += n;
    if (rpos_ == wpos_) rpos_ = wpos_ = 0;
  }

  // Makes room for at least `min_room` bytes after the unread ones and
  // returns where to write them; at most `want_room` are asked for (the
  // buffer never grows to more than twice its capacity, or `min_room` past
  // the data, in one call). Unread bytes may move.
  char* reserve_for_write(size_t min_room, size_t want_room) {
    if (want_room < min_room) want_room = min_room;
    if (cap_ - wpos_ >= min_room) return data_ + wpos_;
    if (rpos_ > 0) {  // slide the unread bytes to the front first
      std::memmove(data_, data_ + rpos_, wpos_ - rpos_);
      wpos_ -= rpos_;
      rpos_ = 0;
      if (cap_ - wpos_ >= min_room) return data_ + wpos_;
    }
    // Up to want_room of room, but at most double the capacity, and at
    // least min_room.
    size_t grown = wpos_ + want_room;
    if (grown > cap_ * 2) grown = cap_ * 2;
    if (grown < wpos_ + min_room) grown = wpos_ + min_room;
    void* p = std::realloc(data_, grown);
    if (p == nullptr) throw std::bad_alloc();
    data_ = static_cast<char*>(p);
    cap_ = grown;
    return data_ + wpos_;
  }
  // Room after the unread bytes, as left by reserve_for_write().
  size_t room() const noexcept { return cap_ - wpos_; }
  // Declares `n` bytes written at the pointer reserve_for_write() returned.
  void commit(size_t n) noexcept { wpos_ += n; }

  // Appends bytes (copying), growing as needed.
  void append(std::string_view bytes) {
    if (bytes.empty()) return;
    char* dst = reserve_for_write(bytes.size(), bytes.size());
    std::memcpy(dst, bytes.data(), bytes.size());
    wpos_ += bytes.size();
  }

  // Frees the memory if nothing is unread.
  void release() noexcept {
    if (!empty()) return;
    std::free(data_);
    data_ = nullptr;
    cap_ = rpos_ = wpos_ = 0;
  }

 private:
  char* data_ = nullptr;
  size_t cap_ = 0;
  size_t rpos_ = 0;  // first unread byte
  size_t wpos_ = 0;  // end of the written bytes
};

}  // namespace setd::base
