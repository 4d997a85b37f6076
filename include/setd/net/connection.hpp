// One client connection: the socket, the stream over it (plain or TLS, see
// stream.hpp), its input buffer and parser, and the output pump.
//
// Readiness comes from the server's Poller (poller.hpp: its own epoll set,
// each socket registered once, edge-triggered); reads and writes are
// non-blocking calls of the stream (recv and send for plain TCP). The
// stream says what to wait for next: a TLS read may need the socket
// writable, a TLS write readable, and bytes OpenSSL already holds are read
// without waiting (as after a receive that filled the buffer). A TLS
// connection first completes its handshake (cut off after
// tls-handshake-timeout).
//
// A plain request at pipeline depth 1 costs one recv and one send, as in
// Redis. With Asio's waits it also cost the epoll_ctl(MOD) with which Asio
// arms each one (4% of a master's CPU at -c 50 -P 1); Asio's
// async_read_some instead makes a receive after each reply that fails with
// EAGAIN (`perf trace -s`: 1.9 receives per request; Boost 1.74 and Asio
// 1.22 try a receive at once after any that returned bytes).
//
// Memory: a connection with no partial request holds no input buffer. It
// reads (TLS: decrypts) into the server's shared buffer
// (Server::shared_read_buffer()), requests are parsed and run from there,
// and only an incomplete tail is copied into the connection's own
// ByteBuffer, which then grows with the bytes that arrive (never with the
// length a request announces). OpenSSL's own buffers are released while
// idle (tls.hpp). Input buffers above 32 KB and output buffers above 1 MB
// are freed as soon as they are empty; smaller ones when the client has
// been idle for 2 s (trim_buffers(), from the cron), so that a busy client
// does not free and reallocate them per batch.
//
// After a receive that filled the buffer, reading goes on with a posted
// receive (other clients get their turn first, and no epoll_ctl is spent);
// after a pause for a slow reader it restarts with a receive.
#pragma once

// clang-format off
#include <utility>  // before Asio: Boost 1.74 misses it under C++20
#include <boost/asio.hpp>
// clang-format on
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "setd/base/byte_buffer.hpp"
#include "setd/net/poller.hpp"
#include "setd/net/stream.hpp"
#include "setd/proto/request_parser.hpp"
#include "setd/server/client.hpp"

namespace setd::net {

class Server;

class Connection : public std::enable_shared_from_this<Connection>,
                   public server::ClientTransport,
                   private Poller::Target {
 public:
  // `fd`: a connected TCP socket, which the connection owns from now on.
  Connection(int fd, Server& server, std::unique_ptr<Stream> stream);
  ~Connection() override;

  // Registers the client, then handshakes (TLS) and starts reading. The
  // server must hold a shared_ptr to this until it is told to forget it.
  // `outbound`: a connection we opened (to our master): no protected mode,
  // not counted as a received connection.
  void start(bool outbound = false);
  server::Client* client() const { return client_; }
  // Closes at once (server shutdown).
  void shutdown();

  // Sends what defer_flush() queued, then continues reading if it paused.
  void deferred_flush();

  // server::ClientTransport
  void wake() override;
  void close_soon() override;
  void trim_buffers() override;
  void unblock() override;

 private:
  // Goes on with the stream's handshake; once done, reads (`starting`:
  // waits for the Poller to report input). Closes the connection if it
  // fails.
  void continue_handshake(bool starting = false);
  // One read of the stream, and runs what came. Then: waits for more input
  // if the socket is empty; posts itself if more may be there already (the
  // read filled the buffer, or the TLS stream holds more); does nothing if
  // reading paused (resume() restarts it).
  void read_input();
  // Continues after output drained: leftover requests, then reading.
  void resume();
  // `n` bytes arrived: in `shared` (the server's buffer) or appended to in_.
  void on_input(size_t n, std::string_view shared);
  // process() of `shared` (or of in_ when empty), keeping what is left in
  // in_; then the client's limits, then queue_flush() of the replies.
  void run_requests(std::string_view shared = {});
  // Parses and runs every complete request in `buf`, or stops (paused_)
  // when the client's unsent output crosses the backlog limit. Returns the
  // bytes used (all of them after a protocol error or once the client is
  // to close).
  size_t process(std::string_view buf);
  // Sends pending output until done or the socket is full (then waits until
  // it is writable, or readable if a TLS write needs that); closes the
  // connection once everything is out if it is to close after replying.
  void flush();
  // flush() once the requests ready now have run (Server::defer_flush).
  void queue_flush();
  void flush_and_resume();
  // One direction of the socket (input or output).
  struct Wait {
    bool armed = false;    // a wait is pending
    bool latched = false;  // an edge came while none was
  };
  // Waits (once: Wait::armed says a wait is pending) until the socket is
  // readable / writable, then calls on_readable() / on_writable(); nothing
  // if the socket closes.
  void wait_readable();
  void wait_writable();
  void wait_for(Wait Connection::*wait, void (Connection::*then)());
  // Poller::Target: an edge. Calls on_readable() / on_writable() if that
  // wait is armed, else latches it for the next wait (edge()).
  void on_poll_event(uint32_t events) override;
  void edge(Wait Connection::*wait, void (Connection::*then)());
  // Goes on with whatever waited for the socket: the handshake, a read, a
  // flush.
  void on_readable();
  void on_writable();
  // Closes a connection still handshaking after tls-handshake-timeout.
  void start_handshake_timer();
  void close();
  // Reading pauses while too much output waits for a slow reader.
  bool backlogged() const;
  bool wants_input() const;
  // Applies client-output-buffer-limit: over it, the client is killed (its
  // pending output dropped, the socket closed soon, the INFO counter
  // bumped) and true is returned.
  bool enforce_output_limit();
  // maxmemory-clients: its buffers moved (ServerState::note_client_memory).
  void note_memory();

  int fd_ = -1;  // registered with the server's Poller from start() until close()
  std::unique_ptr<Stream> stream_;
  Server& server_;
  server::Client* client_ = nullptr;
  proto::RequestParser parser_;

  base::ByteBuffer in_;      // unparsed bytes of a request that is not complete
  std::string writing_buf_;  // [woff_, size) is still to be sent
  size_t woff_ = 0;

  // Only while handshaking: cuts it off after tls-handshake-timeout.
  std::unique_ptr<boost::asio::steady_timer> handshake_timer_;

  bool handshaking_ = true;         // the stream's handshake is not done
  Wait read_wait_;                  // for readability
  Wait write_wait_;                 // for writability
  bool hangup_ = false;             // the peer closed (or the socket failed)
  bool read_posted_ = false;        // a read_input() is queued
  bool flush_wants_write_ = false;  // flush() waits until writable
  bool flush_wants_read_ = false;   // flush() waits until readable (TLS)
  bool read_wants_write_ = false;   // read_input() waits until writable (TLS)
  bool paused_ = false;             // process() stopped at the backlog limit
  bool closed_ = false;
  bool outbound_ = false;
  bool flush_queued_ = false;  // waiting in the server's deferred flush
};

}  // namespace setd::net
