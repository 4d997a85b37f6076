#include "setd/net/server.hpp"

#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>

#include "setd/cmd/metrics.hpp"
#include "setd/net/connection.hpp"

namespace setd::net {

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;

namespace {

// Asio's epoll descriptor, for the Poller to wait on (Server::run()). Asio
// keeps it private: an explicit instantiation may name a private member
// (C++ [temp.spec]), which is how this reads it. A Boost without the epoll
// reactor does not compile here.
using AsioReactor = asio::detail::epoll_reactor;
struct AsioEpollFd {
  using type = int AsioReactor::*;
};
AsioEpollFd::type member_of(AsioEpollFd);
template <typename Tag, typename Tag::type Member>
struct ReadPrivate {
  friend typename Tag::type member_of(Tag) { return Member; }
};
template struct ReadPrivate<AsioEpollFd, &AsioReactor::epoll_fd_>;

int asio_epoll_descriptor(asio::io_context& io) {
  return asio::use_service<AsioReactor>(io).*member_of(AsioEpollFd{});
}

}  // namespace

Server::Server(asio::io_context& io, server::ServerState& state, cmd::Dispatcher& dispatcher)
    : io_(io),
      state_(state),
      dispatcher_(dispatcher),
      metrics_(io,
               [this] {
                 return cmd::render_metrics(state_, dispatcher_.registry(),
                                            dispatcher_.replication());
               }),
      cron_timer_(io),
      signals_(io) {
  state_.request_shutdown = [this] {
    // Never tear connections down from inside a command: post it.
    post([this] { stop(); });
  };
  state_.loop = this;
  dispatcher_.replication().set_connector(this);
  register_tls_appliers();
  register_listener_appliers();
}

Server::~Server() {
  if (state_.loop == this) state_.loop = nullptr;
  dispatcher_.replication().set_connector(nullptr);
}

void Server::connect(const std::string& host, int port, int64_t timeout_ms,
                     std::function<void(server::Client*, const std::string&)> done) {
  // The name is resolved here (as Redis does, blocking), the connection is
  // made without blocking, cut off after timeout_ms.
  error_code ec;
  tcp::resolver resolver(io_);
  const auto results = resolver.resolve(host, std::to_string(port), ec);
  if (ec || results.empty()) {
    done(nullptr, ec ? ec.message() : std::string("no address"));
    return;
  }
  auto socket = std::make_shared<tcp::socket>(io_);
  auto timer = std::make_shared<asio::steady_timer>(io_, std::chrono::milliseconds(timeout_ms));
  auto finished = std::make_shared<bool>(false);
  timer->async_wait([socket, finished, done](const error_code& tec) {
    if (tec || *finished) return;
    *finished = true;
    error_code cec;
    socket->close(cec);
    done(nullptr, "Connection timed out");
  });
  asio::async_connect(
      *socket, results,
      [this, socket, timer, finished, done](const error_code& cec, const tcp::endpoint&) {
        if (*finished) return;
        *finished = true;
        timer->cancel();
        if (cec) {
          done(nullptr, cec.message());
          return;
        }
        if (stopping_) return;
        // The descriptor leaves Asio's reactor: the Poller watches it.
        error_code rec;
        const int fd = socket->release(rec);
        if (rec) {
          done(nullptr, rec.message());
          return;
        }
        auto conn = std::make_shared<Connection>(fd, *this, make_plain_stream(fd));
        connections_.emplace(conn.get(), conn);
        conn->start(true);
        done(conn->client(), "");
      });
}

void Server::post(std::function<void()> fn) { soon_.push_back(std::move(fn)); }

int Server::loop_timeout() const {
  if (!soon_.empty() || !to_flush_.empty() || stopping_) return 0;
  // busy-poll-us: keep looking without sleeping for a while after input.
  if (std::chrono::steady_clock::now() < poll_until_) return 0;
  return -1;
}

size_t Server::poll_once(int timeout_ms) {
  // Client sockets (and Asio's descriptor, whose readiness only marks it).
  size_t done = static_cast<size_t>(poller_.poll(timeout_ms));
  // What they queued to run after them (reads to go on with, closes).
  std::vector<std::function<void()>> batch;
  while (!soon_.empty()) {
    batch.swap(soon_);
    for (auto& fn : batch) fn();
    done += batch.size();
    batch.clear();
  }
  // Replies of everything that ran, once per round (see defer_flush()).
  // Not once stopping: stop() sent what there was, and as Redis (which
  // exits at once) nothing made after that goes out, such as the error a
  // script killed by SHUTDOWN NOSAVE leaves for its caller.
  if (!to_flush_.empty() && !stopping_) flush_deferred();
  done += asio_handlers_;
  asio_handlers_ = 0;
  return done;
}

bool Server::run() {
  const int asio_fd = asio_epoll_descriptor(io_);
  if (!poller_.ok()) return false;
  if (const int err = poller_.add_level(asio_fd, this); err != 0) {
    errno = err;
    return false;
  }
  while (!stopping_) poll_once(loop_timeout());
  poller_.remove(asio_fd, this);
  return true;
}

void Server::on_poll_event(uint32_t) {
  // Asio's epoll set has something ready (a timer, a signal, the
  // replication link's connect, the metrics endpoint): its handlers run
  // now, at their place in the batch. Completions Asio queues without
  // readiness (a cancelled timer's, a connect that ended at once) run with
  // the next readiness, at the latest the cron's next tick.
  if (io_.stopped() && !stopping_) io_.restart();
  asio_handlers_ += io_.poll();
}

void Server::process_events_while_blocked() {
  // The connection whose command runs long may be in the middle of
  // requests read into the shared buffer: the others read into a buffer of
  // their own meanwhile, so its pipelined bytes stay as they are.
  std::vector<char> outer;
  outer.swap(shared_in_);
  // Nested polls are supported by the Poller and by Asio's scheduler (on
  // the loop's own thread). A few rounds, as Redis's
  // processEventsWhileBlocked.
  for (int i = 0; i < 4 && !stopping_; ++i)
    if (poll_once(0) == 0) break;
  shared_in_.swap(outer);
}

void Server::post_after(int64_t us, std::function<void()> fn) {
  auto timer = std::make_shared<asio::steady_timer>(io_, std::chrono::microseconds(us));
  timer->async_wait([timer, fn = std::move(fn)](const error_code& ec) {
    if (!ec) fn();
  });
}

std::string Server::bind_port(int port, const std::vector<std::string>& bind, Acceptors& out,
                              bool may_be_none) {
  const auto& s = state_.settings();
  for (std::string addr : bind) {
    bool optional = false;
    if (!addr.empty() && addr[0] == '-') {
      optional = true;
      addr.erase(0, 1);
    }
    if (addr == "*") addr = "0.0.0.0";
    if (addr == "::*") addr = "::";
    error_code ec;
    const auto ip = asio::ip::make_address(addr, ec);
    if (ec) {
      if (optional) continue;
      return "Invalid bind address '" + addr + "'";
    }
    auto acc = std::make_shared<tcp::acceptor>(io_);
    const tcp::endpoint ep(ip, static_cast<unsigned short>(port));
    acc->open(ep.protocol(), ec);
    if (!ec) acc->set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec && ip.is_v6()) acc->set_option(asio::ip::v6_only(true), ec);
    if (!ec) acc->bind(ep, ec);
    if (!ec) acc->listen(s.tcp_backlog, ec);
    if (ec) {
      if (optional) {
        spdlog::warn("Could not bind optional address {}:{}: {}", addr, port, ec.message());
        continue;
      }
      return "Could not create server TCP listening socket " + addr + ":" + std::to_string(port) +
             ": " + ec.message();
    }
    out.push_back(std::move(acc));
  }
  if (out.empty() && !may_be_none) return "No address to listen on";
  return "";
}

