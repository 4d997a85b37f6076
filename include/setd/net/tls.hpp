// TLS as Redis 7.0 does it (its src/tls.c): the server's SSL context, built
// from the tls-* settings, and TLS streams over accepted sockets.
//
// Dependency rule (module net): server (Settings), std; OpenSSL only in
// src/net/tls.cpp (its types are opaque here). Nothing above net knows a
// connection is TLS: a TLS stream is a Stream (stream.hpp) like a plain one.
//
// Differences from Redis that only make connections cheaper: OpenSSL's read
// and write buffers are released while a connection is idle
// (SSL_MODE_RELEASE_BUFFERS; Redis keeps about 34 KB per connection), the
// SSL object is made only once the peer has sent something, and records are
// read ahead (one recv for several records; Redis reads header and body
// separately). Bytes OpenSSL holds are drained without waiting for the
// socket (Stream::read says kOk while any are left). A handshake not done
// after tls-handshake-timeout ms is cut off by the Connection (Redis has no
// such limit).
#pragma once

#include <memory>

#include "setd/net/stream.hpp"
#include "setd/server/config.hpp"

struct ssl_ctx_st;  // OpenSSL's SSL_CTX

namespace setd::net {

class TlsContext {
 public:
  TlsContext() = default;
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  // Builds a context from the tls-* settings in `s`, as Redis's
  // tlsConfigure(): on success it replaces the current one (connections
  // already open keep theirs); on failure it logs why, with Redis's
  // messages, and changes nothing.
  bool configure(const server::Settings& s);
  bool configured() const { return ctx_ != nullptr; }

  // A TLS stream for the accepted socket `fd` (server side of the
  // handshake), asking for a client certificate as `auth` says; nullptr
  // when no context is configured.
  std::unique_ptr<Stream> accept(int fd, server::TlsAuthClients auth) const;

 private:
  ssl_ctx_st* ctx_ = nullptr;
};

}  // namespace setd::net
