#include "setd/net/connection.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <spdlog/spdlog.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstring>

#include "setd/base/memory.hpp"
#include "setd/net/server.hpp"

namespace setd::net {

namespace asio = boost::asio;
using boost::system::error_code;

namespace {

// Reads go into the server's shared buffer of this size whenever the
// connection holds no partial request (see connection.hpp).
constexpr size_t kReadChunk = 16 * 1024;
// Output buffers bigger than this are freed once they have been sent; idle
// clients give back the rest (trim_buffers(), from the cron). Smaller ones
// are kept while the client is busy: freeing and reallocating them on every
// batch would only churn the allocator.
constexpr size_t kKeepOutputCapacity = 1024 * 1024;
// Input buffers bigger than this are freed once empty (Redis's
// PROTO_MBULK_BIG_ARG: 32 KB).
constexpr size_t kKeepInputCapacity = 32 * 1024;
// Freed buffers at least this big are reported to the heap trimmer.
constexpr size_t kNoteFreedBytes = 16 * 1024;
// Output waiting for a client beyond this stops us reading its requests
// until it catches up, so a client that never reads cannot grow our memory
// with its own replies.
constexpr size_t kBacklogLimit = 4 * 1024 * 1024;

// Frees a string's buffer (telling the heap trimmer about big ones).
void free_string(std::string& s) {
  if (s.capacity() > kNoteFreedBytes) base::note_freed(s.capacity());
  std::string().swap(s);
}

// Frees an input buffer that holds nothing unread.
void free_input(base::ByteBuffer& b) {
  if (!b.empty()) return;
  if (b.capacity() > kNoteFreedBytes) base::note_freed(b.capacity());
  b.release();
}

// A socket's own (local) or its peer's address as "ip:port", an IPv6
// address in brackets ("[::1]:6379", as Redis's anetFormatAddr); "" if it
// has none.
std::string endpoint_string(int fd, bool local) {
  asio::ip::tcp::endpoint ep;
  socklen_t len = static_cast<socklen_t>(ep.capacity());
  const int rc = local ? ::getsockname(fd, ep.data(), &len) : ::getpeername(fd, ep.data(), &len);
  if (rc != 0) return "";
  ep.resize(len);
  const auto addr = ep.address();
  const std::string port = std::to_string(ep.port());
  if (!addr.is_v6()) return addr.to_string() + ":" + port;
  if (addr.to_v6().is_v4_mapped())
    return asio::ip::make_address_v4(asio::ip::v4_mapped, addr.to_v6()).to_string() + ":" + port;
  return "[" + addr.to_string() + "]:" + port;
}

}  // namespace

Connection::Connection(int fd, Server& server, std::unique_ptr<Stream> stream)
    : fd_(fd), stream_(std::move(stream)), server_(server) {}

Connection::~Connection() {
  // Not closed: the server went away first (a handler still queued in Asio
  // held us, as a close retried while a script ran into SHUTDOWN), so the
  // Poller may be gone; closing the descriptor takes it out of the epoll
  // set, and no batch is being dispatched any more.
  if (fd_ >= 0) ::close(fd_);
}

void Connection::start(bool outbound) {
  auto& state = server_.state();
  outbound_ = outbound;
  client_ = &state.add_client();
  client_->transport = this;
  const int fd = fd_;
  client_->addr = endpoint_string(fd, false);
  client_->laddr = endpoint_string(fd, true);
  const int on = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
  if (const long long interval = state.settings().tcp_keepalive; interval > 0) {
    // As Redis's anetKeepAlive: the first probe after `interval` seconds
    // of silence, then every interval / 3, and the peer is dead after 3.
    ::setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on));
    const int idle = static_cast<int>(std::min<long long>(interval, INT_MAX));
    const int probe_every = std::max(1, idle / 3);
    const int probes = 3;
    ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
    ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &probe_every, sizeof(probe_every));
    ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &probes, sizeof(probes));
  }
  if (!outbound_) {
    ++state.stats().connections_received;
    spdlog::debug("Accepted {}", client_->addr);
  }

  client_->fd = fd;
  if (const int flags = ::fcntl(fd, F_GETFL);
      flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
    spdlog::warn("Making client socket non-blocking: {}", std::strerror(errno));
    close();
    return;
  }
  if (const int err = server_.poller().add(fd_, this); err != 0) {
    spdlog::warn("Watching a client socket: {}", std::strerror(err));
    close();
    return;
  }
  continue_handshake(true);
}

