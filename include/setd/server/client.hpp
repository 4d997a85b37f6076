// A client session: everything the server knows about one connection that
// is not bytes on a socket (database, protocol version, name, transaction and
// subscription state, the reply buffer).
//
// Dependency rule (module server): acl, db, persist, pubsub, proto, base; never Asio. The
// network layer implements ClientTransport so that commands can wake or close
// any connection without knowing what a socket is.
#pragma once

#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "setd/proto/reply_builder.hpp"
#include "setd/pubsub/hub.hpp"

namespace setd::acl {
class User;
}

namespace setd::server {

class Client;

// Implemented by the network layer for each connection.
class ClientTransport {
 public:
  virtual ~ClientTransport() = default;
  // Output was appended to the client's buffer outside of its own command
  // (a published message): schedule a write.
  virtual void wake() = 0;
  // Close the connection as soon as possible (ServerState::close_async).
  virtual void close_soon() = 0;
  // The client is idle: give buffer memory back (the cron calls this).
  virtual void trim_buffers() = 0;
  // The client was blocked (Client::blocked, e.g. WAIT) and is no longer:
  // send what it has and run the requests that waited.
  virtual void unblock() = 0;
};

// Bytes from a connection that are not requests: the replication handshake
// and image a master sends (repl module). consume() takes what it can use
// and returns how many bytes that was; the rest is offered again with more.
// Once the handler clears Client::raw_input, the remaining bytes are parsed
// as requests.
class RawInput {
 public:
  virtual ~RawInput() = default;
  virtual size_t consume(Client& c, std::string_view data) = 0;
};

// A client's part in replication.
enum class ReplRole : uint8_t {
  kNone,
  kReplica,  // a replica of ours (it sent SYNC / PSYNC)
  kMaster,   // our master's link (outbound)
};

enum class ReplyMode : uint8_t { kOn, kOff, kSkipNext, kSkipThis };

// One queued command inside MULTI: owned copies of the arguments.
struct QueuedCommand {
  std::vector<std::string> args;
};

class Client final : public pubsub::Subscriber {
 public:
  Client(uint64_t id, int64_t now_ms) : ctime_ms(now_ms), last_interaction_ms(now_ms), id_(id) {}
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  uint64_t id() const { return id_; }
  // A connection from the loopback interface (Redis's islocalClient).
  bool is_local() const {
    return addr.starts_with("127.0.0.1:") || addr.starts_with("[::1]:") || addr.empty();
  }
  // The peer's address without the port (and without the brackets `addr`
  // puts around an IPv6 address, as Redis's connPeerToString).
  std::string ip() const {
    std::string ip = addr.substr(0, addr.rfind(':'));
    if (ip.size() >= 2 && ip.front() == '[' && ip.back() == ']') ip = ip.substr(1, ip.size() - 2);
    return ip;
  }
  int resp() const { return reply.resp(); }
  void set_resp(int v) { reply.set_resp(v); }

  // Identity, shown by CLIENT LIST / CLIENT INFO.
  std::string addr;   // "ip:port" of the peer
  std::string laddr;  // "ip:port" of our end
  int fd = -1;
  std::string name;
  std::string lib_name;
  std::string lib_ver;
  int64_t ctime_ms;
  int64_t last_interaction_ms;
  std::string last_cmd = "NULL";  // full name of the last command ("client|list")

  int db = 0;

  // ACL: the user the client runs as (the default user until AUTH / HELLO
  // AUTH), and whether it has authenticated (a connection is authenticated
  // from the start while the default user needs no password).
  acl::User* user = nullptr;
  bool authenticated = false;

  // Reply buffer: handlers write through `reply`, the network layer drains
  // `out`. `reply` always points at `out`.
  std::string out;
  proto::ReplyBuilder reply{&out, 2};
  ReplyMode reply_mode = ReplyMode::kOn;

  // Replication: its role, and while our master's link is handshaking or
  // sending its image, who takes its bytes.
  ReplRole repl_role = ReplRole::kNone;
  RawInput* raw_input = nullptr;
  // Blocked (WAIT): no more of its requests run until transport->unblock().
  bool blocked = false;
  // master_repl_offset after the latest write this client made (WAIT).
  int64_t woff = 0;

  // MONITOR: the client receives every command run (and may then only run
  // commands that do not touch the keyspace). `script_client`: the client
  // scripts run their commands as ("[0 lua]" in MONITOR).
  bool monitor = false;
  bool script_client = false;

  // Connection fate.
  // Running a script that lets other clients in (busy-reply-threshold):
  // its connection may not go away until the script ends; a close waits
  // (Redis's protectClient).
  bool protected_from_close = false;
  bool close_after_reply = false;  // QUIT, protocol error
  bool killed = false;             // CLIENT KILL / output buffer limit

