// One client connection: the socket, its input buffer and parser, and the
// output pump. Readiness comes from the server's Poller; reads and writes are
// plain non-blocking system calls, one receive per readiness report, all of
// its complete requests run, then one send of every reply they produced.
#pragma once

// clang-format off
#include <utility>  // before Asio: Boost 1.74 misses it under C++20
#include <boost/asio.hpp>
// clang-format on
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "setd/net/poller.hpp"
#include "setd/proto/request_parser.hpp"
#include "setd/server/client.hpp"

namespace setd::net {

class Server;

class Connection : public std::enable_shared_from_this<Connection>,
                   public server::ClientTransport,
                   private Poller::Handler {
 public:
  Connection(boost::asio::ip::tcp::socket socket, Server& server);
  ~Connection() override;

  // Registers the client and the socket with the poller. The server must
  // hold a shared_ptr to this until it is told to forget it.
  void start();
  // Closes at once (server shutdown).
  void shutdown();

  // server::ClientTransport
  void wake() override;
  void close_soon() override;

 private:
  // Poller::Handler
  void on_ready(bool readable, bool writable, bool hangup) override;
  // One non-blocking receive, then on_input() with what came.
  void receive();
  void on_input(size_t n);
  // Parses and runs every complete request in the buffer.
  void process();
  // Sends pending output until done or the socket is full; closes the
  // connection once everything is out if it is to close after replying.
  void flush();
  // Tells the poller what this connection waits for now.
  void update_interest();
  void close();
  // Reading pauses while too much output waits for a slow reader.
  bool backlogged() const;
  bool wants_input() const;
  // Applies client-output-buffer-limit: over it, the client is killed (its
  // pending output dropped, the socket closed soon, the INFO counter
  // bumped) and true is returned.
  bool enforce_output_limit();

  boost::asio::ip::tcp::socket socket_;  // only until start() takes its fd
  Server& server_;
  server::Client* client_ = nullptr;
  proto::RequestParser parser_;
  int fd_ = -1;
  uint64_t token_ = 0;  // our registration with the poller

  std::vector<char> in_;  // [rpos_, wpos_) holds unparsed bytes
  size_t rpos_ = 0;
  size_t wpos_ = 0;
  std::string writing_buf_;  // [woff_, size) is still to be sent
  size_t woff_ = 0;

  bool watch_read_ = false;  // what the poller currently watches for
  bool watch_write_ = false;
  bool closed_ = false;
  bool flush_posted_ = false;
};

}  // namespace setd::net
