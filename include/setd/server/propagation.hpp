// The propagation stream: the effects of writes, as command lines to replay,
// in the order they happened. The AOF appends them to its file; replicas
// (later) receive them. Commands never write to either themselves: the
// dispatcher's call() (Redis's call()) decides what a command propagates,
// and ServerState::propagate_pending() hands it to every sink.
//
// Dependency rule (module server): db, pubsub, proto, persist, base; never
// Asio.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace setd::server {

// Who receives an effect (Redis's PROPAGATE_AOF / PROPAGATE_REPL).
enum PropagateTarget : uint8_t {
  kToAof = 1u << 0,
  kToReplicas = 1u << 1,
  kToAll = kToAof | kToReplicas,
};

// One effect: a command line to replay in database `db`.
struct PropagatedOp {
  int db = 0;
  std::vector<std::string> args;
  uint8_t targets = kToAll;
};

// Receives effects in order. A sink keeps its own idea of the selected
// database and emits SELECT when `db` changes.
class PropagationSink {
 public:
  virtual ~PropagationSink() = default;
  virtual void feed(int db, std::span<const std::string> args) = 0;
};

}  // namespace setd::server
