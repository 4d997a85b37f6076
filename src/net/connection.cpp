#include "setd/net/connection.hpp"

#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "setd/net/server.hpp"

namespace setd::net {

namespace asio = boost::asio;
using boost::system::error_code;

namespace {

constexpr size_t kReadChunk = 16 * 1024;
// Output waiting for a client beyond this stops us reading its requests
// until it catches up, so a client that never reads cannot grow our memory
// with its own replies.
constexpr size_t kBacklogLimit = 4 * 1024 * 1024;

std::string endpoint_string(const asio::ip::tcp::endpoint& ep) {
  const auto addr = ep.address();
  std::string ip = addr.is_v6() && addr.to_v6().is_v4_mapped()
                       ? asio::ip::make_address_v4(asio::ip::v4_mapped, addr.to_v6()).to_string()
                       : addr.to_string();
  return ip + ":" + std::to_string(ep.port());
}

}  // namespace

Connection::Connection(asio::ip::tcp::socket socket, Server& server)
    : socket_(std::move(socket)), server_(server) {}

Connection::~Connection() = default;  // the socket closes itself

void Connection::start() {
  auto& state = server_.state();
  client_ = &state.add_client();
  client_->transport = this;
  error_code ec;
  client_->addr = endpoint_string(socket_.remote_endpoint(ec));
  client_->laddr = endpoint_string(socket_.local_endpoint(ec));
  socket_.set_option(asio::ip::tcp::no_delay(true), ec);
  if (state.settings().tcp_keepalive > 0)
    socket_.set_option(asio::socket_base::keep_alive(true), ec);
  ++state.stats().connections_received;
  in_.resize(kReadChunk);
  spdlog::debug("Accepted {}", client_->addr);

  client_->fd = socket_.native_handle();
  socket_.non_blocking(true, ec);
  if (ec) {
    spdlog::warn("Making client socket non-blocking: {}", ec.message());
    close();
    return;
  }
  read_input();  // the client may have written before we got here
}

bool Connection::backlogged() const { return client_ && client_->output_bytes() > kBacklogLimit; }

bool Connection::wants_input() const {
  return !closed_ && !client_->close_after_reply && !client_->killed && !backlogged();
}

void Connection::read_input() {
  if (closed_ || read_waiting_ || read_posted_ || !wants_input()) return;
  // Make room: move unparsed bytes to the front, grow for big requests.
  if (rpos_ > 0 && (rpos_ == wpos_ || in_.size() - wpos_ < kReadChunk)) {
    std::memmove(in_.data(), in_.data() + rpos_, wpos_ - rpos_);
    wpos_ -= rpos_;
    rpos_ = 0;
  }
  size_t want = wpos_ + kReadChunk;
  if (parser_.bytes_hint() > wpos_ - rpos_) want = std::max(want, rpos_ + parser_.bytes_hint());
  if (in_.size() < want) in_.resize(std::max(want, in_.size() * 2));
  const size_t room = in_.size() - wpos_;
  const ssize_t n = ::recv(socket_.native_handle(), in_.data() + wpos_, room, 0);
  bool drained = true;
  if (n > 0) {
    server_.note_activity();
    drained = static_cast<size_t>(n) < room;
    on_input(static_cast<size_t>(n));
  } else if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
    if (n < 0 && errno != ECONNRESET)
      spdlog::debug("read error from {}: {}", client_->addr, std::strerror(errno));
    close();  // end of stream or a failed socket
    return;
  } else if (errno == EINTR) {
    drained = false;
  }
  if (closed_ || !wants_input()) return;  // resume() reads again later
  if (!drained) {
    // More may be waiting: read again once the other clients had their
    // turn (cheaper than a wait, which would complete at once).
    read_posted_ = true;
    asio::post(server_.io(), [self = shared_from_this()] {
      self->read_posted_ = false;
      self->read_input();
    });
    return;
  }
  arm_wait(asio::socket_base::wait_read, &Connection::read_waiting_, &Connection::read_input);
}

