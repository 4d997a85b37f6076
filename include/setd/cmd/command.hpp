// The command table's row: what a command is called, how many arguments it
// takes, its flags, ACL categories, key positions, documentation, and the
// handler that runs it.
//
// Dependency rule (module cmd): server, db, pubsub, ds, proto, base; never
// Asio and never raw bytes. Handlers read arguments from a Context and answer
// through its ReplyBuilder; data-structure operations return results and
// never write replies.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "setd/proto/reply_builder.hpp"
#include "setd/server/latency.hpp"
#include "setd/server/server_state.hpp"

namespace setd::cmd {

// Command flags, in the order Redis prints them in COMMAND INFO.
enum CommandFlag : uint32_t {
  kWrite = 1u << 0,
  kReadonly = 1u << 1,
  kDenyOom = 1u << 2,
  kModule = 1u << 3,
  kAdmin = 1u << 4,
  kPubSub = 1u << 5,
  kNoScript = 1u << 6,
  kBlocking = 1u << 7,
  kLoading = 1u << 8,
  kStale = 1u << 9,
  kSkipMonitor = 1u << 10,
  kSkipSlowlog = 1u << 11,
  kAsking = 1u << 12,
  kFast = 1u << 13,
  kNoAuth = 1u << 14,
  kMayReplicate = 1u << 15,
  kSentinel = 1u << 16,
  kOnlySentinel = 1u << 17,
  kNoMandatoryKeys = 1u << 18,
  kProtected = 1u << 19,
  kNoAsyncLoading = 1u << 20,
  kNoMulti = 1u << 21,
  kMovableKeys = 1u << 22,
  kAllowBusy = 1u << 23,
};
// Printed names of the flags above (sentinel and protected flags are never
// printed).
std::vector<std::string_view> flag_names(uint32_t flags);
uint32_t parse_flags(std::string_view words);  // "write denyoom fast"

// ACL categories, in Redis's order.
uint64_t parse_categories(std::string_view words);  // "@set @slow"
std::vector<std::string> category_names(uint64_t categories);

// Where keys are (Redis 7 key specs).
struct KeySpec {
  std::string flags;  // "RW access delete", printed in this order
  int begin_index = 1;
  bool keynum = false;  // find_keys: keynum (numkeys argument) instead of range
  int lastkey = 0;      // range: relative index of the last key (-1 = last argument)
  int keystep = 1;
  int limit = 0;
  int keynumidx = 0;      // keynum: where numkeys is, relative to begin_index
  int firstkey = 1;       // keynum: first key, relative to begin_index
  std::string notes;      // free text shown first in COMMAND INFO when set (SET, GETEX)
  uint8_t acl_perms = 0;  // derived: acl::kPermRead / kPermWrite the key needs
  bool not_key = false;   // derived: flag not_key (a shard channel, not a key)
  // begin_search and find_keys "unknown": the keys cannot be found from the
  // arguments alone (SORT's BY/GET patterns and STORE); such a spec finds
  // nothing by itself, and makes the command movablekeys.
  bool unknown = false;
};

// One documented argument (COMMAND DOCS), parsed from the compact syntax of
// CommandDoc::args.
struct ArgDoc {
  std::string name;
  std::string type;  // key string integer double pattern unix-time pure-token oneof block
  std::string token;
  std::string since;  // the version that added the argument ("" = always there)
  std::string deprecated_since;
  int key_spec_index = -1;
  bool optional = false;
  bool multiple = false;
  bool multiple_token = false;
  std::vector<ArgDoc> children;
};

struct CommandDoc {
  std::string summary;
  std::string since;
  std::string group;
  std::string complexity;
  // Argument syntax, e.g. "key [MATCH pattern:pattern] [COUNT count:integer]":
  //   word            a string argument named `word` ("key"-like names are keys)
  //   word:type       an argument of that type
  //   UPPER           a pure token
  //   TOKEN word      inside brackets: `word` introduced by TOKEN
  //   x...            may repeat
  //   [ ... ]         optional; ( ... ) required group
  //   a | b           alternatives (oneof); [name= a | b] names the group
  //   (name= x)       a block named `name` holding the single argument x
  //   [name= TOKEN a b]  a block introduced by TOKEN; also [name= TOKEN a] when
  //                   `name` differs from a's (CLIENT LIST's "id" block)
  //   (name= [a] | [b])...  a oneof of optional alternatives, repeatable
  //   x@7.0.0         the argument (or group) before '@' appeared in 7.0.0
  //   x@deprecated:2.8.12  ... and was deprecated in 2.8.12
  std::string args;
  // COMMAND DOCS "history": (version, what changed), oldest first.
  std::vector<std::pair<std::string, std::string>> history = {};
  // COMMAND DOCS "doc_flags" ("deprecated", "syscmd"), "deprecated_since" and
  // "replaced_by"; empty = not shown.
  std::vector<std::string> doc_flags = {};
  std::string deprecated_since = {};
  std::string replaced_by = {};
};

class Context;
class Dispatcher;
using Handler = void (*)(Context&);
// For a key spec flagged variable_flags: the access flags the arguments
// (the whole command line) give its keys (COMMAND GETKEYSANDFLAGS).
using KeyFlagsFn = std::vector<std::string_view> (*)(std::span<const std::string_view> args);
// For a command whose key specs cannot say where its keys are (Redis's
// getkeys_proc, e.g. sortGetKeys): appends the positions of the keys in
// `args` (the whole command line) and, for each, the index of the key spec
// whose flags apply. False if the arguments are malformed.
using GetKeysFn = bool (*)(std::span<const std::string_view> args, std::vector<size_t>& positions,
                           std::vector<size_t>* specs);

struct CommandStats {
  uint64_t calls = 0;
  uint64_t usec = 0;
  uint64_t rejected_calls = 0;
  uint64_t failed_calls = 0;
  // latency-tracking: the durations of its calls (INFO latencystats,
  // LATENCY HISTOGRAM); allocated on the first call.
  server::CommandHistogram histogram;
};

struct CommandSpec {
  std::string name;  // lower case; "client|list" for a subcommand
  int arity = 0;     // >0 exact argc, <0 at least -arity
  std::string flags;
  std::string acl;  // extra ACL categories beyond those implied by flags
  std::vector<KeySpec> keys;
  Handler handler = nullptr;
  CommandDoc doc;
  std::vector<std::string> tips;
  std::vector<CommandSpec> subcommands;
  KeyFlagsFn variable_key_flags = nullptr;
  GetKeysFn get_keys = nullptr;
  // Adjusts the argument docs parsed from doc.args, for what the compact
  // syntax cannot say (a pattern argument tied to a key spec, a named pure
  // token); runs at the end of finalize().
  void (*adjust_docs)(std::vector<ArgDoc>& args) = nullptr;

