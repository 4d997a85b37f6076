// The network layer: one Boost.Asio io_context, listeners for the bound
// addresses (port, and tls-port for TLS), one Connection per client, the
// cron timer and signal handling, the TLS context.
//
// Dependency rule (module net): cmd, server, proto, Boost.Asio and OpenSSL.
// This and main are the only places that touch Asio, sockets or OpenSSL. A
// Connection owns the socket, the stream over it (plain or TLS) and the byte
// buffers; it hands bytes to the RESP parser and argument vectors to
// the dispatcher, and writes whatever replies accumulated, once per batch.
// The loop (run()) waits on the Poller (poller.hpp): listening and client
// sockets, and Asio's own epoll descriptor for the cron and other timers,
// the signals, the replication link's connect and the metrics endpoint,
// whose handlers it then runs with a non-blocking poll of the io_context
// where Asio's descriptor comes in the batch. Each round: the events
// (sockets, Asio), what they queued (post()), the replies of the round
// (defer_flush()).
#pragma once

// clang-format off
#include <utility>  // before Asio: Boost 1.74 misses it under C++20
#include <boost/asio.hpp>
// clang-format on
#include <chrono>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "setd/cmd/dispatcher.hpp"
#include "setd/net/busy_poll.hpp"
#include "setd/net/metrics_http.hpp"
#include "setd/net/poller.hpp"
#include "setd/net/tls.hpp"
#include "setd/server/server_state.hpp"

namespace setd::net {

class Connection;

class Server final : public server::EventLoop, public repl::Connector, private Poller::Target {
 public:
  Server(boost::asio::io_context& io, server::ServerState& state, cmd::Dispatcher& dispatcher);
  ~Server() override;

  // Runs the loop until stop(). False (errno set) if the loop cannot wait
  // on Asio's descriptor.
  bool run();

  // server::EventLoop. post(): after the events of this round, before
  // sleeping again.
  void post(std::function<void()> fn) override;
  void post_after(int64_t us, std::function<void()> fn) override;
  void process_events_while_blocked() override;

  // repl::Connector: a connection to our master (plain TCP).
  void connect(const std::string& host, int port, int64_t timeout_ms,
               std::function<void(server::Client*, const std::string& error)> done) override;

  // Binds every address in `bind` on `port` (unless 0) and, after building
  // the TLS context, on `tls-port` (unless 0); a leading '-' makes an
  // address optional. Then every address in `metrics-bind` on
  // `metrics-port` (unless 0). Returns "" or an error message.
  std::string listen();
  // Starts accepting, the cron timer and the signal handler.
  void start();
  // Stops accepting, closes every connection and lets the io_context run dry.
  void stop();

  server::ServerState& state() { return state_; }
  cmd::Dispatcher& dispatcher() { return dispatcher_; }
  boost::asio::io_context& io() { return io_; }
  Poller& poller() { return poller_; }
  // A client sent input: keep the loop polling instead of sleeping for
  // busy-poll-us (see conf/setd.conf for why).
  void note_activity();
  // Queues `c` to have its output sent once the requests that are ready now
  // have all run (Redis writes replies before it sleeps, not after each
  // read: the clients then find several replies per wake-up, and we find
  // several requests per wake-up).
  void defer_flush(std::shared_ptr<Connection> c);
  // The buffer every connection receives into when it has no partial
  // request pending (at least `size` bytes; one per server, as only one
  // connection reads at a time). Its contents are valid until the next call.
  char* shared_read_buffer(size_t size) {
    if (shared_in_.size() < size) shared_in_.resize(size);
    return shared_in_.data();
  }
  // Drops the server's reference to a closed connection.
  void forget(Connection* c) { connections_.erase(c); }

