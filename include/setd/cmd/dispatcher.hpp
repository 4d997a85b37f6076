// The command table and the one place commands are run from.
//
// dispatch() does, in Redis's order: look the command up (subcommands too),
// check arity, DEBUG's protection, authentication (NOAUTH), ACL permissions
// (NOPERM, logged), disk errors (MISCONF), min-replicas-to-write
// (NOREPLICAS), a read-only replica (READONLY), refuse what a RESP2
// subscriber may not run, a replica without its master
// (replica-serve-stale-data no: MASTERDOWN), queue inside MULTI, then call
// the handler and account for it (commandstats, errorstats, CLIENT REPLY
// modes). Our master's commands skip every check but the lookup.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "setd/cmd/command.hpp"
#include "setd/repl/replication.hpp"

namespace setd::cmd {

class Registry {
 public:
  // Adds a command (finalizing it). Throws on a duplicate or a malformed spec.
  void add(CommandSpec spec);
  // Case-insensitive lookup of a top-level command; nullptr if unknown.
  const CommandSpec* find(std::string_view name) const;
  // "client|list" style lookup; nullptr if unknown.
  const CommandSpec* find_full(std::string_view fullname) const;
  const std::vector<std::unique_ptr<CommandSpec>>& all() const { return commands_; }

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::vector<std::unique_ptr<CommandSpec>> commands_;
  std::unordered_map<std::string, const CommandSpec*, Hash, std::equal_to<>> by_name_;
};

// Every command family registers itself here (one table per family).
void register_connection_commands(Registry& r);
void register_server_commands(Registry& r);
void register_introspection_commands(Registry& r);
void register_keyspace_commands(Registry& r);     // keys_family.cpp
void register_string_commands(Registry& r);       // string_family.cpp
void register_bit_commands(Registry& r);          // bits_family.cpp (bitmaps, LCS)
void register_transaction_commands(Registry& r);  // transaction_family.cpp
void register_set_commands(Registry& r);          // set_family.cpp
void register_sort_commands(Registry& r);         // sort_family.cpp (SORT, SORT_RO)
void register_pubsub_commands(Registry& r);       // pubsub_family.cpp
void register_persistence_commands(Registry& r);  // persistence_family.cpp
void register_acl_commands(Registry& r);          // acl_family.cpp (AUTH, ACL)
void register_replication_commands(Registry& r);  // repl_family.cpp
void register_memory_commands(Registry& r);       // memory_family.cpp (MEMORY)
void register_instruments_commands(Registry& r);  // instruments_family.cpp (SLOWLOG,
                                                  // LATENCY, MONITOR)
void register_all_commands(Registry& r);

// INFO's memory section, Redis 7.0's fields in order (memory_family.cpp).
void info_memory_section(std::string& out, server::ServerState& s, const repl::Replication& r);

// Ends `c`'s transaction: forgets the queued commands, the MULTI state and
// every WATCHed key (Redis's discardTransaction; transaction_family.cpp).
void discard_transaction(server::ServerState& state, server::Client& c);

class Dispatcher final : public server::CommandExecutor {
 public:
  explicit Dispatcher(server::ServerState& state);
  ~Dispatcher() override;

  // Runs one request for `client`; replies are appended to client.out.
  void dispatch(server::Client& client, std::span<const std::string_view> args);

  // Runs an already-validated command (used by EXEC): no lookup, no
  // queueing, but stats are kept. client.last_cmd is left alone (dispatch()
  // sets it, so that during and after EXEC it reads "exec", as in Redis).
  // `targets` masks where its effects go (a script's redis.set_repl).
  void call(server::Client& client, const CommandSpec& spec, std::span<const std::string_view> args,
            uint8_t targets = server::kToAll);

  // Resolves args to a spec, writing the error reply if that fails.
  const CommandSpec* resolve(server::Client& client, std::span<const std::string_view> args);

  // ACL: may `user` run `spec` with `args` (command, keys, channels)?
  // On a denial, `pos` gets the argument that failed (key or channel).
  acl::Verdict acl_check(const acl::User& user, const CommandSpec& spec,
                         std::span<const std::string_view> args, size_t& pos);
  // Adds a denial to the ACL log, as Redis's addACLLogEntry.
  void acl_log(server::Client& client, acl::Verdict verdict, acl::LogContext context,
               const CommandSpec& spec, std::span<const std::string_view> args, size_t pos);