void Connection::arm_wait(asio::socket_base::wait_type what, bool Connection::*armed,
                          void (Connection::*then)()) {
  if (this->*armed) return;
  this->*armed = true;
  socket_.async_wait(what, [self = shared_from_this(), armed, then](const error_code& ec) {
    self.get()->*armed = false;
    if (ec) return;  // closed
    (self.get()->*then)();
  });
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

void Connection::on_input(size_t n) {
  wpos_ += n;
  server_.state().stats().net_input_bytes += n;
  // proto-max-bulk-len may change at run time (CONFIG SET).
  parser_.set_limits({server_.state().settings().proto_max_bulk_len, 64 * 1024});
  run_requests();
  // Shrink a buffer that grew for one huge request.
  if (!closed_ && rpos_ == wpos_ && in_.size() > 1024 * 1024) {
    std::vector<char>(kReadChunk).swap(in_);
    rpos_ = wpos_ = 0;
  }
}

void Connection::run_requests() {
  process();
  if (closed_) return;
  // Its own replies count too (normal class), once per batch of requests.
  if (!client_->killed && client_->output_bytes() > 0 && enforce_output_limit()) return;
  const auto& s = server_.state().settings();
  if (wpos_ - rpos_ > static_cast<size_t>(s.client_query_buffer_limit)) {
    spdlog::warn("Closing client that reached max query buffer length: {}", client_->addr);
    ++server_.state().stats().client_query_buffer_limit_disconnections;
    close();
    return;
  }
  client_->query_buffer_len = wpos_ - rpos_;
  client_->query_buffer_cap = in_.size();
  if (!client_->out.empty() || client_->close_after_reply) queue_flush();
}

void Connection::process() {
  auto& dispatcher = server_.dispatcher();
  server::Client& c = *client_;
  while (rpos_ < wpos_ && !c.close_after_reply && !c.killed && !closed_) {
    if (backlogged()) {
      paused_ = true;  // resume() runs the rest once the output drained
      break;
    }
    size_t consumed = 0;
    const std::string_view view(in_.data() + rpos_, wpos_ - rpos_);
    const auto status = parser_.parse(view, consumed);
    if (status == proto::RequestParser::Status::kNeedMore) break;
    if (status == proto::RequestParser::Status::kError) {
      const uint64_t before = c.reply.error_count();
      c.reply.error("ERR " + parser_.error());
      auto& stats = server_.state().stats();
      stats.total_error_replies += c.reply.error_count() - before;
      ++stats.errors["ERR"];
      spdlog::debug("Protocol error ({}) from client: {}", parser_.error(), c.addr);
      c.close_after_reply = true;
      rpos_ = wpos_;
      break;
    }
    if (status == proto::RequestParser::Status::kCommand) dispatcher.dispatch(c, parser_.args());
    rpos_ += consumed;
  }
  if (rpos_ == wpos_) rpos_ = wpos_ = 0;
}

bool Connection::enforce_output_limit() {
  if (!server_.state().output_limit_reached(*client_)) return false;
  spdlog::warn("Client {} scheduled to be closed ASAP for overcoming of output buffer limits.",
               client_->addr);
  ++server_.state().stats().client_output_limit_disconnections;
  client_->killed = true;
  client_->out.clear();
  close_soon();
  return true;
}

void Connection::wake() {
  if (closed_ || client_->killed) return;
  // Checked on every delivery (as Redis checks on every reply), so a stuck
  // subscriber is cut off as soon as it crosses its limit.
  if (enforce_output_limit()) return;
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

void Connection::close_soon() {
  if (closed_) return;
  asio::post(server_.io(), [self = shared_from_this()] { self->close(); });
}

void Connection::flush() {
  if (closed_) return;
  server::Client& c = *client_;
  auto& stats = server_.state().stats();
  for (;;) {
    if (woff_ == writing_buf_.size()) {
      woff_ = 0;
      if (writing_buf_.capacity() > 1024 * 1024)
        std::string().swap(writing_buf_);
      else
        writing_buf_.clear();
      if (c.out.empty()) break;
      writing_buf_.swap(c.out);
    }
    const ssize_t k = ::send(socket_.native_handle(), writing_buf_.data() + woff_,
                             writing_buf_.size() - woff_, MSG_NOSIGNAL);
    if (k > 0) {
      woff_ += static_cast<size_t>(k);
      stats.net_output_bytes += static_cast<size_t>(k);
      continue;
    }
    if (k < 0 && errno == EINTR) continue;
    if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;  // wait until writable
    close();
    return;
  }
  c.pending_write = writing_buf_.size() - woff_;
  if (c.pending_write == 0) {
    if (c.out.empty() && (c.close_after_reply || c.killed)) close();
    return;
  }
  arm_wait(asio::socket_base::wait_write, &Connection::write_waiting_,
           &Connection::flush_and_resume);
}

void Connection::close() {
  if (closed_) return;
  closed_ = true;
  error_code ec;
  socket_.shutdown(asio::socket_base::shutdown_both, ec);
  socket_.close(ec);  // pending waits end with operation_aborted
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
