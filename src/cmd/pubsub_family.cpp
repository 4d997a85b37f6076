// Pub/Sub commands: SUBSCRIBE, UNSUBSCRIBE, PSUBSCRIBE, PUNSUBSCRIBE,
// PUBLISH, the sharded SSUBSCRIBE / SUNSUBSCRIBE / SPUBLISH, and the PUBSUB
// container (CHANNELS, NUMSUB, NUMPAT, SHARDCHANNELS, SHARDNUMSUB, HELP).
//
// Redis 7.0 semantics: every (un)subscription is confirmed by its own push
// ["subscribe", channel, count], where count is the client's channel+pattern
// subscriptions (shard channels count apart, for the S* commands). Without
// arguments the unsubscribe commands drop everything, and when there was
// nothing they still answer once, with a null channel. Shard channels are a
// namespace of their own (as Redis outside cluster mode): SPUBLISH reaches
// only SSUBSCRIBE subscribers, with "smessage", and patterns never see them.
// Confirmations are pushes, so CLIENT REPLY OFF|SKIP does not hide them.
#include <algorithm>
#include <cctype>
#include <string>
#include <unordered_set>
#include <vector>

#include "setd/cmd/dispatcher.hpp"
#include "setd/cmd/util.hpp"

namespace setd::cmd {

namespace {

using server::Client;

// Channel + pattern subscriptions: the count SUBSCRIBE & co. report.
size_t channel_pattern_count(const Client& c) { return c.channels.size() + c.patterns.size(); }

// One confirmation push: [kind, channel, count]; a null channel when
// `channel` is nullptr (unsubscribing everything from nothing).
void confirm(Client& c, std::string_view kind, const std::string_view* channel, size_t count) {
  const size_t start = c.begin_push();
  c.reply.push(3);
  c.reply.bulk(kind);
  if (channel)
    c.reply.bulk(*channel);
  else
    c.reply.null();
  c.reply.integer(static_cast<long long>(count));
  c.end_push(start);
}

// Which subscription namespace a command works on.
enum class Kind { kChannel, kPattern, kShard };

std::unordered_set<std::string>& names_of(Client& c, Kind k) {
  switch (k) {
    case Kind::kChannel:
      return c.channels;
    case Kind::kPattern:
      return c.patterns;
    case Kind::kShard:
      break;
  }
  return c.shard_channels;
}

size_t count_for(const Client& c, Kind k) {
  return k == Kind::kShard ? c.shard_channels.size() : channel_pattern_count(c);
}

// Adds `name` to the client's set and to the hub; nothing if already there.
void add_subscription(Context& ctx, Kind k, std::string_view name) {
  Client& c = ctx.client;
  if (!names_of(c, k).emplace(name).second) return;
  switch (k) {
    case Kind::kChannel:
      ctx.server.hub().subscribe(&c, name);
      break;
    case Kind::kPattern:
      ctx.server.hub().psubscribe(&c, name);
      c.pattern_order.emplace_back(name);
      break;
    case Kind::kShard:
      ctx.server.shard_hub().subscribe(c.shard_subscriber(), name);
      break;
  }
}

// Removes `name` from the client's set and from the hub, if it was there.
void remove_subscription(Context& ctx, Kind k, std::string_view name) {
  Client& c = ctx.client;
  auto& names = names_of(c, k);
  auto it = names.find(std::string(name));
  if (it == names.end()) return;
  switch (k) {
    case Kind::kChannel:
      ctx.server.hub().unsubscribe(&c, name);
      break;
    case Kind::kPattern:
      ctx.server.hub().punsubscribe(&c, name);
      std::erase(c.pattern_order, name);
      break;
    case Kind::kShard:
      ctx.server.shard_hub().unsubscribe(c.shard_subscriber(), name);
      break;
  }
  names.erase(it);
}

// (P|S)SUBSCRIBE name...: subscribes to each, confirming each.
void subscribe_generic(Context& ctx, Kind k, std::string_view kind) {
  for (size_t i = 1; i < ctx.argc(); ++i) {
    const std::string_view name = ctx.arg(i);
    add_subscription(ctx, k, name);
    confirm(ctx.client, kind, &name, count_for(ctx.client, k));
  }
}

// (P|S)UNSUBSCRIBE [name...]: the named subscriptions, or all of them; one
// confirmation per name, or a single one with a null name when there was
// nothing to drop.
void unsubscribe_generic(Context& ctx, Kind k, std::string_view kind) {
  Client& c = ctx.client;
  if (ctx.argc() > 1) {
    for (size_t i = 1; i < ctx.argc(); ++i) {
      const std::string_view name = ctx.arg(i);
      remove_subscription(ctx, k, name);
      confirm(c, kind, &name, count_for(c, k));
    }
    return;
  }
  auto& names = names_of(c, k);
  if (names.empty()) {
    confirm(c, kind, nullptr, count_for(c, k));
    return;
  }
  // Patterns in subscription order, as Redis; channels in hash order (Redis
  // walks a dict there, whose order is not defined either).
  const std::vector<std::string> all =
      k == Kind::kPattern ? c.pattern_order : std::vector<std::string>(names.begin(), names.end());
  for (const std::string& name : all) {
    remove_subscription(ctx, k, name);
    const std::string_view view = name;
    confirm(c, kind, &view, count_for(c, k));
  }
}

void subscribe(Context& ctx) { subscribe_generic(ctx, Kind::kChannel, "subscribe"); }
void psubscribe(Context& ctx) { subscribe_generic(ctx, Kind::kPattern, "psubscribe"); }
void ssubscribe(Context& ctx) { subscribe_generic(ctx, Kind::kShard, "ssubscribe"); }
void unsubscribe(Context& ctx) { unsubscribe_generic(ctx, Kind::kChannel, "unsubscribe"); }
void punsubscribe(Context& ctx) { unsubscribe_generic(ctx, Kind::kPattern, "punsubscribe"); }
void sunsubscribe(Context& ctx) { unsubscribe_generic(ctx, Kind::kShard, "sunsubscribe"); }

// PUBLISH channel message: the number of deliveries.
// Replicas get every message (not the AOF), as Redis: subscribers of a
// replica, Sentinel's hello channel among them, hear what the master hears.
void publish(Context& ctx) {
  ctx.force_propagation(server::kToReplicas);
  ctx.rb.integer(static_cast<long long>(ctx.server.hub().publish(ctx.arg(1), ctx.arg(2))));
}

// SPUBLISH shardchannel message: the number of shard subscribers reached.
void spublish(Context& ctx) {
  ctx.force_propagation(server::kToReplicas);
  ctx.rb.integer(static_cast<long long>(ctx.server.shard_hub().publish(ctx.arg(1), ctx.arg(2))));
}

// PUBSUB (SHARD)CHANNELS [pattern]: active channels of `hub`.
void channels_of(Context& ctx, const pubsub::Hub& hub) {
  if (ctx.argc() > 3) {
    subcommand_syntax_error(ctx);
    return;
  }
  const auto names = hub.channels(ctx.argc() == 3 ? ctx.arg(2) : std::string_view());
  ctx.rb.array(names.size());
  for (const auto& n : names) ctx.rb.bulk(n);
}

// PUBSUB (SHARD)NUMSUB [channel...]: flat [channel, count, ...] (an array in
// RESP3 too, as Redis 7.0 answers).
void numsub_of(Context& ctx, const pubsub::Hub& hub) {
  ctx.rb.array(2 * (ctx.argc() - 2));
  for (size_t i = 2; i < ctx.argc(); ++i) {
    ctx.rb.bulk(ctx.arg(i));
    ctx.rb.integer(static_cast<long long>(hub.numsub(ctx.arg(i))));
  }
}

void pubsub_channels(Context& ctx) { channels_of(ctx, ctx.server.hub()); }
void pubsub_shardchannels(Context& ctx) { channels_of(ctx, ctx.server.shard_hub()); }
void pubsub_numsub(Context& ctx) { numsub_of(ctx, ctx.server.hub()); }
void pubsub_shardnumsub(Context& ctx) { numsub_of(ctx, ctx.server.shard_hub()); }
void pubsub_numpat(Context& ctx) {
  ctx.rb.integer(static_cast<long long>(ctx.server.hub().numpat()));
}

void pubsub_help(Context& ctx) {
  reply_help(ctx, "pubsub",
             {"CHANNELS [<pattern>]",
              "    Return the currently active channels matching a <pattern> (default: '*').",
              "NUMPAT", "    Return number of subscriptions to patterns.", "NUMSUB [<channel> ...]",
              "    Return the number of subscribers for the specified channels, excluding",
              "    pattern subscriptions(default: no channels).", "SHARDCHANNELS [<pattern>]",
              "    Return the currently active shard level channels matching a <pattern> "
              "(default: '*').",
              "SHARDNUMSUB [<shardchannel> ...]",
              "    Return the number of subscribers for the specified shard level channel(s)"});
}

// A PUBSUB subcommand row.
CommandSpec pubsub_sub(std::string name, int arity, std::string flags, Handler h,
                       std::string summary, std::string since, std::string complexity,
                       std::string args) {
  return make_command("pubsub|" + name, arity, std::move(flags), h, "pubsub", std::move(summary),
                      std::move(since), std::move(complexity), std::move(args));
}

// Key spec of the shard commands: channel names sit where keys would
// (cluster slot routing) but are not keys.
KeySpec shard_channels_spec(int lastkey) {
  return KeySpec{.flags = "not_key", .begin_index = 1, .lastkey = lastkey};
}

}  // namespace

void register_pubsub_commands(Registry& r) {
  r.add({.name = "subscribe",
         .arity = -2,
         .flags = "pubsub noscript loading stale",
         .handler = subscribe,
         .doc = {"Listen for messages published to the given channels", "2.0.0", "pubsub",
                 "O(N) where N is the number of channels to subscribe to.", "channel..."}});
  r.add({.name = "unsubscribe",
         .arity = -1,
         .flags = "pubsub noscript loading stale",
         .handler = unsubscribe,
         .doc = {"Stop listening for messages posted to the given channels", "2.0.0", "pubsub",
                 "O(N) where N is the number of clients already subscribed to a channel.",
                 "[channel...]"}});
  r.add({.name = "psubscribe",
         .arity = -2,
         .flags = "pubsub noscript loading stale",
         .handler = psubscribe,
         .doc = {"Listen for messages published to channels matching the given patterns", "2.0.0",
                 "pubsub",
                 "O(N) where N is the number of patterns the client is already subscribed to.",
                 "(pattern= pattern:pattern)..."}});
  r.add({.name = "punsubscribe",
         .arity = -1,
         .flags = "pubsub noscript loading stale",
         .handler = punsubscribe,
         .doc = {"Stop listening for messages posted to channels matching the given patterns",
                 "2.0.0", "pubsub",
                 "O(N+M) where N is the number of patterns the client is already subscribed and M "
                 "is the number of total patterns subscribed in the system (by any client).",
                 "[pattern:pattern...]"}});
  r.add({.name = "publish",
         .arity = 3,
         .flags = "pubsub loading stale fast may_replicate",
         .handler = publish,
         .doc = {"Post a message to a channel", "2.0.0", "pubsub",
                 "O(N+M) where N is the number of clients subscribed to the receiving channel and "
                 "M is the total number of subscribed patterns (by any client).",
                 "channel message"}});
  r.add({.name = "ssubscribe",
         .arity = -2,
         .flags = "pubsub noscript loading stale",
         .keys = {shard_channels_spec(-1)},
         .handler = ssubscribe,
         .doc = {"Listen for messages published to the given shard channels", "7.0.0", "pubsub",
                 "O(N) where N is the number of shard channels to subscribe to.",
                 "shardchannel..."}});
  r.add(
      {.name = "sunsubscribe",
       .arity = -1,
       .flags = "pubsub noscript loading stale",
       .keys = {shard_channels_spec(-1)},
       .handler = sunsubscribe,
       .doc = {"Stop listening for messages posted to the given shard channels", "7.0.0", "pubsub",
               "O(N) where N is the number of clients already subscribed to a shard channel.",
               "[shardchannel...]"}});
  r.add({.name = "spublish",
         .arity = 3,
         .flags = "pubsub loading stale fast may_replicate",
         .keys = {shard_channels_spec(0)},
         .handler = spublish,
         .doc = {"Post a message to a shard channel", "7.0.0", "pubsub",
                 "O(N) where N is the number of clients subscribed to the receiving shard channel.",
                 "shardchannel message"}});

  CommandSpec pubsub{
      .name = "pubsub",
      .arity = -2,
      .flags = "",
      .handler = nullptr,
      .doc = {"A container for Pub/Sub commands", "2.8.0", "pubsub", "Depends on subcommand.", ""}};
  pubsub.subcommands = {
      pubsub_sub("help", 2, "loading stale", pubsub_help,
                 "Show helpful text about the different subcommands", "6.2.0", "O(1)", ""),
      pubsub_sub("numpat", 2, "pubsub loading stale", pubsub_numpat,
                 "Get the count of unique patterns pattern subscriptions", "2.8.0", "O(1)", ""),
      pubsub_sub("numsub", -2, "pubsub loading stale", pubsub_numsub,
                 "Get the count of subscribers for channels", "2.8.0",
                 "O(N) for the NUMSUB subcommand, where N is the number of requested channels",
                 "[channel...]"),
      pubsub_sub("channels", -2, "pubsub loading stale", pubsub_channels, "List active channels",
                 "2.8.0",
                 "O(N) where N is the number of active channels, and assuming constant time "
                 "pattern matching (relatively short channels and patterns)",
                 "[pattern:pattern]"),
      pubsub_sub("shardchannels", -2, "pubsub loading stale", pubsub_shardchannels,
                 "List active shard channels", "7.0.0",
                 "O(N) where N is the number of active shard channels, and assuming constant time "
                 "pattern matching (relatively short shard channels).",
                 "[pattern:pattern]"),
      pubsub_sub("shardnumsub", -2, "pubsub loading stale", pubsub_shardnumsub,
                 "Get the count of subscribers for shard channels", "7.0.0",
                 "O(N) for the SHARDNUMSUB subcommand, where N is the number of requested shard "
                 "channels",
                 "[shardchannel...]"),
  };
  r.add(std::move(pubsub));
}

}  // namespace setd::cmd
