// One client connection: socket, input buffer, parser, output pump.
#pragma once

// clang-format off
#include <utility>  // before Asio: Boost 1.74 misses it under C++20
#include <boost/asio.hpp>
// clang-format on
#include <memory>
#include <string>
#include <vector>

#include "setd/proto/request_parser.hpp"
#include "setd/server/client.hpp"

namespace setd::net {

class Server;

class Connection : public std::enable_shared_from_this<Connection>, public server::ClientTransport {
 public:
  Connection(boost::asio::ip::tcp::socket socket, Server& server);
  ~Connection() override;

  // Registers the client and starts reading.
  void start();
  // Closes at once (server shutdown).
  void shutdown();

  // server::ClientTransport
  void wake() override;
  void close_soon() override;

 private:
  void read();
  void on_read(const boost::system::error_code& ec, size_t n);
  // Parses and runs every complete request in the buffer.
  void process();
  void flush();
  void on_write(const boost::system::error_code& ec, size_t n);
  void close();
  // Reading pauses while too much output waits for a slow reader.
  bool backlogged() const;
  // Applies client-output-buffer-limit: over it, the client is killed (its
  // pending output dropped, the socket closed soon, the INFO counter
  // bumped) and true is returned.
  bool enforce_output_limit();

  boost::asio::ip::tcp::socket socket_;
  Server& server_;
  server::Client* client_ = nullptr;
  proto::RequestParser parser_;

  std::vector<char> in_;  // [rpos_, wpos_) holds unparsed bytes
  size_t rpos_ = 0;
  size_t wpos_ = 0;
  std::string writing_buf_;

  bool reading_ = false;
  bool writing_ = false;
  bool closed_ = false;
  bool flush_posted_ = false;
};

}  // namespace setd::net