std::string Server::listen() {
  const auto& s = state_.settings();
  // As Redis: the TLS context first, then port, then tls-port; either may
  // be 0 (not both).
  if (s.tls_port != 0 && !tls_.configure(s))
    return "Failed to configure TLS. Check logs for more info.";
  Acceptors plain, tls;
  if (s.port != 0) {
    if (std::string err = bind_port(s.port, s.bind, plain); !err.empty()) return err;
  }
  if (s.tls_port != 0) {
    if (std::string err = bind_port(s.tls_port, s.bind, tls); !err.empty()) return err;
  }
  replace_listeners(listeners_, std::move(plain), false);
  replace_listeners(tls_listeners_, std::move(tls), true);
  if (listeners_.empty() && tls_listeners_.empty())
    return "Configured to not listen anywhere, exiting.";
  if (s.metrics_port != 0) {
    if (std::string err = bind_port(s.metrics_port, s.metrics_bind, metrics_acceptors_);
        !err.empty())
      return "metrics-port: " + err;
  }
  metrics_port_ = s.metrics_port;
  metrics_bind_ = s.metrics_bind;
  // INFO's tcp_port: the TLS port when there is no plain one, as in Redis.
  state_.tcp_port = (listeners_.empty() ? tls_listeners_ : listeners_)[0]->port();
  return "";
}