void Connection::continue_handshake(bool starting) {
  if (closed_) return;
  switch (stream_->handshake()) {
    case Io::kOk:
      handshaking_ = false;
      handshake_timer_.reset();  // cancels its wait
      if (!outbound_ && server_.state().protected_mode_denies(*client_)) {
        // Protected mode: explain, then close, once the stream is up (TLS
        // handshake done), as Redis's clientAcceptHandler.
        auto& stats = server_.state().stats();
        ++stats.rejected_connections;
        --stats.connections_received;  // Redis counts it as rejected only
        client_->out = server::kProtectedModeDenied;
        client_->close_after_reply = true;
        queue_flush();
        return;
      }
      if (starting) {
        // Input already there comes with the edge the registration raised,
        // in the Poller's order: a connection accepted with others must not
        // run its first command (a script that serves the others while it
        // runs) before they are even registered.
        wait_readable();
        return;
      }
      read_input();  // the client may have written during the handshake
      return;
    case Io::kWantRead:
      wait_readable();
      break;
    case Io::kWantWrite:
      wait_writable();
      break;
    case Io::kClosed:
      // Redis's words (clientAcceptHandler).
      spdlog::warn("Error accepting a client connection: {}", stream_->error());
      close();
      return;
  }
  if (!handshake_timer_) start_handshake_timer();
}

void Connection::start_handshake_timer() {
  const long long ms = server_.state().settings().tls_handshake_timeout;
  if (ms <= 0) return;
  handshake_timer_ = std::make_unique<asio::steady_timer>(server_.io());
  handshake_timer_->expires_after(std::chrono::milliseconds(ms));
  handshake_timer_->async_wait([self = shared_from_this()](const error_code& ec) {
    if (ec || self->closed_ || !self->handshaking_) return;
    spdlog::warn("Error accepting a client connection: TLS handshake not done after {} ms ({})",
                 self->server_.state().settings().tls_handshake_timeout, self->client_->addr);
    self->close();
  });
}

bool Connection::backlogged() const {
  // A replica's input (its ACKs) is read whatever its output: the stream is
  // ours, not its replies.
  return client_ && client_->repl_role != server::ReplRole::kReplica &&
         client_->output_bytes() > kBacklogLimit;
}

bool Connection::wants_input() const {
  return !closed_ && !client_->close_after_reply && !client_->killed && !backlogged();
}

void Connection::read_input() {
  if (closed_ || handshaking_ || read_wait_.armed || read_posted_ || read_wants_write_ ||
      !wants_input())
    return;
  // With no partial request pending, read into the server's shared
  // buffer: an idle connection then owns no input memory at all, and only
  // the tail of a request that did not arrive whole is copied into in_.
  // Otherwise append to in_, which grows with the bytes that arrive (at
  // most doubling per read), never with the size a request announces.
  read_wait_.latched = false;  // this read sees what any edge so far announced
  const bool shared = in_.empty();
  char* dst;
  size_t room;
  if (shared) {
    dst = server_.shared_read_buffer(kReadChunk);
    room = kReadChunk;
  } else {
    size_t want = kReadChunk;
    if (parser_.bytes_hint() > in_.size()) want = std::max(want, parser_.bytes_hint() - in_.size());
    dst = in_.reserve_for_write(kReadChunk, want);
    room = in_.room();
  }
  const IoResult r = stream_->read(dst, room);
  if (r.bytes > 0) {
    // Polling pays off when a reply goes back; our master gets none.
    if (client_->repl_role != server::ReplRole::kMaster) server_.note_activity();
    if (!shared) in_.commit(r.bytes);
    on_input(r.bytes, shared ? std::string_view(dst, r.bytes) : std::string_view());
    if (closed_) return;
  }
  if (r.next == Io::kClosed) {
    // End of stream or a failed socket.
    if (const std::string why = stream_->error(); !why.empty())
      spdlog::debug("read error from {}: {}", client_->addr, why);
    // Replies to what came before the end still go out (as far as the
    // socket takes them now): the end may be read in the same round as the
    // requests, before the round's flush (`printf 'PING\r\n' | nc`).
    if (!client_->out.empty() || woff_ < writing_buf_.size()) flush();
    close();
    return;
  }
  if (!wants_input()) return;  // resume() reads again later
  switch (r.next) {
    case Io::kOk:
      // More may be waiting: read again once the other clients had their
      // turn (cheaper than a wait, which would complete at once).
      read_posted_ = true;
      server_.post([self = shared_from_this()] {
        self->read_posted_ = false;
        self->read_input();
      });
      return;
    case Io::kWantRead:
      wait_readable();
      return;
    case Io::kWantWrite:
      read_wants_write_ = true;
      wait_writable();
      return;
    case Io::kClosed:
      return;
  }
}