  // Derived by finalize(): bitmasks, legacy key range, parsed argument docs.
  uint32_t flag_bits = 0;
  uint64_t category_bits = 0;
  int first_key = 0, last_key = 0, key_step = 0;
  std::vector<ArgDoc> arg_docs;
  std::string container;  // parent's name for a subcommand
  int acl_id = -1;        // id in acl::Catalog::redis() (set by the Registry)
  // Channels it names, for ACL (Redis's commands_with_channels table).
  enum class Channels : uint8_t { kNone, kSubscribe, kPatternSubscribe, kPublish };
  Channels acl_channels = Channels::kNone;
  mutable CommandStats stats;

  void finalize(const std::string& parent = "");
  const CommandSpec* find_subcommand(std::string_view lower_name) const;
  bool has(uint32_t flag) const { return (flag_bits & flag) != 0; }
  // Keys named by `args` per the key specs; false if args are malformed.
  // With `specs`, the index in `keys` of the spec that found each position.
  // The ACL permissions (acl::kPermRead / kPermWrite) the key found by key
  // spec `spec` needs with these arguments: the spec's own, or for a
  // variable_flags spec what the command's rule says (SET ... GET reads).
  uint8_t key_acl_perms(size_t spec, std::span<const std::string_view> args) const;
  bool extract_keys(std::span<const std::string_view> args, std::vector<size_t>& positions,
                    std::vector<size_t>* specs = nullptr) const;
};

// Parses CommandDoc::args syntax; throws std::invalid_argument on a typo.
std::vector<ArgDoc> parse_arg_syntax(std::string_view syntax);

// What a handler sees.
class Context {
 public:
  Context(Dispatcher& d, server::ServerState& s, server::Client& c,
          std::span<const std::string_view> a, const CommandSpec& sp)
      : dispatcher(d), server(s), client(c), args(a), spec(sp), rb(c.reply) {}

  Dispatcher& dispatcher;
  server::ServerState& server;
  server::Client& client;
  std::span<const std::string_view> args;
  const CommandSpec& spec;
  proto::ReplyBuilder& rb;

  db::Database& db() { return server.db(client.db); }
  size_t argc() const { return args.size(); }
  std::string_view arg(size_t i) const { return args[i]; }

  // Common error replies (Redis 7.0 texts).
  void syntax_error() { rb.error("ERR syntax error"); }
  void wrong_type() {
    rb.error("WRONGTYPE Operation against a key holding the wrong kind of value");
  }
  void not_integer() { rb.error("ERR value is not an integer or out of range"); }
  void wrong_args() { rb.error("ERR wrong number of arguments for '" + spec.name + "' command"); }

  // What call() propagates (AOF, replicas) after the handler. By default a
  // command that changed something (server.dirty moved) propagates its own
  // arguments; a handler may say otherwise, as Redis's
  // rewriteClientCommandVector / preventCommandPropagation /
  // forceCommandPropagation / alsoPropagate do.
  void propagate_as(std::vector<std::string> argv) { propagate_args_ = std::move(argv); }
  void prevent_propagation() { prevent_propagation_ = true; }
  void force_propagation(uint8_t targets) { forced_targets_ |= targets; }
  // An extra effect in the client's database, queued now (so before the
  // command's own).
  void also_propagate(std::vector<std::string> argv) {
    server.also_propagate(client.db, std::move(argv));
  }
  // Counts `n` changes (server.dirty).
  void dirty(uint64_t n = 1) { server.dirty += n; }
  // Hides argument `i` from MONITOR and SLOWLOG: they show "(redacted)"
  // (Redis's redactClientCommandArgument; AUTH, HELLO AUTH, CONFIG SET of
  // secrets, ACL SETUSER).
  void redact(size_t i);

 private:
  friend class Dispatcher;
  std::optional<std::vector<std::string>> propagate_args_;
  bool prevent_propagation_ = false;
  uint8_t forced_targets_ = 0;
};

}  // namespace setd::cmd
