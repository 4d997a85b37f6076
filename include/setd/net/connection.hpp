// One client connection: the socket, its input buffer and parser, and the
// output pump.
//
// Readiness comes from Asio's own reactor (socket waits, no Asio reads or
// writes); the reads and writes are plain non-blocking system calls. Why not
// Asio's async_read_some: a receive started after the socket was emptied is
// tried at once and fails with EAGAIN, one wasted system call per request at
// pipeline depth 1 (`perf trace -s`: 1.9 receives per request). Why not an
// epoll set of our own watched by Asio as one descriptor (tried): every
// packet a client sends then wakes two epoll sets, and the nested wake-up is
// paid by the sending client (perf: 9.3% of redis-benchmark's time in the
// socket wake-up against setd, 4.7% against Redis).
//
// The reactor's registration is edge-triggered, so the rule that keeps us
// from missing input is: the read wait is armed only in the same handler
// that saw the socket empty (a receive shorter than its buffer, or EAGAIN);
// any other time reading resumes (after a pause for a slow reader, or after a
// receive that filled its buffer) it starts with a receive, not a wait.
#pragma once

// clang-format off
#include <utility>  // before Asio: Boost 1.74 misses it under C++20
#include <boost/asio.hpp>
// clang-format on
#include <cstdint>
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

  // Registers the client and starts reading. The server must hold a
  // shared_ptr to this until it is told to forget it.
  void start();
  // Closes at once (server shutdown).
  void shutdown();

  // Sends what defer_flush() queued, then continues reading if it paused.
  void deferred_flush();

  // server::ClientTransport
  void wake() override;
  void close_soon() override;

 private:
  // Receives and runs input until the socket is empty (then waits for
  // more), reading pauses, or a receive fills the buffer (then continues
  // after other clients had their turn).
  void read_input();
  // Continues after output drained: leftover requests, then reading.
  void resume();
  void on_input(size_t n);
  // Parses and runs every complete request in the buffer.
  void process();
  // Sends pending output until done or the socket is full (then waits until
  // it is writable); closes the connection once everything is out if it is
  // to close after replying.
  void flush();
  // flush() once the requests ready now have run (Server::defer_flush).
  void queue_flush();
  void close();
  // Reading pauses while too much output waits for a slow reader.
  bool backlogged() const;
  bool wants_input() const;
  // Applies client-output-buffer-limit: over it, the client is killed (its
  // pending output dropped, the socket closed soon, the INFO counter
  // bumped) and true is returned.
  bool enforce_output_limit();

  boost::asio::ip::tcp::socket socket_;
  Server& server_;
  server::Client* client_ = nullptr;
  proto::RequestParser parser_;
  int fd_ = -1;

  std::vector<char> in_;  // [rpos_, wpos_) holds unparsed bytes
  size_t rpos_ = 0;
  size_t wpos_ = 0;
  std::string writing_buf_;  // [woff_, size) is still to be sent
  size_t woff_ = 0;

  bool read_waiting_ = false;   // a wait for input is armed
  bool read_posted_ = false;    // a read_input() is queued
  bool write_waiting_ = false;  // a wait for room to write is armed
  bool closed_ = false;
  bool flush_queued_ = false;  // waiting in the server's deferred flush
};

}  // namespace setd::net