void Connection::wait_readable() { wait_for(&Connection::read_wait_, &Connection::on_readable); }

void Connection::wait_writable() { wait_for(&Connection::write_wait_, &Connection::on_writable); }

void Connection::wait_for(Wait Connection::*wait, void (Connection::*then)()) {
  Wait& w = this->*wait;
  if (w.armed || closed_) return;
  w.armed = true;
  // The next edge calls `then`. But an edge came while nothing waited, or
  // the peer has closed (its end may sit behind the data a short read
  // took, and raises no edge again): look now, after this round's other
  // work (a look that finds nothing costs one system call).
  if (!w.latched && !hangup_) return;
  w.latched = false;
  server_.post([self = shared_from_this(), wait, then] {
    Connection& c = *self;
    if (!(c.*wait).armed || c.closed_) return;
    (c.*wait).armed = false;
    (c.*then)();
  });
}

void Connection::on_poll_event(uint32_t events) {
  const auto self = shared_from_this();  // what runs may close us
  if (events & (EPOLLRDHUP | EPOLLERR | EPOLLHUP)) hangup_ = true;
  // Output first, as Asio's reactor ordered them.
  if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
    edge(&Connection::write_wait_, &Connection::on_writable);
  if (closed_) return;
  if (events & (EPOLLIN | EPOLLRDHUP | EPOLLERR | EPOLLHUP))
    edge(&Connection::read_wait_, &Connection::on_readable);
}

void Connection::edge(Wait Connection::*wait, void (Connection::*then)()) {
  Wait& w = this->*wait;
  if (!w.armed) {
    w.latched = true;
    return;
  }
  w.armed = false;
  (this->*then)();
}

void Connection::on_readable() {
  if (handshaking_) {
    continue_handshake();
  } else if (flush_wants_read_) {
    flush_wants_read_ = false;
    flush_and_resume();  // which reads too
  } else {
    read_input();
  }
}

void Connection::on_writable() {
  if (handshaking_) {
    continue_handshake();
    return;
  }
  if (read_wants_write_) {
    read_wants_write_ = false;
    read_input();
  }
  if (flush_wants_write_) {
    flush_wants_write_ = false;
    flush_and_resume();
  }
}

void Connection::resume() {
  if (closed_ || !wants_input()) return;
  if (paused_) {
    // Requests that were already here when reading paused. They may fill
    // the backlog again: then the flush they queue brings us back here.
    paused_ = false;
    run_requests();
    if (closed_ || !wants_input()) return;
  }
  read_input();
}

void Connection::on_input(size_t n, std::string_view shared) {
  server_.state().stats().net_input_bytes += n;
  // proto-max-bulk-len may change at run time (CONFIG SET).
  parser_.set_limits({server_.state().settings().proto_max_bulk_len, 64 * 1024, false});
  run_requests(shared);
}

