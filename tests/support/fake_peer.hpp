// Integration-test support: play the other end of a replication link by
// hand. A Listener stands in for a master (setd connects to it as its
// replica); the accepted connection is a Client over that socket, so the
// test reads the replica's commands as RESP arrays and writes whatever a
// master would (or would not) send. Header-only, POSIX sockets.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "server_process.hpp"

namespace setd::testing {

// A connection accepted by a Listener.
class PeerConn : public Client {
 public:
  PeerConn(int fd, int timeout_ms) : Client(Adopt{fd}, timeout_ms) {}
  // The next command the peer sends, as its arguments (empty on timeout).
  std::vector<std::string> read_command() {
    std::vector<std::string> out;
    if (auto v = read())
      for (const auto& e : v->elements) out.push_back(e.str);
    return out;
  }
};

// Listens on a free loopback port.
class Listener {
 public:
  Listener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    const int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 || ::listen(fd_, 16) != 0)
      throw std::runtime_error("listen failed");
    socklen_t len = sizeof(a);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
  }
  ~Listener() { ::close(fd_); }
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  int port() const { return port_; }
  // The next connection within `ms`, or nullptr.
  std::unique_ptr<PeerConn> accept(int ms = 5000, int read_timeout_ms = 5000) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, ms) <= 0) return nullptr;
    const int c = ::accept(fd_, nullptr, nullptr);
    if (c < 0) return nullptr;
    return std::make_unique<PeerConn>(c, read_timeout_ms);
  }

 private:
  int fd_ = -1;
  int port_ = 0;
};

// The smallest RDB a master can send: header, EOF, no checksum (zeros).
inline std::string empty_rdb() { return std::string("REDIS0010\xff", 10) + std::string(8, '\0'); }

}  // namespace setd::testing
