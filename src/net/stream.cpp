#include "setd/net/stream.hpp"

#include <sys/socket.h>

#include <cerrno>
#include <cstring>

namespace setd::net {

namespace {

class PlainStream final : public Stream {
 public:
  explicit PlainStream(int fd) : fd_(fd) {}

  Io handshake() override { return Io::kOk; }

  IoResult read(char* dst, size_t room) override {
    const ssize_t n = ::recv(fd_, dst, room, 0);
    if (n > 0) {
      // A short read drained the socket: wait for it to be readable again.
      const auto got = static_cast<size_t>(n);
      return {got, got < room ? Io::kWantRead : Io::kOk};
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return {0, Io::kWantRead};
    if (n < 0 && errno == EINTR) return {0, Io::kOk};
    set_error(n);
    return {0, Io::kClosed};
  }

  IoResult write(const char* src, size_t len) override {
    const ssize_t n = ::send(fd_, src, len, MSG_NOSIGNAL);
    if (n > 0) return {static_cast<size_t>(n), Io::kOk};
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return {0, Io::kWantWrite};
    if (n < 0 && errno == EINTR) return {0, Io::kOk};
    set_error(n);
    return {0, Io::kClosed};
  }

  void shutdown() override {}
  std::string error() const override { return error_; }

 private:
  // End of stream and a reset peer are the client leaving, not errors.
  void set_error(ssize_t n) {
    if (n < 0 && errno != ECONNRESET) error_ = std::strerror(errno);
  }

  int fd_;
  std::string error_;
};

}  // namespace

std::unique_ptr<Stream> make_plain_stream(int fd) { return std::make_unique<PlainStream>(fd); }

}  // namespace setd::net