void Server::register_tls_appliers() {
  auto& config = state_.config();
  // Redis's applyTlsCfg: with TLS on, a new context from the new settings;
  // if it cannot be built the old one stays and CONFIG SET fails. The file
  // directives are reloaded even when set to the same name (Redis's
  // VOLATILE_CONFIG: the file may have changed), the others only on change.
  auto reload = [this, &config](const std::string& name, bool is_volatile, auto field) {
    config.set_applier(name, [this, name, is_volatile, field](const server::Settings& next) {
      if (!is_volatile && next.*field == state_.settings().*field) return std::string();
      if (next.tls_port == 0 || tls_.configure(next)) return std::string();
      spdlog::warn(
          "Failed applying new configuration. Possibly related to new {} setting. Restoring "
          "previous settings.",
          name);
      return std::string("Unable to update TLS configuration. Check server logs.");
    });
  };
  using S = server::Settings;
  reload("tls-cert-file", true, &S::tls_cert_file);
  reload("tls-key-file", true, &S::tls_key_file);
  reload("tls-key-file-pass", false, &S::tls_key_file_pass);
  reload("tls-ca-cert-file", true, &S::tls_ca_cert_file);
  reload("tls-ca-cert-dir", true, &S::tls_ca_cert_dir);
  reload("tls-dh-params-file", true, &S::tls_dh_params_file);
  reload("tls-protocols", false, &S::tls_protocols);
  reload("tls-ciphers", false, &S::tls_ciphers);
  reload("tls-ciphersuites", false, &S::tls_ciphersuites);
  reload("tls-prefer-server-ciphers", false, &S::tls_prefer_server_ciphers);
  reload("tls-session-caching", false, &S::tls_session_caching);
  reload("tls-session-cache-size", false, &S::tls_session_cache_size);
  reload("tls-session-cache-timeout", false, &S::tls_session_cache_timeout);
  config.set_applier("tls-port", [this](const server::Settings& next) {
    if (next.tls_port == state_.settings().tls_port) return std::string();
    return apply_tls_port(next);
  });
}

std::string Server::apply_metrics(const server::Settings& next) {
  if (next.metrics_port == metrics_port_ && next.metrics_bind == metrics_bind_) return "";
  // The new listeners first: if they cannot be had, the old ones stay and
  // CONFIG SET fails.
  Acceptors fresh;
  if (next.metrics_port != 0) {
    std::string err = bind_port(next.metrics_port, next.metrics_bind, fresh);
    if (!err.empty() && next.metrics_port == metrics_port_) {
      // Same port, overlapping addresses (0.0.0.0 then 127.0.0.1 cannot
      // both listen): the old listeners close first, and come back if the
      // new ones still cannot listen.
      metrics_.serve({});
      fresh.clear();
      err = bind_port(next.metrics_port, next.metrics_bind, fresh);
      if (!err.empty()) {
        Acceptors old;
        if (bind_port(metrics_port_, metrics_bind_, old).empty()) metrics_.serve(std::move(old));
      }
    }
    if (!err.empty()) {
      spdlog::warn("metrics-port: {}", err);
      return "Unable to listen on this port. Check server logs.";
    }
  }
  metrics_.serve(std::move(fresh));
  metrics_port_ = next.metrics_port;
  metrics_bind_ = next.metrics_bind;
  return "";
}

std::string Server::apply_tls_port(const server::Settings& next) {
  // Redis's applyTLSPort: TLS is configured if it was not yet, then the
  // listener moves to the new port (0: no TLS listener). Connections that
  // are open stay.
  if (!tls_.configured() && !tls_.configure(next)) {
    spdlog::warn(
        "Failed applying new configuration. Possibly related to new tls-port setting. Restoring "
        "previous settings.");
    return "Unable to update TLS configuration. Check server logs.";
  }
  Acceptors fresh;
  if (next.tls_port != 0) {
    if (std::string err = bind_port(next.tls_port, next.bind, fresh); !err.empty()) {
      spdlog::warn("{}", err);
      return "Unable to listen on this port. Check server logs.";
    }
  }
  replace_listeners(tls_listeners_, std::move(fresh), true);
  if (next.port == 0) state_.tcp_port = next.tls_port;
  return "";
}

void Server::replace_listeners(Listeners& old, Acceptors fresh, bool tls) {
  for (auto& l : old) l->close();
  old.clear();
  for (auto& acc : fresh) {
    error_code ec;
    const int port = acc->local_endpoint(ec).port();
    if (!ec) acc->non_blocking(true, ec);
    const int fd = ec ? -1 : acc->release(ec);
    if (ec) {
      spdlog::warn("Listening on port {}: {}", port, ec.message());
      continue;
    }
    auto l = std::make_shared<Listener>(*this, fd, port, tls);
    if (const int err = poller_.add_input(fd, l.get()); err != 0) {
      spdlog::warn("Listening on port {}: {}", port, std::strerror(err));
      continue;
    }
    old.push_back(std::move(l));
  }
}

