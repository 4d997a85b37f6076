// The byte stream under a Connection: plain TCP or TLS, behind one small
// interface, so that nothing above it knows which it is.
//
// Dependency rule (module net): std only in this header; the plain stream
// uses the socket calls, the TLS stream (tls.hpp) OpenSSL. Neither sees Asio:
// the Connection waits for readiness and calls these non-blocking
// operations, which say what they would wait for.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace setd::net {

// What a stream operation asks of its caller next.
enum class Io : uint8_t {
  kOk,         // done, or (read, write) call again now: more may be ready
  kWantRead,   // call again once the socket is readable
  kWantWrite,  // call again once the socket is writable
  kClosed,     // end of stream or a failure: close (error() may say why)
};

struct IoResult {
  size_t bytes = 0;  // transferred by this call (also with kWantRead / kWantWrite)
  Io next = Io::kOk;
};

class Stream {
 public:
  virtual ~Stream() = default;

  // Completes the transport's handshake (TLS); plain streams are ready at
  // once. kOk when done.
  virtual Io handshake() = 0;
  // Reads up to `room` bytes into `dst`. `next` says when to call again:
  // kOk when more may be ready now (the buffer filled, or the TLS stream
  // still holds decrypted or received bytes that socket readiness would not
  // report), kWantRead when the socket has been drained.
  virtual IoResult read(char* dst, size_t room) = 0;
  // Writes up to `len` bytes of `src`. After kWantWrite / kWantRead the same
  // bytes must be offered again (they may sit at another address).
  virtual IoResult write(const char* src, size_t len) = 0;
  // Says goodbye before the socket closes (TLS: close_notify), without
  // waiting.
  virtual void shutdown() = 0;
  // Why the last operation returned kClosed ("" if the peer just left).
  virtual std::string error() const = 0;
};

// recv/send on a connected non-blocking socket it does not own.
std::unique_ptr<Stream> make_plain_stream(int fd);

}  // namespace setd::net
