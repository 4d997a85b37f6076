// Poller: the epoll set that client connections wait on, outside Asio.
//
// Dependency rule (module net): std and Linux's epoll only (no Asio), so
// that unit tests can drive it with socket pairs.
//
// Why not Asio's reactor for client sockets: Asio (Boost 1.74) arms every
// readiness wait with an epoll_ctl(MOD), and its receives try a recv at
// once after any that returned bytes, so a request at pipeline depth 1 cost
// a third system call besides its recv and send (measured: epoll_ctl was
// 4% of a master's CPU at redis-benchmark -c 50 -P 1). Here each socket is
// registered once, edge-triggered for input and output, and a wait costs
// nothing: the owner says it is waiting, and the next edge calls it back.
// The server's loop (Server::run) blocks in poll() on this set, in which
// Asio's own epoll descriptor is one more member (timers, connects,
// signals: rare events), instead of the other way round, which made every
// client packet wake two epoll sets.
//
// Edges and waits: an edge reported while its owner is not waiting is
// latched (Target::on_poll_event decides); the owners here only wait after
// a read or write that found the socket drained or full, after which any
// change produces a new edge. One exception: the peer's end can arrive
// with data, and a short read that takes the data leaves the end unread
// with no edge to come; a connection therefore remembers a hang-up
// (EPOLLRDHUP, EPOLLHUP, EPOLLERR) and reads again instead of waiting.
// Measured (2 cores, redis-benchmark -c 50 -P 1 SADD, busy-poll-us 0, no
// replica, 4 alternating runs): the master's CPU per request 17.97 ->
// 16.0 µs (medians), 42.4k -> 48.8k requests/s.
#pragma once

#include <sys/epoll.h>

#include <cstdint>
#include <vector>

namespace setd::net {

class Poller {
 public:
  // What a registered descriptor calls back: `events` as epoll reports
  // them (EPOLLIN, EPOLLOUT, EPOLLERR, EPOLLHUP...).
  class Target {
   public:
    virtual void on_poll_event(uint32_t events) = 0;

   protected:
    ~Target() = default;
  };

  Poller();
  ~Poller();
  Poller(const Poller&) = delete;
  Poller& operator=(const Poller&) = delete;

  // False if the epoll set could not be made (errno says why).
  bool ok() const { return epfd_ >= 0; }
  // Registers `fd` edge-triggered for input and output (add), for input
  // only (add_input), or level-triggered for input (add_level): 0 on
  // success, else an errno. A level-triggered descriptor stays in the
  // kernel's ready list after each report and comes first in the next
  // batch whenever it is ready again, ahead of events that happened before
  // its own; edge-triggered ones come in the order their events happened.
  int add(int fd, Target* target);
  int add_input(int fd, Target* target);
  int add_level(int fd, Target* target);
  // Unregisters `fd` and forgets `target` in every batch being dispatched
  // (a target closed by an earlier event of the same batch gets no more).
  void remove(int fd, Target* target);

  // Waits up to `timeout_ms` (-1: no limit, 0: just look) and calls the
  // targets whose descriptors are ready; returns how many calls it made.
  // Reentrant: a target may call it again (nested polls), which first
  // calls the targets still waiting in the enclosing batches.
  int poll(int timeout_ms);

 private:
  static constexpr int kBatch = 128;
  int add_with(int fd, Target* target, uint32_t events);

  int epfd_ = -1;
  // The batches being dispatched (nested polls stack up), for remove()
  // and for nested polls.
  struct Batch {
    epoll_event* events;
    int size;
    int pos;  // the event being dispatched
  };
  // Calls the targets of batches_[b] after its pos; returns how many.
  int drain(size_t b);
  std::vector<Batch> batches_;
};

}  // namespace setd::net