void Connection::run_requests(std::string_view shared) {
  if (!shared.empty()) {
    // Fresh input in the server's shared buffer: whatever is not run now (a
    // partial request, or the rest after a backlog pause) moves to in_.
    const size_t used = process(shared);
    if (!closed_ && used < shared.size()) in_.append(shared.substr(used));
  } else {
    in_.consume(process(in_.view()));
  }
  if (closed_) return;
  // Nothing pending: a buffer that grew for a big argument goes back now
  // (as Redis hands a big argument's buffer to the argument and starts a new
  // one), a small one when the client goes idle (trim_buffers()).
  if (in_.capacity() > kKeepInputCapacity) free_input(in_);
  // Its own replies count too (normal class), once per batch of requests.
  if (!client_->killed && client_->output_bytes() > 0 && enforce_output_limit()) return;
  const auto& s = server_.state().settings();
  if (in_.size() > static_cast<size_t>(s.client_query_buffer_limit)) {
    server_.state().close_async(*client_, server::CloseReason::kQueryBufferLimit);
    return;
  }
  client_->query_buffer_len = in_.size();
  client_->query_buffer_cap = in_.capacity();
  note_memory();
  if (!client_->out.empty() || client_->close_after_reply) queue_flush();
}

size_t Connection::process(std::string_view buf) {
  auto& dispatcher = server_.dispatcher();
  server::Client& c = *client_;
  size_t pos = 0;
  while (pos < buf.size() && !c.close_after_reply && !c.killed && !closed_) {
    if (c.raw_input != nullptr) {
      // Not requests (a master's handshake replies and image): the handler
      // takes what it can; once it lets go, the rest are requests.
      server::RawInput* handler = c.raw_input;
      pos += handler->consume(c, buf.substr(pos));
      if (c.raw_input == handler) break;  // it needs more
      continue;
    }
    if (backlogged() || c.blocked) {
      paused_ = true;  // resume() runs the rest once the output drained
      break;
    }
    // Our master's stream waits while a script runs (and lets others in
    // past busy-reply-threshold): it is applied after the script, as Redis
    // accumulates it then (the script's end resumes us: unblock()).
    if (c.repl_role == server::ReplRole::kMaster && server_.state().script_running()) {
      paused_ = true;
      break;
    }
    size_t consumed = 0;
    // The previous request may have been AUTH: limits follow the client.
    parser_.set_unauthenticated(server_.state().auth_required(c));
    const auto status = parser_.parse(buf.substr(pos), consumed);
    if (status == proto::RequestParser::Status::kNeedMore) break;
    if (status == proto::RequestParser::Status::kError) {
      const uint64_t before = c.reply.error_count();
      c.reply.error("ERR " + parser_.error());
      auto& stats = server_.state().stats();
      stats.total_error_replies += c.reply.error_count() - before;
      ++stats.errors["ERR"];
      spdlog::debug("Protocol error ({}) from client: {}", parser_.error(), c.addr);
      c.close_after_reply = true;
      return buf.size();  // nothing after a protocol error is read
    }
    if (status == proto::RequestParser::Status::kCommand) {
      dispatcher.dispatch(c, parser_.args());
      if (c.postponed) {
        // CLIENT PAUSE: the request stays unread until unblock().
        paused_ = true;
        break;
      }
      // Our master's commands move the replication offset and go on, as
      // they came, to our own replicas and backlog.
      if (c.repl_role == server::ReplRole::kMaster)
        dispatcher.replication().master_command_done(c, buf.substr(pos, consumed));
    }
    pos += consumed;
  }
  // A client that is going away runs nothing more.
  if (c.close_after_reply || c.killed) return buf.size();
  return pos;
}

bool Connection::enforce_output_limit() {
  if (!server_.state().output_limit_reached(*client_)) return false;
  server_.state().close_async(*client_, server::CloseReason::kOutputBufferLimit);
  return true;
}

void Connection::note_memory() {
  if (server_.state().settings().maxmemory_clients != 0)
    server_.state().note_client_memory(*client_);
}

