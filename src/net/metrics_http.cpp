#include "setd/net/metrics_http.hpp"

#include <spdlog/spdlog.h>

#include <array>

#include "setd/cmd/metrics.hpp"
#include "setd/net/http.hpp"

namespace setd::net {

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;

// One client: read the head (within kHeadTimeout), write the answer (within
// kWriteTimeout), half-close, drain what the client still sends until it
// closes too (so that our close does not reset the answer away), close.
class MetricsHttp::Conn : public std::enable_shared_from_this<MetricsHttp::Conn> {
 public:
  Conn(MetricsHttp& owner, tcp::socket socket)
      : owner_(owner), socket_(std::move(socket)), deadline_(owner.io_) {}

  void start() {
    arm(kHeadTimeout);
    read_head();
  }

  void close() {
    if (closed_) return;
    closed_ = true;
    error_code ec;
    deadline_.cancel();
    socket_.close(ec);
    owner_.conns_.erase(this);  // the pending handlers still hold it
  }

 private:
  void arm(std::chrono::milliseconds after) {
    deadline_.expires_after(after);
    deadline_.async_wait([self = shared_from_this()](const error_code& ec) {
      if (!ec) self->close();
    });
  }

  void read_head() {
    socket_.async_read_some(asio::buffer(buf_),
                            [self = shared_from_this()](const error_code& ec, size_t n) {
                              if (self->closed_) return;
                              if (ec) return self->close();
                              self->received(n);
                            });
  }

  void received(size_t n) {
    head_.append(buf_.data(), n);
    const http::Verdict v = http::judge(head_);
    if (v.status == 0) return read_head();
    head_.clear();
    head_.shrink_to_fit();
    if (v.status == 200) {
      out_ =
          http::response(200, v.reason(), cmd::kMetricsContentType, owner_.render_(), v.head_only);
    } else {
      const std::string body = std::string(v.reason()) + "\n";
      out_ = http::response(v.status, v.reason(), "text/plain; charset=utf-8", body, false);
    }
    arm(kWriteTimeout);
    asio::async_write(socket_, asio::buffer(out_),
                      [self = shared_from_this()](const error_code& ec, size_t) {
                        if (self->closed_) return;
                        if (ec) return self->close();
                        self->out_.clear();
                        self->out_.shrink_to_fit();
                        error_code sec;
                        self->socket_.shutdown(tcp::socket::shutdown_send, sec);
                        self->drain();
                      });
  }

  // After the answer: discard input until the client closes (or the
  // deadline; a client that keeps sending is closed after kMaxDrain).
  void drain() {
    socket_.async_read_some(asio::buffer(buf_),
                            [self = shared_from_this()](const error_code& ec, size_t n) {
                              if (self->closed_) return;
                              self->drained_ += n;
                              if (ec || self->drained_ > kMaxDrain) return self->close();
                              self->drain();
                            });
  }

  static constexpr size_t kMaxDrain = 64 * 1024;
  MetricsHttp& owner_;
  tcp::socket socket_;
  asio::steady_timer deadline_;
  std::array<char, 4096> buf_{};
  std::string head_;
  std::string out_;
  size_t drained_ = 0;
  bool closed_ = false;
};

MetricsHttp::MetricsHttp(asio::io_context& io, std::function<std::string()> render)
    : io_(io), render_(std::move(render)) {}

MetricsHttp::~MetricsHttp() { stop(); }

void MetricsHttp::serve(Acceptors acceptors) {
  error_code ec;
  for (auto& acc : acceptors_) acc->close(ec);  // their accepts end
  acceptors_ = std::move(acceptors);
  stopped_ = false;
  for (auto& acc : acceptors_) accept(acc);
}

void MetricsHttp::stop() {
  stopped_ = true;
  error_code ec;
  for (auto& acc : acceptors_) acc->close(ec);
  acceptors_.clear();
  std::vector<std::shared_ptr<Conn>> open;
  for (auto& [ptr, conn] : conns_) open.push_back(conn);
  for (auto& c : open) c->close();
  conns_.clear();
}

void MetricsHttp::accept(std::shared_ptr<tcp::acceptor> acceptor) {
  auto* acc = acceptor.get();
  acc->async_accept(
      [this, acceptor = std::move(acceptor)](const error_code& ec, tcp::socket socket) {
        if (stopped_ || !acceptor->is_open() || ec == asio::error::operation_aborted) return;
        if (ec) {
          // Out of descriptors and the like: try again a little later rather
          // than spin.
          spdlog::warn("Accepting metrics connection: {}", ec.message());
          auto timer = std::make_shared<asio::steady_timer>(io_, std::chrono::milliseconds(100));
          timer->async_wait([this, timer, acceptor](const error_code& tec) {
            if (!tec && !stopped_ && acceptor->is_open()) accept(acceptor);
          });
          return;
        }
        accept(acceptor);
        if (conns_.size() >= kMaxConnections) {
          error_code cec;
          socket.close(cec);
          return;
        }
        auto conn = std::make_shared<Conn>(*this, std::move(socket));
        conns_.emplace(conn.get(), conn);
        conn->start();
      });
}

}  // namespace setd::net
