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
  for (Batch& batch : batches_)
    for (int i = 0; i < batch.size; ++i)
      if (batch.events[i].data.ptr == target) batch.events[i].data.ptr = nullptr;
}

int Poller::drain(size_t b) {
  // By index: a target's nested poll may grow batches_ (and move it).
  int calls = 0;
  while (++batches_[b].pos < batches_[b].size) {
    epoll_event& ev = batches_[b].events[batches_[b].pos];
    auto* target = static_cast<Target*>(ev.data.ptr);
    ev.data.ptr = nullptr;  // once: a nested poll may get to it first
    if (target) {
      ++calls;
      target->on_poll_event(ev.events);
    }
  }
  return calls;
}

int Poller::poll(int timeout_ms) {
  // Nested in a target's call (a long command serving the others): first
  // the events that the enclosing batches still hold. Edge-triggered, the
  // kernel will not report them again, and they came before anything this
  // wait can find.
  int calls = 0;
  for (size_t b = 0; b < batches_.size(); ++b) calls += drain(b);
  epoll_event events[kBatch];
  const int n = ::epoll_wait(epfd_, events, kBatch, timeout_ms);
  if (n <= 0) return calls;  // nothing, or EINTR (a signal: Asio's pipe has it)
  batches_.push_back({events, n, -1});
  calls += drain(batches_.size() - 1);
  batches_.pop_back();
  return calls;
}

}  // namespace setd::net
