#include "setd/net/poller.hpp"

#include <unistd.h>

#include <cerrno>

namespace setd::net {

Poller::Poller() : epfd_(::epoll_create1(EPOLL_CLOEXEC)) {}

Poller::~Poller() {
  if (epfd_ >= 0) ::close(epfd_);
}

int Poller::add(int fd, Target* target) {
  return add_with(fd, target, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET);
}

int Poller::add_input(int fd, Target* target) { return add_with(fd, target, EPOLLIN | EPOLLET); }

int Poller::add_level(int fd, Target* target) { return add_with(fd, target, EPOLLIN); }

int Poller::add_with(int fd, Target* target, uint32_t events) {
  epoll_event ev{};
  ev.events = events;
  ev.data.ptr = target;
  return ::epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) == 0 ? 0 : errno;
}

void Poller::remove(int fd, Target* target) {
  epoll_event ev{};
  ::epoll_ctl(epfd_, EPOLL_CTL_DEL, fd, &ev);
  for (size_t b = 0; b < batches_.size(); ++b)
    for (int i = 0; i < batch_sizes_[b]; ++i)
      if (batches_[b][i].data.ptr == target) batches_[b][i].data.ptr = nullptr;
}

int Poller::poll(int timeout_ms) {
  epoll_event events[kBatch];
  const int n = ::epoll_wait(epfd_, events, kBatch, timeout_ms);
  if (n <= 0) return 0;  // nothing, or EINTR (a signal: Asio's pipe has it)
  batches_.push_back(events);
  batch_sizes_.push_back(n);
  for (int i = 0; i < n; ++i)
    if (auto* target = static_cast<Target*>(events[i].data.ptr))
      target->on_poll_event(events[i].events);
  batches_.pop_back();
  batch_sizes_.pop_back();
  return n;
}

}  // namespace setd::net
