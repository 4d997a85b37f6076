// The metrics endpoint's HTTP server (metrics-port, metrics-bind): accepts
// on the listeners the network server binds for it, reads one request head
// per connection (net/http.hpp judges it), answers GET /metrics with what
// `render` returns (cmd/metrics.hpp's text) and closes the connection.
//
// Hostile or slow clients cost little and never touch the RESP side: at
// most kMaxConnections at once (more are closed at once), a request head of
// at most http::kMaxHead bytes, kHeadTimeout to send it (a slowloris is
// closed then, however it trickles), kWriteTimeout to take the answer.
// Everything runs on the server's io_context, between commands: the figures
// are read as consistently as INFO reads them.
//
// Dependency rule (module net): cmd, server, Boost.Asio.
#pragma once

// clang-format off
#include <utility>  // before Asio: Boost 1.74 misses it under C++20
#include <boost/asio.hpp>
// clang-format on
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace setd::net {

class MetricsHttp {
 public:
  using Acceptors = std::vector<std::shared_ptr<boost::asio::ip::tcp::acceptor>>;
  static constexpr size_t kMaxConnections = 32;
  static constexpr std::chrono::milliseconds kHeadTimeout{5000};
  static constexpr std::chrono::milliseconds kWriteTimeout{10000};

  MetricsHttp(boost::asio::io_context& io, std::function<std::string()> render);
  ~MetricsHttp();
  MetricsHttp(const MetricsHttp&) = delete;
  MetricsHttp& operator=(const MetricsHttp&) = delete;

  // Serves on these (bound, listening) acceptors from now on, instead of
  // the previous ones (closed; connections being served finish).
  void serve(Acceptors acceptors);
  // Closes the listeners and every connection.
  void stop();
  bool listening() const { return !acceptors_.empty(); }

 private:
  class Conn;
  void accept(std::shared_ptr<boost::asio::ip::tcp::acceptor> acceptor);

  boost::asio::io_context& io_;
  std::function<std::string()> render_;
  Acceptors acceptors_;
  std::unordered_map<Conn*, std::shared_ptr<Conn>> conns_;
  bool stopped_ = false;
};

}  // namespace setd::net