  // Argument `i` of the command running now is shown as "(redacted)" by
  // MONITOR and SLOWLOG (Context::redact).
  void redact(size_t i) { redacted_.push_back(i); }

  // True while EXEC runs its queued commands.
  bool in_exec() const { return call_depth_ > 1; }

  // server::CommandExecutor: AOF replay (no MISCONF, no propagation).
  std::string execute_for_load(server::Client& c, const std::vector<std::string>& args) override;

  const Registry& registry() const { return registry_; }
  // For the families that live above this module (script): they add their
  // commands at start-up.
  Registry& mutable_registry() { return registry_; }
  server::ServerState& state() { return state_; }
  // Replication (both roles): the stream's sink, REPLICAOF, PSYNC, WAIT...
  repl::Replication& replication() { return *replication_; }

 private:
  // maxmemory (Redis's processCommand): evicts what the policy allows,
  // then false if the command must be refused with -OOM.
  // maxmemory-clients before a command: counts the client's memory, evicts
  // the biggest clients while over the limit; true when `client` was one.
  bool evicted_before_command(server::Client& client);
  bool evict_or_allow(server::Client& client, const CommandSpec& spec, std::string_view base_name,
                      bool from_master);
  void reject(server::Client& client, const CommandSpec* spec, const std::string& error);
  // What call() does once a command ran, as Redis's call(): the latency
  // monitor's "command" / "fast-command" sample, the slow log, MONITOR, the
  // command's latency histogram. `redact_from`: where this call's
  // redactions start in redacted_.
  void instruments_after_call(server::Client& client, const CommandSpec& spec,
                              std::span<const std::string_view> args, int64_t elapsed_us,
                              size_t redact_from);
  // The arguments MONITOR and SLOWLOG show: `args`, with this call's
  // redactions (from `redact_from`) replaced by "(redacted)".
  std::span<const std::string_view> shown_args(std::span<const std::string_view> args,
                                               size_t redact_from);
  // Adds the error replies written since `before` to errorstats.
  uint64_t account_errors(server::Client& client, uint64_t before);
  // Client-side caching after a read-only command (Redis's call()):
  // remembers the keys `client` read, or inside a script the keys the
  // script declared, for its caller.
  void track_keys_read(server::Client& client, const CommandSpec& spec,
                       std::span<const std::string_view> args);

  server::ServerState& state_;
  std::unique_ptr<repl::Replication> replication_;
  Registry registry_;
  const CommandSpec* exec_spec_ = nullptr;  // EXEC, which manages its own replies
  uint64_t accounted_errors_ = 0;
  // The client's error count when the latest call() started or ended: a
  // command failed if it wrote an error after that (Redis's prev_err_count,
  // so EXEC fails only for errors after the last command it ran). It is
  // `failed_client_`'s count: a nested call() for another client (a
  // script's redis.call) leaves the outer command's mark as it was.
  uint64_t failed_mark_ = 0;
  const server::Client* failed_client_ = nullptr;
  int call_depth_ = 0;  // call() nesting: EXEC runs its commands through call()
  // The innermost command a client (not a script's own client) runs: a
  // script's caller and its EVAL / FCALL (client-side caching).
  struct Frame {
    server::Client* client = nullptr;
    const CommandSpec* spec = nullptr;
    std::span<const std::string_view> args;
  };
  Frame frame_;
  std::vector<size_t> key_positions_;           // scratch for extract_keys()
  std::vector<size_t> key_specs_;               // scratch for extract_keys()
  std::vector<std::string_view> tracked_keys_;  // scratch for track_keys_read()
  std::vector<acl::KeyRef> acl_keys_;           // scratch for acl_check()
  std::vector<acl::ChannelRef> acl_channels_;
  std::vector<size_t> redacted_;              // Context::redact() positions, per call() level
  std::vector<std::string_view> shown_args_;  // scratch for shown_args()
};

}  // namespace setd::cmd
