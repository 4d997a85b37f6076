// Small helpers shared by the command families.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>

#include "setd/cmd/command.hpp"

namespace setd::cmd {

// Case-insensitive ASCII comparison of an argument with a keyword.
bool is(std::string_view arg, std::string_view keyword);

// Replies with Redis's HELP layout: "<NAME> <subcommand> ..." then the given
// lines, then "HELP" / "    Prints this help.", each as a simple string.
void reply_help(Context& ctx, std::string_view container,
                std::initializer_list<std::string_view> lines);

// Parses an integer argument; on failure replies with Redis's error and
// returns false.
bool parse_ll(Context& ctx, std::string_view arg, long long& out);

// AUTH / HELLO AUTH: checks the pair and, if it matches an enabled user,
// makes the client that user, authenticated. A failure is logged to the ACL
// log (reason "auth"). Writes no reply.
bool authenticate(Context& ctx, std::string_view username, std::string_view password);

// The one builder of command specs. Each family's helper (client_sub,
// config_sub, tx_cmd, ...) only fixes what its commands share (container,
// docs group, ACL categories, key specs) and calls this.
CommandSpec make_command(std::string name, int arity, std::string flags, Handler h,
                         std::string group, std::string summary, std::string since,
                         std::string complexity, std::string args = "", std::string acl = "");

// Redis's addReplySubcommandSyntaxError: "unknown subcommand or wrong number
// of arguments for '<sub>'. Try <CONTAINER> HELP." (PUBSUB CHANNELS, CLIENT
// UNBLOCK with too many arguments).
void subcommand_syntax_error(Context& ctx);

// Redis's lookup flags for lookup_read (LOOKUP_NOTOUCH, LOOKUP_NONOTIFY,
// LOOKUP_NOSTATS): leave the LRU clock alone, skip the "keymiss"
// notification, skip the hit/miss counters.
enum LookupFlag : unsigned {
  kLookupNoTouch = 1u << 0,
  kLookupNoNotify = 1u << 1,
  kLookupNoStats = 1u << 2,
};

// Key lookups, as Redis's lookupKeyReadWithFlags / lookupKeyWrite: both
// apply lazy expiry and (unless kLookupNoTouch) stamp the value's LRU clock
// (OBJECT IDLETIME); the read form also counts keyspace hits/misses and
// emits the "keymiss" notification (class m) on a miss.
db::Value* lookup_read(Context& ctx, std::string_view key, unsigned flags = 0);
db::Value* lookup_write(Context& ctx, std::string_view key);
// lookup_write in another database than the client's (COPY/MOVE targets).
db::Value* lookup_write(db::Database& db, std::string_view key);

// Adds `key`, which must be missing (just looked up with lookup_write), to
// database `db_id` as Redis's dbAdd: announced with the "new" event (class
// n) before the command's own events, with TTL `expire_ms` (-1: none).
// Returns the stored value.
db::Value& add_key(Context& ctx, int db_id, std::string_view key, db::Object v,
                   int64_t expire_ms = -1);
inline db::Value& add_key(Context& ctx, std::string_view key, db::Object v) {
  return add_key(ctx, ctx.client.db, key, std::move(v));
}

// After a key changed: WATCH invalidation (Redis's signalModifiedKey), and
// one change counted (server.dirty; handlers that change several things at
// once add the rest with ctx.dirty()).
inline void key_modified(Context& ctx, std::string_view key) {
  ctx.server.signal_modified_key(ctx.client.db, key);
  ctx.dirty();
}
// Keyspace notification about `key` in the client's database.
inline void notify(Context& ctx, int type, std::string_view event, std::string_view key) {
  ctx.server.notify_keyspace_event(type, event, key, ctx.client.db);
}

// CLIENT LIST / CLIENT INFO line for one client (without the final '\n').
std::string client_info_line(const server::Client& c, int64_t now_ms);

}  // namespace setd::cmd
