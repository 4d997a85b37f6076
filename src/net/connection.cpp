#include "setd/net/connection.hpp"

#include <spdlog/spdlog.h>

#include <cstring>

#include "setd/base/clock.hpp"
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

Connection::~Connection() = default;

void Connection::start() {
  auto& state = server_.state();
  client_ = &state.add_client();
  client_->transport = this;
  error_code ec;
  client_->addr = endpoint_string(socket_.remote_endpoint(ec));
  client_->laddr = endpoint_string(socket_.local_endpoint(ec));
  client_->fd = static_cast<int>(socket_.native_handle());
  socket_.set_option(asio::ip::tcp::no_delay(true), ec);
  if (state.settings().tcp_keepalive > 0)
    socket_.set_option(asio::socket_base::keep_alive(true), ec);
  ++state.stats().connections_received;
  in_.resize(kReadChunk);
  spdlog::debug("Accepted {}", client_->addr);
  read();
}

bool Connection::backlogged() const { return client_ && client_->output_bytes() > kBacklogLimit; }

void Connection::read() {
  if (reading_ || closed_ || !client_ || client_->close_after_reply || client_->killed) return;
  if (backlogged()) return;  // resumed by on_write once the client reads
  // Make room: move unparsed bytes to the front, grow for big requests.
  if (rpos_ > 0 && (rpos_ == wpos_ || in_.size() - wpos_ < kReadChunk)) {
    std::memmove(in_.data(), in_.data() + rpos_, wpos_ - rpos_);
    wpos_ -= rpos_;
    rpos_ = 0;
  }
  size_t want = wpos_ + kReadChunk;
  if (parser_.bytes_hint() > wpos_ - rpos_) want = std::max(want, rpos_ + parser_.bytes_hint());
  if (in_.size() < want) in_.resize(std::max(want, in_.size() * 2));
  reading_ = true;
  socket_.async_read_some(
      asio::buffer(in_.data() + wpos_, in_.size() - wpos_),
      [self = shared_from_this()](const error_code& ec, size_t n) { self->on_read(ec, n); });
}

void Connection::on_read(const error_code& ec, size_t n) {
  reading_ = false;
  if (closed_) return;
  if (ec) {
    if (ec != asio::error::eof && ec != asio::error::connection_reset)
      spdlog::debug("read error from {}: {}", client_->addr, ec.message());
    close();
    return;
  }
  wpos_ += n;
  server_.state().stats().net_input_bytes += n;
  client_->query_buffer_len = wpos_ - rpos_;
  client_->query_buffer_cap = in_.size();
  // proto-max-bulk-len may change at run time (CONFIG SET).
  parser_.set_limits({server_.state().settings().proto_max_bulk_len, 64 * 1024});
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
  flush();
  read();
  // Shrink a buffer that grew for one huge request.
  if (!reading_ && rpos_ == wpos_ && in_.size() > 1024 * 1024) {
    std::vector<char>(kReadChunk).swap(in_);
    rpos_ = wpos_ = 0;
  }
}

void Connection::process() {
  auto& dispatcher = server_.dispatcher();
  server::Client& c = *client_;
  while (rpos_ < wpos_ && !c.close_after_reply && !c.killed && !closed_) {
    if (backlogged()) break;
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
  if (flush_posted_) return;
  // Deferred: the client may be in the middle of building a reply.
  flush_posted_ = true;
  asio::post(socket_.get_executor(), [self = shared_from_this()] {
    self->flush_posted_ = false;
    self->flush();
  });
}

void Connection::close_soon() {
  if (closed_) return;
  asio::post(socket_.get_executor(), [self = shared_from_this()] { self->close(); });
}

void Connection::flush() {
  if (closed_ || writing_) return;
  server::Client& c = *client_;
  if (c.out.empty()) {
    if (c.close_after_reply || c.killed) close();
    return;
  }
  writing_buf_.swap(c.out);
  c.out.clear();
  c.pending_write = writing_buf_.size();
  writing_ = true;
  asio::async_write(
      socket_, asio::buffer(writing_buf_),
      [self = shared_from_this()](const error_code& ec, size_t n) { self->on_write(ec, n); });
}

void Connection::on_write(const error_code& ec, size_t n) {
  writing_ = false;
  if (closed_) return;
  server_.state().stats().net_output_bytes += n;
  client_->pending_write = 0;
  if (writing_buf_.capacity() > 1024 * 1024)
    std::string().swap(writing_buf_);
  else
    writing_buf_.clear();
  if (ec) {
    close();
    return;
  }
  if (client_->killed) {
    close();
    return;
  }
  flush();
  if (!closed_ && !writing_ && rpos_ < wpos_ && !backlogged()) {
    // Requests left unparsed while we were backlogged.
    process();
    flush();
  }
  read();
}

void Connection::close() {
  if (closed_) return;
  closed_ = true;
  error_code ec;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  socket_.close(ec);
  if (client_) {
    client_->transport = nullptr;
    spdlog::debug("Client closed connection {}", client_->addr);
    server_.state().remove_client(*client_);
    client_ = nullptr;
  }
  server_.forget(this);
}

void Connection::shutdown() { close(); }

}  // namespace setd::net