void Connection::wake() {
  if (closed_ || client_->killed) return;
  // Checked on every delivery (as Redis checks on every reply), so a stuck
  // subscriber is cut off as soon as it crosses its limit.
  if (enforce_output_limit()) return;
  note_memory();
  // Deferred: the client may be in the middle of building a reply.
  queue_flush();
}

void Connection::queue_flush() {
  if (flush_queued_ || closed_) return;
  flush_queued_ = true;
  server_.defer_flush(shared_from_this());
}

void Connection::deferred_flush() {
  flush_queued_ = false;
  flush_and_resume();
}

void Connection::flush_and_resume() {
  flush();
  resume();  // reading may have paused for a backlog that is now out
}

void Connection::unblock() {
  if (closed_) return;
  // Its reply is written; the requests that waited run after this round.
  queue_flush();
}

void Connection::close_soon() {
  if (closed_) return;
  server_.post([self = shared_from_this()] { self->close(); });
}

void Connection::flush() {
  if (closed_ || handshaking_) return;
  server::Client& c = *client_;
  auto& stats = server_.state().stats();
  // No reply leaves before the effects it acknowledges are in the AOF (and,
  // with appendfsync always, on disk): one write (+ fsync) per batch.
  server_.state().persistence().flush_before_replies();
  Io wait = Io::kOk;
  write_wait_.latched = false;  // these writes see what any edge so far announced
  for (;;) {
    if (woff_ == writing_buf_.size()) {
      woff_ = 0;
      if (writing_buf_.capacity() > kKeepOutputCapacity)
        free_string(writing_buf_);
      else
        writing_buf_.clear();
      if (c.out.empty()) break;
      writing_buf_.swap(c.out);
    }
    // After a kWant* the same bytes are offered again, as TLS requires.
    const IoResult r = stream_->write(writing_buf_.data() + woff_, writing_buf_.size() - woff_);
    if (r.bytes > 0) {
      woff_ += r.bytes;
      stats.net_output_bytes += r.bytes;
      continue;
    }
    if (r.next == Io::kOk) continue;  // interrupted
    if (r.next == Io::kClosed) {
      close();
      return;
    }
    wait = r.next;
    break;
  }
  c.pending_write = writing_buf_.size() - woff_;
  note_memory();
  if (c.pending_write == 0) {
    // Everything is out: a big reply buffer goes back to the allocator.
    if (c.out.capacity() > kKeepOutputCapacity) free_string(c.out);
    if (c.out.empty() && (c.close_after_reply || c.killed)) close();
    return;
  }
  if (wait == Io::kWantRead) {
    flush_wants_read_ = true;
    wait_readable();
  } else {
    flush_wants_write_ = true;
    wait_writable();
  }
}

void Connection::trim_buffers() {
  if (closed_) return;
  free_input(in_);  // only if no partial request is pending
  if (woff_ == writing_buf_.size()) {
    free_string(writing_buf_);
    woff_ = 0;
  }
  if (client_->out.empty()) free_string(client_->out);
  client_->query_buffer_len = in_.size();
  client_->query_buffer_cap = in_.capacity();
}

void Connection::close() {
  if (closed_) return;
  if (client_ && client_->protected_from_close) {
    // Its script is still running (the loop serves others meanwhile): the
    // client must outlive it. Try again shortly.
    server_.post_after(10'000, [self = shared_from_this()] { self->close(); });
    return;
  }
  closed_ = true;
  if (!handshaking_) stream_->shutdown();
  if (handshake_timer_) handshake_timer_->cancel();  // its handler holds us
  if (fd_ >= 0) {
    server_.poller().remove(fd_, this);
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    fd_ = -1;
  }
  if (client_) {
    client_->transport = nullptr;
    spdlog::debug("Client closed connection {}", client_->addr);
    server_.state().remove_client(*client_);
    client_ = nullptr;
  }
  server_.forget(this);
}

void Connection::shutdown() {
  flush();  // best effort: replies already made, e.g. in the round that stopped us
  close();
}

}  // namespace setd::net
