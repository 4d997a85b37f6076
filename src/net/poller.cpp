#include "setd/net/poller.hpp"

#include <spdlog/spdlog.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

namespace setd::net {

namespace asio = boost::asio;
using boost::system::error_code;

namespace {

uint32_t interest(bool want_read, bool want_write) {
  return (want_read ? EPOLLIN : 0u) | (want_write ? EPOLLOUT : 0u);
}

}  // namespace

Poller::Poller(asio::io_context& io) : epoll_(io) {
  const int fd = ::epoll_create1(EPOLL_CLOEXEC);
  if (fd < 0) {
    error_ = std::string("epoll_create1: ") + std::strerror(errno);
    return;
  }
  error_code ec;
  epoll_.assign(fd, ec);
  if (ec) {
    ::close(fd);
    error_ = "watching the epoll set: " + ec.message();
  }
}

Poller::~Poller() {
  error_code ec;
  epoll_.close(ec);
}

void Poller::start() {
  stopped_ = false;
  arm();
}

void Poller::stop() {
  stopped_ = true;
  error_code ec;
  epoll_.cancel(ec);
}

uint64_t Poller::add(int fd, Handler* h, bool want_read, bool want_write) {
  if (!epoll_.is_open()) return 0;
  const uint64_t token = next_token_++;
  epoll_event ev{};
  ev.events = interest(want_read, want_write);
  ev.data.u64 = token;
  if (::epoll_ctl(epoll_.native_handle(), EPOLL_CTL_ADD, fd, &ev) != 0) {
    spdlog::warn("epoll_ctl(ADD): {}", std::strerror(errno));
    return 0;
  }
  handlers_.emplace(token, h);
  return token;
}

bool Poller::modify(uint64_t token, int fd, bool want_read, bool want_write) {
  epoll_event ev{};
  ev.events = interest(want_read, want_write);
  ev.data.u64 = token;
  return ::epoll_ctl(epoll_.native_handle(), EPOLL_CTL_MOD, fd, &ev) == 0;
}

void Poller::remove(uint64_t token, int fd) {
  if (handlers_.erase(token) == 0) return;
  epoll_event ev{};  // non-null for kernels before 2.6.9
  ::epoll_ctl(epoll_.native_handle(), EPOLL_CTL_DEL, fd, &ev);
}

void Poller::arm() {
  if (armed_ || stopped_ || !epoll_.is_open()) return;
  armed_ = true;
  // Asio re-checks readiness when it arms a wait, and our set is
  // level-triggered: a client left with unread bytes wakes us again.
  epoll_.async_wait(asio::posix::stream_descriptor::wait_read, [this](const error_code& ec) {
    armed_ = false;
    if (ec || stopped_) return;
    pump();
  });
}

void Poller::pump() {
  if (stopped_) return;
  if (deliver() == 0) {
    arm();  // nothing was ready: sleep until something is
    return;
  }
  // Busy: look again once the io_context has run what is queued (timers,
  // accepts, posted flushes), without a system call to re-arm the wait and
  // without going to sleep while clients keep the loop fed.
  asio::post(epoll_.get_executor(), [this] { pump(); });
}

int Poller::deliver() {
  // One batch per wake-up, so timers and posted work are never starved by
  // clients that always have more to send.
  std::array<epoll_event, 256> events;
  const int n =
      ::epoll_wait(epoll_.native_handle(), events.data(), static_cast<int>(events.size()), 0);
  if (n < 0) {
    if (errno != EINTR) spdlog::warn("epoll_wait: {}", std::strerror(errno));
    return 0;
  }
  for (int i = 0; i < n; ++i) {
    const auto it = handlers_.find(events[i].data.u64);
    if (it == handlers_.end()) continue;  // removed earlier in this batch
    const uint32_t e = events[i].events;
    it->second->on_ready((e & EPOLLIN) != 0, (e & EPOLLOUT) != 0, (e & (EPOLLERR | EPOLLHUP)) != 0);
  }
  return n;
}

}  // namespace setd::net