Server::Listener::Listener(Server& server, int fd, int port, bool tls)
    : server_(server), fd_(fd), port_(port), tls_(tls) {}

Server::Listener::~Listener() { close(); }

void Server::Listener::close() {
  if (fd_ < 0) return;
  server_.poller_.remove(fd_, this);
  ::close(fd_);
  fd_ = -1;
}

void Server::Listener::on_poll_event(uint32_t) { accept_all(); }

void Server::Listener::accept_all() {
  // Edge-triggered: what is waiting is taken now, as no new edge will say
  // so again. Up to Redis's MAX_ACCEPTS_PER_CALL at a time, then the rest
  // after the round's other events.
  constexpr int kMaxAcceptsPerCall = 1000;
  const auto self = shared_from_this();  // a new client's command may close it
  for (int i = 0; fd_ >= 0; ++i) {
    if (i == kMaxAcceptsPerCall) {
      server_.post([self] { self->accept_all(); });
      return;
    }
    const int fd = ::accept4(fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      spdlog::warn("Accepting client connection: {}", std::strerror(errno));
      // Out of descriptors or memory: the connections waiting raise no new
      // edge, so look again shortly (Redis, level-triggered, looks every
      // round).
      if (!retry_armed_) {
        retry_armed_ = true;
        server_.post_after(100'000, [self] {
          self->retry_armed_ = false;
          self->accept_all();
        });
      }
      return;
    }
    server_.accepted(fd, tls_);
  }
}