 private:
  using Acceptors = std::vector<std::shared_ptr<boost::asio::ip::tcp::acceptor>>;
  // Listens on `port` at every address of `bind` into `out`: "" or an
  // error (none at all is one unless `may_be_none`).
  std::string bind_port(int port, const std::vector<std::string>& bind, Acceptors& out,
                        bool may_be_none = false);
  // CONFIG SET port / bind: new listeners first, then the old ones close
  // (open connections stay); if the new ones cannot listen, the old stay.
  void register_listener_appliers();
  std::string apply_port(const server::Settings& next);
  std::string apply_bind(const server::Settings& next);
  // A listening socket (taken out of Asio's acceptor that bound it) on the
  // Poller, edge-triggered, so that new connections and the events of the
  // clients already there come in the order they happened: a client that
  // closed is gone before the next one is counted against maxclients. (A
  // level-triggered listener stays at the head of the kernel's ready list:
  // measured, with maxclients 1 a client reconnecting at once was refused
  // 70-130 times in 500.)
  class Listener final : public Poller::Target, public std::enable_shared_from_this<Listener> {
   public:
    Listener(Server& server, int fd, int port, bool tls);
    ~Listener();
    Listener(const Listener&) = delete;
    Listener& operator=(const Listener&) = delete;
    int port() const { return port_; }
    // Leaves the Poller and closes the socket (an accept loop under way
    // ends).
    void close();
    void on_poll_event(uint32_t events) override;

   private:
    void accept_all();

    Server& server_;
    int fd_;
    int port_;
    bool tls_;
    bool retry_armed_ = false;  // accept_all() again after a failure
  };
  using Listeners = std::vector<std::shared_ptr<Listener>>;
  // Starts accepting on `fresh` in place of `old`, which close.
  void replace_listeners(Listeners& old, Acceptors fresh, bool tls);
  // A connection accepted on a listener: served, or refused past maxclients.
  void accepted(int fd, bool tls);
  // CONFIG SET metrics-port / metrics-bind: the endpoint's listeners move.
  std::string apply_metrics(const server::Settings& next);
  // CONFIG SET of tls-*: rebuild the TLS context, move the TLS listener, as
  // Redis's applyTlsCfg and applyTLSPort.
  void register_tls_appliers();
  std::string apply_tls_port(const server::Settings& next);
  void wait_for_signals();
  void schedule_cron();
  // One round of the loop, waiting up to `timeout_ms` for events; returns
  // how many things it did (events, queued functions, Asio handlers).
  size_t poll_once(int timeout_ms);
  // 0 while something is queued or busy-poll-us says to keep looking,
  // else -1 (sleep until an event).
  int loop_timeout() const;
  // Poller::Target: Asio's descriptor is readable.
  void on_poll_event(uint32_t events) override;
  // Feeds the busy-poll governor (cron).
  void sample_preemption();
  void flush_deferred();

  boost::asio::io_context& io_;
  Poller poller_;                            // before connections_: they leave it as they close
  std::vector<std::function<void()>> soon_;  // post()ed for this round
  size_t asio_handlers_ = 0;                 // run by on_poll_event() this round
  server::ServerState& state_;
  cmd::Dispatcher& dispatcher_;
  Listeners listeners_;          // port
  Listeners tls_listeners_;      // tls-port
  MetricsHttp metrics_;          // metrics-port
  Acceptors metrics_acceptors_;  // bound by listen(), served from start()
  // What the endpoint listens on (one CONFIG SET may call both appliers).
  int metrics_port_ = 0;
  std::vector<std::string> metrics_bind_;
  TlsContext tls_;
  boost::asio::steady_timer cron_timer_;
  boost::asio::signal_set signals_;
  // The owners of the open connections. Pending waits and posted handlers
  // hold them too, but only until close(), which ends every wait.
  std::unordered_map<Connection*, std::shared_ptr<Connection>> connections_;
  bool stopping_ = false;
  std::vector<char> shared_in_;
  std::vector<std::shared_ptr<Connection>> to_flush_;
  bool flush_yielded_ = false;  // flush_deferred() gave the loop one more look
  std::chrono::steady_clock::time_point poll_until_{};
  BusyPollGovernor poll_governor_;

  friend class Connection;
};

}  // namespace setd::net