  // MULTI/EXEC.
  bool in_multi = false;
  bool multi_error = false;    // a command failed to queue: EXEC aborts
  bool dirty_cas = false;      // a WATCHed key changed: EXEC returns null
  bool multi_write = false;    // a write command is queued (MISCONF refuses EXEC)
  bool multi_denyoom = false;  // a deny-oom command is queued (OOM refuses EXEC)
  // A write or may-replicate command is queued (CLIENT PAUSE WRITE holds EXEC).
  bool multi_may_replicate = false;
  // Its last request waits for CLIENT PAUSE to end (Redis's BLOCKED_POSTPONE):
  // the transport keeps it unread and runs it again when unblocked.
  bool postponed = false;
  std::vector<QueuedCommand> multi_queue;
  std::vector<std::pair<int, std::string>> watched;  // (db, key)

  // Pub/Sub. The sets mirror what the hubs know about this client (the
  // pubsub command family and ServerState::drop_subscriptions keep them in
  // sync): channels and patterns in ServerState::hub(), shard channels
  // (SSUBSCRIBE) in ServerState::shard_hub().
  std::unordered_set<std::string> channels;
  std::unordered_set<std::string> patterns;
  // `patterns` in subscription order: Redis 7.0 keeps a client's patterns in
  // a list, and PUNSUBSCRIBE without arguments drops them in that order.
  std::vector<std::string> pattern_order;
  std::unordered_set<std::string> shard_channels;
  // Every subscription, shard channels included (Redis's
  // clientTotalPubSubSubscriptionCount): decides the pub/sub client class.
  size_t subscriptions() const { return channels.size() + patterns.size() + shard_channels.size(); }
  // RESP2 clients with subscriptions may only run (P)SUBSCRIBE & co.
  bool in_pubsub_mode() const { return resp() < 3 && subscriptions() > 0; }
  // The subscriber the shard hub delivers to: writes "smessage" pushes.
  pubsub::Subscriber* shard_subscriber() { return &shard_endpoint_; }

  // Client-side caching (CLIENT TRACKING): this client's mode, as Redis's
  // CLIENT_TRACKING* flags. The tables live in ServerState::tracking().
  struct TrackingMode {
    bool on = false;
    bool bcast = false;
    bool optin = false;
    bool optout = false;
    bool caching = false;  // CLIENT CACHING yes|no for the next command
    bool noloop = false;
    bool broken_redirect = false;    // the redirect client went away
    uint64_t redirect = 0;           // 0: none
    std::set<std::string> prefixes;  // BCAST prefixes, in byte order
  };
  TrackingMode tracking;

  // Pushes (pub/sub confirmations and messages) reach the client even while
  // CLIENT REPLY OFF|SKIP drops its replies, as in Redis 7.0. While the
  // dispatcher runs a command whose replies it will drop it sets
  // `keep_pushes`; every push written meanwhile then records its byte range
  // in `kept_pushes`, and the dispatcher keeps those bytes.
  bool keep_pushes = false;
  std::vector<std::pair<size_t, size_t>> kept_pushes;
  // Bracket the writing of one push: start = begin_push(); ...; end_push(start).
  size_t begin_push() const { return out.size(); }
  void end_push(size_t start) {
    if (keep_pushes) kept_pushes.emplace_back(start, out.size());
  }

  // Figures the network layer keeps current for CLIENT LIST and INFO.
  size_t query_buffer_len = 0;
  size_t query_buffer_cap = 0;
  size_t pending_write = 0;        // bytes handed to the socket, not yet written
  int64_t obuf_soft_since_ms = 0;  // when the soft output limit was first exceeded

  ClientTransport* transport = nullptr;

  // Total bytes of output not yet written (buffer + in-flight write).
  size_t output_bytes() const { return out.size() + pending_write; }

  // What the client costs, as Redis's getClientMemoryUsage counts it: the
  // client itself, its buffers, its queued transaction and its
  // subscriptions' pointers (CLIENT LIST tot-mem, maxmemory-clients).
  size_t memory_usage() const;

  // maxmemory-clients (server/server_state.hpp, ServerState::note_client_memory):
  // CLIENT NO-EVICT; the memory last counted for the client in the
  // clients' total (while `memory_counted`); its Redis bucket
  // (log2 of that memory, from 32 KB) and when it entered it, which order
  // the victims.
  bool no_evict = false;
  bool memory_counted = false;
  size_t counted_memory = 0;
  int memory_bucket = -1;
  uint64_t memory_bucket_seq = 0;

  // pubsub::Subscriber: appends a "message"/"pmessage" (RESP3 push) to the
  // reply buffer and wakes the connection. Nothing once the client is killed.
  void deliver(std::string_view pattern, std::string_view channel,
               std::string_view payload) override;

 private:
  // Receives shard-channel messages on behalf of its client.
  class ShardEndpoint final : public pubsub::Subscriber {
   public:
    explicit ShardEndpoint(Client* owner) : owner_(owner) {}
    // Appends an "smessage" push to the owner's buffer (pattern is unused).
    void deliver(std::string_view pattern, std::string_view channel,
                 std::string_view payload) override;

   private:
    Client* owner_;
  };

  // Appends one message push: kind ("message", "pmessage", "smessage"),
  // the pattern (only when non-empty), channel and payload; wakes the
  // connection.
  void push_message(std::string_view kind, std::string_view pattern, std::string_view channel,
                    std::string_view payload);

  uint64_t id_;
  ShardEndpoint shard_endpoint_{this};
};

}  // namespace setd::server