void Server::accepted(int fd, bool tls) {
  // (Never once stopping: stop() closes the listeners, which ends their
  // accept loops.)
  if (state_.client_count() >= static_cast<size_t>(state_.settings().maxclients)) {
    ++state_.stats().rejected_connections;
    // As Redis: on a TLS connection nothing is written (no handshake was
    // done), it is just closed.
    static const char kMsg[] = "-ERR max number of clients reached\r\n";
    if (!tls) ::send(fd, kMsg, sizeof(kMsg) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
    ::close(fd);
    return;
  }
  auto stream = tls ? tls_.accept(fd, state_.settings().tls_auth_clients) : make_plain_stream(fd);
  if (!stream) {
    ::close(fd);
    return;
  }
  auto conn = std::make_shared<Connection>(fd, *this, std::move(stream));
  connections_.emplace(conn.get(), conn);
  conn->start();
}

void Server::register_listener_appliers() {
  auto& config = state_.config();
  config.set_applier("port", [this](const server::Settings& next) {
    if (next.port == state_.settings().port) return std::string();
    return apply_port(next);
  });
  config.set_applier("bind", [this](const server::Settings& next) {
    if (next.bind == state_.settings().bind) return std::string();
    return apply_bind(next);
  });
  config.set_applier("metrics-port",
                     [this](const server::Settings& next) { return apply_metrics(next); });
  config.set_applier("metrics-bind",
                     [this](const server::Settings& next) { return apply_metrics(next); });
}

std::string Server::apply_port(const server::Settings& next) {
  // Redis's changeListenPort (port 0: no plain listener).
  Acceptors fresh;
  if (next.port != 0) {
    if (std::string err = bind_port(next.port, next.bind, fresh); !err.empty()) {
      spdlog::warn("{}", err);
      return "Unable to listen on this port. Check server logs.";
    }
  }
  replace_listeners(listeners_, std::move(fresh), false);
  state_.tcp_port = next.port != 0 ? next.port : next.tls_port;
  return "";
}

std::string Server::apply_bind(const server::Settings& next) {
  // Redis's changeBindAddr: both listeners close, then listen again at the
  // new addresses (the old ones may overlap them: 0.0.0.0 and 127.0.0.1
  // cannot both listen on a port); if that fails, at the old addresses, as
  // Redis restores the previous setting. As in Redis, an empty list is
  // accepted and leaves nothing listening.
  const auto listen_at = [this](const server::Settings& s, Acceptors& plain, Acceptors& tls) {
    std::string err;
    if (s.port != 0) err = bind_port(s.port, s.bind, plain, true);
    if (err.empty() && s.tls_port != 0) err = bind_port(s.tls_port, s.bind, tls, true);
    return err;
  };
  replace_listeners(listeners_, {}, false);
  replace_listeners(tls_listeners_, {}, true);
  Acceptors plain, tls;
  std::string err = listen_at(next, plain, tls);
  if (!err.empty()) {
    spdlog::warn("Failed to bind: {}", err);
    plain.clear();
    tls.clear();
    if (std::string again = listen_at(state_.settings(), plain, tls); !again.empty())
      spdlog::warn("Could not listen again at the previous addresses: {}", again);
  }
  replace_listeners(listeners_, std::move(plain), false);
  replace_listeners(tls_listeners_, std::move(tls), true);
  return err.empty() ? "" : "Failed to bind to specified addresses.";
}

void Server::start() {
  if (!metrics_acceptors_.empty()) metrics_.serve(std::move(metrics_acceptors_));
  signals_.add(SIGINT);
  signals_.add(SIGTERM);
  wait_for_signals();
  schedule_cron();
}

void Server::wait_for_signals() {
  signals_.async_wait([this](const error_code& ec, int sig) {
    if (ec) return;
    spdlog::warn("Received {} scheduling shutdown...", sig == SIGINT ? "SIGINT" : "SIGTERM");
    // As Redis: SHUTDOWN with the flags shutdown-on-sigint / -sigterm give
    // (by default: save when save points are set), fsync the AOF; if that
    // fails the server keeps running, unless `force`.
    const auto& s = state_.settings();
    const int flags = sig == SIGINT ? s.shutdown_on_sigint : s.shutdown_on_sigterm;
    if (!state_.persistence()
             .prepare_for_shutdown((flags & server::kShutdownSave) != 0,
                                   (flags & server::kShutdownNosave) != 0)
             .empty() &&
        (flags & server::kShutdownForce) == 0) {
      spdlog::warn(
          "SIGTERM received but errors trying to shut down the server, check the logs for more "
          "information");
      wait_for_signals();
      return;
    }
    stop();
  });
}

void Server::note_activity() {
  const long long window = state_.settings().busy_poll_us;
  if (window <= 0) return;
  const auto now = std::chrono::steady_clock::now();
  if (!poll_governor_.allowed(now)) return;
  // Until then the loop looks for input without sleeping (loop_timeout()),
  // so a request that arrives meanwhile is found without a wake-up.
  poll_until_ = now + std::chrono::microseconds(window);
}

void Server::defer_flush(std::shared_ptr<Connection> c) {
  to_flush_.push_back(std::move(c));  // poll_once() sends them
}

void Server::flush_deferred() {
  // With appendfsync always each flush costs an fsync: before paying it,
  // let the loop look once more for requests that arrived meanwhile, so
  // that they share it (group commit; measured: 25 -> 50 writes per fsync
  // with 50 clients at -P 1).
  if (!flush_yielded_ && state_.persistence().wants_group_commit()) {
    flush_yielded_ = true;  // the next round (which does not sleep) flushes
    return;
  }
  flush_yielded_ = false;
  std::vector<std::shared_ptr<Connection>> batch;
  batch.swap(to_flush_);
  for (auto& c : batch) c->deferred_flush();
  batch.clear();
  if (to_flush_.empty()) to_flush_.swap(batch);  // keep the capacity
}

void Server::sample_preemption() {
  if (state_.settings().busy_poll_us <= 0) return;
  rusage ru{};
  if (getrusage(RUSAGE_THREAD, &ru) != 0) return;
  poll_governor_.sample(static_cast<uint64_t>(ru.ru_nivcsw), std::chrono::steady_clock::now());
}

void Server::schedule_cron() {
  const auto hz = std::max<long long>(state_.settings().hz, 1);
  cron_timer_.expires_after(std::chrono::milliseconds(1000 / hz));
  cron_timer_.async_wait([this](const error_code& ec) {
    if (ec || stopping_) return;
    sample_preemption();
    // While a script runs (and lets clients in past busy-reply-threshold),
    // nothing may change the dataset under it: no active expiry, no
    // replication housekeeping, as Redis's whileBlockedCron.
    if (!state_.script_running()) {
      state_.cron();
      dispatcher_.replication().cron();
    }
    schedule_cron();
  });
}

void Server::stop() {
  if (stopping_) return;
  stopping_ = true;
  spdlog::warn("setd is now ready to exit, bye bye...");
  for (auto& l : listeners_) l->close();
  for (auto& l : tls_listeners_) l->close();
  metrics_.stop();
  cron_timer_.cancel();
  signals_.cancel();
  std::vector<std::shared_ptr<Connection>> open;
  for (auto& [ptr, conn] : connections_) open.push_back(conn);
  for (auto& c : open) c->shutdown();
  connections_.clear();
  io_.stop();
}

}  // namespace setd::net
