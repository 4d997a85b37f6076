// The set command family (Redis 7.0 t_set.c): SADD SREM SMEMBERS SISMEMBER
// SMISMEMBER SCARD SRANDMEMBER SPOP SMOVE SINTER SINTERSTORE SINTERCARD
// SUNION SUNIONSTORE SDIFF SDIFFSTORE SSCAN, plus SUNIONCARD and SDIFFCARD.
//
// Handlers are thin: validate -> look up -> type check -> ds operation
// (setd/ds/set_ops.hpp) -> WATCH + keyspace notifications -> set.* event ->
// reply. A set that becomes empty is deleted at once; a missing key reads as
// the empty set. Replies whose length is known only at the end are written
// to a scratch buffer first, so that the set.* event (which needs the
// count) is published before the reply, as for every other command.
#include <algorithm>
#include <cctype>
#include <climits>
#include <functional>
#include <vector>

#include "setd/base/glob.hpp"
#include "setd/base/random.hpp"
#include "setd/base/strconv.hpp"
#include "setd/cmd/dispatcher.hpp"
#include "setd/cmd/util.hpp"
#include "setd/ds/set_ops.hpp"

namespace setd::cmd {

namespace {

using ds::SetObject;
using server::SetEvent;
using SetList = std::vector<const SetObject*>;

// SRANDMEMBER with a negative count writes |count| members; beyond this many
// (or beyond proto-max-bulk-len bytes of reply) the reply could not
// reasonably be built, so the command fails with an error instead of
// exhausting memory, where Redis would try.
constexpr uint64_t kMaxDrawsWithRepeats = uint64_t{1} << 28;

// Element-count interval at which long replies check the client's output
// buffer limits (Redis stops at CLIENT_CLOSE_ASAP the same way).
constexpr uint64_t kOutputCheckInterval = 1024;

// set-max-intset-entries, set-max-listpack-entries and
// set-max-listpack-value, as SetObject wants them.
ds::SetLimits set_limits(const Context& ctx) { return ctx.server.settings().set_limits(); }

// Publishes set.* event `e` if anybody listens: fill(SetEventJson&) adds
// the fields. Costs one wanted() check otherwise.
template <class F>
void publish_event(Context& ctx, SetEvent e, F&& fill) {
  auto& ev = ctx.server.set_events();
  if (!ev.wanted(e)) return;
  auto j = ev.begin(e, ctx.client.db);
  fill(j);
  ev.publish(j);
}

// A reusable buffer for reply elements whose count is known only once they
// are all written. Not re-entrant (handlers never nest).
class Scratch {
 public:
  explicit Scratch(Context& ctx) : rb_(&buffer(), ctx.client.resp()) { buffer().clear(); }
  ~Scratch() {
    if (buffer().capacity() > kKeepBytes) std::string().swap(buffer());
  }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;

  proto::ReplyBuilder& rb() { return rb_; }
  std::string_view bytes() { return buffer(); }

 private:
  static constexpr size_t kKeepBytes = size_t{1} << 20;
  static std::string& buffer() {
    static std::string buf;
    return buf;
  }
  proto::ReplyBuilder rb_;
};

// The set at `key` for reading (hits/misses, keymiss): *out is nullptr for
// a missing key. Returns false after replying WRONGTYPE.
bool read_set(Context& ctx, std::string_view key, SetObject*& out) {
  db::Value* v = lookup_read(ctx, key);
  out = nullptr;
  if (v == nullptr) return true;
  if (v->type() != db::Type::kSet) {
    ctx.wrong_type();
    return false;
  }
  out = &v->as_set();
  return true;
}

// Looks up every key before anything else, as reads (the *STORE variants
// too, as in Redis 7.0: hits and misses are counted and a missing source
// key emits "keymiss"); any string key is WRONGTYPE, even after a missing
// one. Returns false after replying the error.
bool collect_sets(Context& ctx, std::span<const std::string_view> keys, SetList& out) {
  out.clear();
  out.reserve(keys.size());
  for (const std::string_view key : keys) {
    db::Value* v = lookup_read(ctx, key);
    if (v != nullptr && v->type() != db::Type::kSet) {
      ctx.wrong_type();
      return false;
    }
    out.push_back(v ? &v->as_set() : nullptr);
  }
  return true;
}

// Writes `s` (possibly missing) as a RESP set reply.
// Flattened: with three encodings to walk GCC stopped inlining the reply
// builder into each walk (a call or two per member: SMEMBERS of 100 members
// took 10% more CPU).
[[gnu::flatten]] void reply_members(Context& ctx, const SetObject* s) {
  if (s == nullptr) {
    ctx.rb.set(0);
    return;
  }
  ctx.rb.set(s->size());
  s->for_each([&](std::string_view m) { ctx.rb.bulk(m); });
}

// Stores a *STORE result at `dst`, replacing whatever is there (a string
// too, and its TTL); an empty result deletes `dst` instead. WATCH and
// keyspace notifications ("new" if dst did not exist, then "<event>" on it,
// or "del" if an existing dst was deleted) follow Redis's setKey.
void store_result(Context& ctx, std::string_view dst, SetObject result, std::string_view event) {
  if (!result.empty()) {
    if (lookup_write(ctx, dst) != nullptr)
      ctx.db().set(dst, db::Object::set(std::move(result)));
    else
      add_key(ctx, dst, db::Object::set(std::move(result)));
    key_modified(ctx, dst);
    notify(ctx, server::notify::kSet, event, dst);
  } else if (ctx.db().erase(dst)) {
    key_modified(ctx, dst);
    notify(ctx, server::notify::kGeneric, "del", dst);
  }
}

// After members were removed from the set at `key`: if it is now empty it is
// deleted (keyspace "del"). Returns true if it was deleted. `s` must not be
// used afterwards when true is returned.
bool delete_if_empty(Context& ctx, std::string_view key, const SetObject& s) {
  if (!s.empty()) return false;
  ctx.db().erase(key);
  notify(ctx, server::notify::kGeneric, "del", key);
  return true;
}

// The output buffer of the running client went past its limit (or past
// what a single reply may reasonably use): like Redis's CLIENT_CLOSE_ASAP,
// drop the partial reply and close the connection.
bool output_overflow(Context& ctx, size_t reply_start) {
  if (!ctx.server.output_limit_reached(ctx.client)) return false;
  ctx.client.out.resize(reply_start);
  ctx.server.close_async(ctx.client, server::CloseReason::kOutputBufferLimit);
  return true;
}

// --- SADD / SREM ------------------------------------------------------------

// SADD key member...: adds, creating the set for the first member and the
// number of members given as Redis does (setTypeCreate: intset, listpack or
// hashtable; an existing set may convert first, setTypeMaybeConvert);
// replies the number of new members.
void sadd(Context& ctx) {
  const std::string_view key = ctx.arg(1);
  db::Value* v = lookup_write(ctx, key);
  if (v != nullptr && v->type() != db::Type::kSet) return ctx.wrong_type();
  const ds::SetLimits limits = set_limits(ctx);
  const size_t given = ctx.argc() - 2;
  if (v == nullptr) {
    v = &add_key(ctx, key, db::Object::set(SetObject::create_for(ctx.arg(2), given, limits)));
  } else {
    v->as_set().maybe_convert(given, limits);
  }
  SetObject& s = v->as_set();
  long long added = 0;
  for (size_t i = 2; i < ctx.argc(); ++i) added += s.add(ctx.arg(i), limits) ? 1 : 0;
  if (added > 0) {
    key_modified(ctx, key);
    ctx.dirty(static_cast<uint64_t>(added) - 1);  // one change per member, as Redis
    notify(ctx, server::notify::kSet, "sadd", key);
    publish_event(ctx, SetEvent::kAdded, [&](auto& j) {
      j.str("key", key)
          .num("new_members_count", added)
          .num("total_cardinality", static_cast<long long>(s.size()));
    });
  }
  ctx.rb.integer(added);
}

// SREM key member...: removes; a set left empty is deleted at once (and the
// remaining members are not looked at). Replies the number removed.
void srem(Context& ctx) {
  const std::string_view key = ctx.arg(1);
  db::Value* v = lookup_write(ctx, key);
  if (v == nullptr) return ctx.rb.integer(0);
  if (v->type() != db::Type::kSet) return ctx.wrong_type();
  SetObject& s = v->as_set();
  long long removed = 0;
  bool deleted = false;
  for (size_t i = 2; i < ctx.argc(); ++i) {
    if (!s.remove(ctx.arg(i))) continue;
    ++removed;
    if (s.empty()) {
      deleted = true;
      break;
    }
  }
  long long remaining = 0;
  if (removed > 0) {
    remaining = deleted ? 0 : static_cast<long long>(s.size());
    if (deleted) ctx.db().erase(key);
    key_modified(ctx, key);
    ctx.dirty(static_cast<uint64_t>(removed) - 1);
    notify(ctx, server::notify::kSet, "srem", key);
    if (deleted) notify(ctx, server::notify::kGeneric, "del", key);
    publish_event(ctx, SetEvent::kRemoved, [&](auto& j) {
      j.str("key", key).num("removed_count", removed).num("remaining_cardinality", remaining);
    });
  }
  ctx.rb.integer(removed);
}

// --- reads of one set -------------------------------------------------------

// SMEMBERS key: every member, streamed into the reply (RESP3 set).
void smembers(Context& ctx) {
  const std::string_view key = ctx.arg(1);
  SetObject* s;
  if (!read_set(ctx, key, s)) return;
  publish_event(ctx, SetEvent::kMembersRead, [&](auto& j) {
    j.str("key", key).num("cardinality", s ? static_cast<long long>(s->size()) : 0);
  });
  reply_members(ctx, s);
}

// SISMEMBER key member: 1 or 0, without allocating.
void sismember(Context& ctx) {
  const std::string_view key = ctx.arg(1);
  SetObject* s;
  if (!read_set(ctx, key, s)) return;
  const bool member = s != nullptr && s->contains(ctx.arg(2));
  publish_event(ctx, SetEvent::kIsMemberCheck, [&](auto& j) {
    j.str("key", key).str("member", ctx.arg(2)).num("is_member", member ? 1 : 0);
  });
  ctx.rb.integer(member ? 1 : 0);
}

// SMISMEMBER key member...: an array of 1/0, one per member asked.
void smismember(Context& ctx) {
  const std::string_view key = ctx.arg(1);
  SetObject* s;
  if (!read_set(ctx, key, s)) return;
  const size_t n = ctx.argc() - 2;
  auto& ev = ctx.server.set_events();
  if (ev.wanted(SetEvent::kMisMemberCheck)) {
    long long matches = 0;
    if (s != nullptr)
      for (size_t i = 2; i < ctx.argc(); ++i) matches += s->contains(ctx.arg(i)) ? 1 : 0;
    auto j = ev.begin(SetEvent::kMisMemberCheck, ctx.client.db);
    j.str("key", key).num("members_count", static_cast<long long>(n)).num("matches_count", matches);
    ev.publish(j);
  }
  ctx.rb.array(n);
  for (size_t i = 2; i < ctx.argc(); ++i)
    ctx.rb.integer(s != nullptr && s->contains(ctx.arg(i)) ? 1 : 0);
}

// SCARD key: the cardinality (0 for a missing key).
void scard(Context& ctx) {
  const std::string_view key = ctx.arg(1);
  SetObject* s;
  if (!read_set(ctx, key, s)) return;
  const auto n = s ? static_cast<long long>(s->size()) : 0LL;
  publish_event(ctx, SetEvent::kCardinality,
                [&](auto& j) { j.str("key", key).num("cardinality", n); });
  ctx.rb.integer(n);
}

// set.random_draw for `n` members returned.
void publish_random_draw(Context& ctx, std::string_view key, uint64_t n) {
  publish_event(ctx, SetEvent::kRandomDraw, [&](auto& j) {
    j.str("key", key).num("count_returned", static_cast<long long>(n));
  });
}

// SRANDMEMBER key [count]: one random member (nil for a missing key), or
// with a count Redis's strategies: count > 0 distinct members (at most the
// whole set), count < 0 |count| independent draws. Never modifies the set.
void srandmember(Context& ctx) {
  if (ctx.argc() > 3) return ctx.syntax_error();
  const std::string_view key = ctx.arg(1);
  char buf[ds::kInt64DecimalBufSize];
  if (ctx.argc() == 2) {
    SetObject* s;
    if (!read_set(ctx, key, s)) return;
    publish_random_draw(ctx, key, s ? 1 : 0);
    if (s == nullptr) return ctx.rb.null();
    return ctx.rb.bulk(ds::random_member_view(*s, base::rng(), buf));
  }
  long long l;
  if (!parse_ll(ctx, ctx.arg(2), l)) return;
  if (l == LLONG_MIN)
    return ctx.rb.error(
        "ERR value is out of range, value must between -9223372036854775807 and "
        "9223372036854775807");
  SetObject* s;
  if (!read_set(ctx, key, s)) return;
  const bool distinct = l >= 0;
  const uint64_t count = distinct ? static_cast<uint64_t>(l) : static_cast<uint64_t>(-l);
  if (s == nullptr || count == 0) {
    publish_random_draw(ctx, key, 0);
    return ctx.rb.array(0);
  }
  if (distinct && count > 1) {
    const uint64_t n = std::min<uint64_t>(count, s->size());
    publish_random_draw(ctx, key, n);
    ctx.rb.array(n);
    ds::sample_distinct(*s, count, base::rng(), [&](std::string_view m) { ctx.rb.bulk(m); });
    return;
  }
  // Members drawn independently: repeats allowed, random order. The reply
  // is written first (its size is bounded: past proto-max-bulk-len bytes it
  // is dropped for an error) and the event is put in front of it.
  constexpr std::string_view kTooLarge =
      "ERR value is out of range, count is too large for one reply";
  if (count > kMaxDrawsWithRepeats) return ctx.rb.error(kTooLarge);
  std::string& out = ctx.client.out;
  const size_t start = out.size();
  const auto budget = static_cast<size_t>(ctx.server.settings().proto_max_bulk_len);
  const ds::RandomDraws draws(*s);  // a listpack is indexed once
  ctx.rb.array(count);
  for (uint64_t i = 1; i <= count; ++i) {
    ctx.rb.bulk(draws.draw(base::rng(), buf));
    if (i % kOutputCheckInterval != 0) continue;
    if (output_overflow(ctx, start)) return;
    if (out.size() - start > budget) {
      out.resize(start);
      return ctx.rb.error(kTooLarge);
    }
  }
  if (ctx.server.set_events().wanted(SetEvent::kRandomDraw)) {
    std::string reply = out.substr(start);
    out.resize(start);
    publish_random_draw(ctx, key, count);
    out += reply;
  }
}

// --- SPOP / SMOVE -----------------------------------------------------------

// set.popped for `n` members popped, `remaining` left.
void publish_popped(Context& ctx, std::string_view key, size_t n, size_t remaining) {
  publish_event(ctx, SetEvent::kPopped, [&](auto& j) {
    j.str("key", key)
        .num("count_popped", static_cast<long long>(n))
        .num("remaining_cardinality", static_cast<long long>(remaining));
  });
}

// SPOP key [count]: removes and returns random members (pop_members()'s
// strategies); the key is deleted when the set empties. Keyspace "spop"
// precedes "del".
void spop(Context& ctx) {
  if (ctx.argc() > 3) return ctx.syntax_error();
  const std::string_view key = ctx.arg(1);
  if (ctx.argc() == 2) {
    db::Value* v = lookup_write(ctx, key);
    if (v == nullptr) return ctx.rb.null();
    if (v->type() != db::Type::kSet) return ctx.wrong_type();
    SetObject& s = v->as_set();
    notify(ctx, server::notify::kSet, "spop", key);
    const std::string member = s.pop_random(base::rng());
    const size_t remaining = s.size();
    delete_if_empty(ctx, key, s);
    key_modified(ctx, key);
    ctx.propagate_as({"SREM", std::string(key), member});  // replay is not random
    publish_popped(ctx, key, 1, remaining);
    return ctx.rb.bulk(member);
  }
  long long l;
  if (!base::string_to_ll(ctx.arg(2), l) || l < 0)
    return ctx.rb.error("ERR value is out of range, must be positive");
  db::Value* v = lookup_write(ctx, key);
  if (v == nullptr) return ctx.rb.set(0);
  if (v->type() != db::Type::kSet) return ctx.wrong_type();
  if (l == 0) return ctx.rb.set(0);
  SetObject& s = v->as_set();
  notify(ctx, server::notify::kSet, "spop", key);
  Scratch out(ctx);
  // Replay is not random: the whole set popped propagates as DEL, fewer
  // members as one SREM each (Redis 7.0).
  const bool whole = static_cast<uint64_t>(l) >= s.size();
  const bool propagating = !whole && ctx.server.propagating();
  const size_t n = ds::pop_members(
      s, static_cast<uint64_t>(l), set_limits(ctx), base::rng(), [&](std::string_view m) {
        out.rb().bulk(m);
        if (propagating) ctx.also_propagate({"SREM", std::string(key), std::string(m)});
      });
  const size_t remaining = s.size();
  delete_if_empty(ctx, key, s);
  key_modified(ctx, key);
  ctx.dirty(n - 1);
  if (whole)
    ctx.propagate_as({"DEL", std::string(key)});
  else
    ctx.prevent_propagation();
  publish_popped(ctx, key, n, remaining);
  ctx.rb.set(n);
  ctx.rb.raw(out.bytes());
}

// SMOVE source destination member: 0 for a missing source (whatever the
// destination holds); onto the same set it answers membership only;
// otherwise "srem" on source (plus "del" if it empties), destination
// created as SADD would, "sadd" on it only if the member was new there.
void smove(Context& ctx) {
  const std::string_view src_key = ctx.arg(1);
  const std::string_view dst_key = ctx.arg(2);
  const std::string_view member = ctx.arg(3);
  db::Value* src = lookup_write(ctx, src_key);
  db::Value* dst = lookup_write(ctx, dst_key);
  if (src == nullptr) return ctx.rb.integer(0);
  if (src->type() != db::Type::kSet || (dst != nullptr && dst->type() != db::Type::kSet))
    return ctx.wrong_type();
  if (src == dst) return ctx.rb.integer(src->as_set().contains(member) ? 1 : 0);
  SetObject& from = src->as_set();
  if (!from.remove(member)) return ctx.rb.integer(0);
  notify(ctx, server::notify::kSet, "srem", src_key);
  delete_if_empty(ctx, src_key, from);
  const ds::SetLimits limits = set_limits(ctx);
  if (dst == nullptr)
    dst = &add_key(ctx, dst_key, db::Object::set(SetObject::create_for(member, 1, limits)));
  key_modified(ctx, src_key);
  if (dst->as_set().add(member, limits)) {
    key_modified(ctx, dst_key);
    notify(ctx, server::notify::kSet, "sadd", dst_key);
  }
  publish_event(ctx, SetEvent::kMoved, [&](auto& j) {
    j.str("source", src_key).str("destination", dst_key).str("member", member);
  });
  ctx.rb.integer(1);
}

// --- set algebra ------------------------------------------------------------

// set.*_stored for a *STORE result of `n` members at `dst`.
void publish_stored(Context& ctx, SetEvent e, std::string_view dst, size_t n) {
  publish_event(ctx, e, [&](auto& j) {
    j.str("destination", dst).num("result_cardinality", static_cast<long long>(n));
  });
}

// SINTER key...: the intersection, smallest set first (RESP3 set).
void sinter(Context& ctx) {
  const auto keys = ctx.args.subspan(1);
  SetList sets;
  if (!collect_sets(ctx, keys, sets)) return;
  Scratch out(ctx);
  const size_t n = ds::intersect(sets, 0, [&](std::string_view m) { out.rb().bulk(m); });
  publish_event(ctx, SetEvent::kIntersection, [&](auto& j) {
    j.strs("keys_input", keys).num("result_cardinality", static_cast<long long>(n));
  });
  ctx.rb.set(n);
  ctx.rb.raw(out.bytes());
}

// SINTERSTORE destination key...: stores the intersection; replies its size.
void sinterstore(Context& ctx) {
  const std::string_view dst = ctx.arg(1);
  SetList sets;
  if (!collect_sets(ctx, ctx.args.subspan(2), sets)) return;
  SetObject result = ds::intersection(sets, set_limits(ctx));
  const size_t n = result.size();
  store_result(ctx, dst, std::move(result), "sinterstore");
  publish_stored(ctx, SetEvent::kIntersectionStored, dst, n);
  ctx.rb.integer(static_cast<long long>(n));
}

// SUNION with at most one distinct non-empty input: that set itself (no
// copy needed); nullptr if every input is missing. Sets *single to false
// when there are several.
const SetObject* sole_input(const SetList& sets, bool* single) {
  const SetObject* only = nullptr;
  *single = true;
  for (const SetObject* s : sets) {
    if (s == nullptr || s == only) continue;
    if (only != nullptr) {
      *single = false;
      return nullptr;
    }
    only = s;
  }
  return only;
}

// SUNION key...: the union (one distinct input is streamed as is).
void sunion(Context& ctx) {
  const auto keys = ctx.args.subspan(1);
  SetList sets;
  if (!collect_sets(ctx, keys, sets)) return;
  bool single;
  const SetObject* only = sole_input(sets, &single);
  SetObject result;
  const SetObject* reply = only;
  if (!single) {
    result = ds::set_union(sets, set_limits(ctx));
    reply = &result;
  }
  publish_event(ctx, SetEvent::kUnion, [&](auto& j) {
    j.strs("keys_input", keys)
        .num("result_cardinality", reply ? static_cast<long long>(reply->size()) : 0);
  });
  reply_members(ctx, reply);
}

// SUNIONSTORE destination key...: stores the union; replies its size.
void sunionstore(Context& ctx) {
  const std::string_view dst = ctx.arg(1);
  SetList sets;
  if (!collect_sets(ctx, ctx.args.subspan(2), sets)) return;
  SetObject result = ds::set_union(sets, set_limits(ctx));
  const size_t n = result.size();
  store_result(ctx, dst, std::move(result), "sunionstore");
  publish_stored(ctx, SetEvent::kUnionStored, dst, n);
  ctx.rb.integer(static_cast<long long>(n));
}

// SDIFF key...: the first set minus the others (Redis's algorithm choice).
void sdiff(Context& ctx) {
  SetList sets;
  if (!collect_sets(ctx, ctx.args.subspan(1), sets)) return;
  // Nothing to subtract: the first set is the answer as it is.
  const bool nothing_else =
      std::all_of(sets.begin() + 1, sets.end(), [](const SetObject* s) { return s == nullptr; });
  SetObject result;
  const SetObject* reply = sets[0];
  if (!nothing_else) {
    result = ds::set_difference(sets, set_limits(ctx));
    reply = &result;
  }
  publish_event(ctx, SetEvent::kDifference, [&](auto& j) {
    j.str("first_key", ctx.arg(1))
        .strs("other_keys", ctx.args.subspan(2))
        .num("result_cardinality", reply ? static_cast<long long>(reply->size()) : 0);
  });
  reply_members(ctx, reply);
}

// SDIFFSTORE destination key...: stores the difference; replies its size.
void sdiffstore(Context& ctx) {
  const std::string_view dst = ctx.arg(1);
  SetList sets;
  if (!collect_sets(ctx, ctx.args.subspan(2), sets)) return;
  SetObject result = ds::set_difference(sets, set_limits(ctx));
  const size_t n = result.size();
  store_result(ctx, dst, std::move(result), "sdiffstore");
  publish_stored(ctx, SetEvent::kDifferenceStored, dst, n);
  ctx.rb.integer(static_cast<long long>(n));
}

// --- *CARD ------------------------------------------------------------------

// Parsed "numkeys key... [APPROX] [LIMIT n]" of SINTERCARD / SUNIONCARD /
// SDIFFCARD.
struct CardArgs {
  std::span<const std::string_view> keys;
  size_t limit = 0;  // 0: no limit
  bool approx = false;
};

// Parses the arguments with SINTERCARD's rules and error texts; APPROX is
// accepted only if allow_approx. Returns false after replying an error.
bool parse_card_args(Context& ctx, bool allow_approx, CardArgs& out) {
  long long numkeys = 0;
  if (!base::string_to_ll(ctx.arg(1), numkeys) || numkeys < 1) {
    ctx.rb.error("ERR numkeys should be greater than 0");
    return false;
  }
  if (static_cast<unsigned long long>(numkeys) > ctx.argc() - 2) {
    ctx.rb.error("ERR Number of keys can't be greater than number of args");
    return false;
  }
  const auto nk = static_cast<size_t>(numkeys);
  out.keys = ctx.args.subspan(2, nk);
  for (size_t j = 2 + nk; j < ctx.argc(); ++j) {
    const bool more = j + 1 < ctx.argc();
    if (is(ctx.arg(j), "LIMIT") && more) {
      long long limit = 0;
      ++j;
      if (!base::string_to_ll(ctx.arg(j), limit) || limit < 0) {
        ctx.rb.error("ERR LIMIT can't be negative");
        return false;
      }
      out.limit = static_cast<size_t>(limit);
    } else if (allow_approx && is(ctx.arg(j), "APPROX")) {
      out.approx = true;
    } else {
      ctx.syntax_error();
      return false;
    }
  }
  return true;
}

// set.intercard / set.unioncard / set.diffcard.
void publish_card(Context& ctx, SetEvent e, std::span<const std::string_view> keys, size_t n) {
  publish_event(ctx, e, [&](auto& j) {
    j.strs("keys_input", keys).num("cardinality_result", static_cast<long long>(n));
  });
}

// SINTERCARD numkeys key... [LIMIT n]: |intersection|, counting stops at n.
void sintercard(Context& ctx) {
  CardArgs a;
  if (!parse_card_args(ctx, false, a)) return;
  SetList sets;
  if (!collect_sets(ctx, a.keys, sets)) return;
  const size_t n = ds::intersect(sets, a.limit, [](std::string_view) {});
  publish_card(ctx, SetEvent::kIntercard, a.keys, n);
  ctx.rb.integer(static_cast<long long>(n));
}

// SUNIONCARD numkeys key... [APPROX] [LIMIT n]: |union| exactly, or with
// APPROX a HyperLogLog estimate in fixed memory; capped at n (0: no limit).
void sunioncard(Context& ctx) {
  CardArgs a;
  if (!parse_card_args(ctx, true, a)) return;
  SetList sets;
  if (!collect_sets(ctx, a.keys, sets)) return;
  size_t n;
  if (a.approx) {
    n = static_cast<size_t>(ds::union_cardinality_approx(sets));
    if (a.limit != 0 && n > a.limit) n = a.limit;
  } else {
    n = ds::union_cardinality(sets, a.limit);
  }
  publish_card(ctx, SetEvent::kUnionCard, a.keys, n);
  ctx.rb.integer(static_cast<long long>(n));
}

// SDIFFCARD numkeys key... [LIMIT n]: |first minus the others|, capped at n.
void sdiffcard(Context& ctx) {
  CardArgs a;
  if (!parse_card_args(ctx, false, a)) return;
  SetList sets;
  if (!collect_sets(ctx, a.keys, sets)) return;
  const size_t n = ds::difference_cardinality(sets, a.limit);
  publish_card(ctx, SetEvent::kDiffCard, a.keys, n);
  ctx.rb.integer(static_cast<long long>(n));
}

// --- SSCAN ------------------------------------------------------------------

// Redis's parseScanCursorOrReply(): strtoul() on the argument as a C string
// (bytes from the first NUL on are ignored), which must not start with
// whitespace, must be consumed entirely and must not overflow. So "" is 0,
// "+5" is 5 and "-1" wraps to 2^64-1, as in Redis.
bool parse_scan_cursor(std::string_view arg, uint64_t& out) {
  arg = arg.substr(0, arg.find('\0'));
  if (arg.empty()) {
    out = 0;
    return true;
  }
  if (std::isspace(static_cast<unsigned char>(arg[0]))) return false;
  size_t i = 0;
  const bool negative = arg[0] == '-';
  if (arg[0] == '+' || arg[0] == '-') ++i;
  if (i == arg.size()) return false;  // a sign alone: nothing converted
  uint64_t v = 0;
  for (; i < arg.size(); ++i) {
    const char c = arg[i];
    if (c < '0' || c > '9') return false;
    const auto digit = static_cast<uint64_t>(c - '0');
    if (v > (UINT64_MAX - digit) / 10) return false;  // ERANGE
    v = v * 10 + digit;
  }
  out = negative ? 0 - v : v;
  return true;
}

// SSCAN options.
struct ScanArgs {
  long long count = 10;
  std::string_view pattern;
  bool has_pattern = false;  // MATCH given (the event reports it)
  bool use_pattern = false;  // and it is not "*"
};

// Parses SSCAN's options from argument 3 on. Returns "" or the error reply.
std::string_view parse_scan_args(const Context& ctx, ScanArgs& out) {
  for (size_t i = 3; i < ctx.argc(); i += 2) {
    const bool has_value = i + 1 < ctx.argc();
    if (is(ctx.arg(i), "COUNT") && has_value) {
      if (!base::string_to_ll(ctx.arg(i + 1), out.count))
        return "ERR value is not an integer or out of range";
      if (out.count < 1) return "ERR syntax error";
    } else if (is(ctx.arg(i), "MATCH") && has_value) {
      out.pattern = ctx.arg(i + 1);
      out.has_pattern = true;
      out.use_pattern = out.pattern != "*";
    } else {
      return "ERR syntax error";
    }
  }
  return {};
}

// set.scan: the cursor as given, the MATCH pattern (null without one) and
// the number of members returned.
void publish_scan(Context& ctx, const ScanArgs& a, size_t n) {
  publish_event(ctx, SetEvent::kScan, [&](auto& j) {
    j.str("key", ctx.arg(1)).str("cursor", ctx.arg(2));
    if (a.has_pattern)
      j.str("pattern", a.pattern);
    else
      j.null("pattern");
    j.num("count_returned", static_cast<long long>(n));
  });
}

// SSCAN key cursor [MATCH p] [COUNT n], in Redis's order: cursor errors,
// then the lookup (a missing key answers ["0", []] before options are
// checked), WRONGTYPE, option errors. An intset or a listpack is returned
// whole with cursor 0; a hashtable is scanned for about COUNT members (at most
// COUNT * 10 steps), MATCH filtering what was visited.
void sscan(Context& ctx) {
  uint64_t cursor = 0;
  if (!parse_scan_cursor(ctx.arg(2), cursor)) return ctx.rb.error("ERR invalid cursor");
  SetObject* s;
  if (!read_set(ctx, ctx.arg(1), s)) return;
  ScanArgs a;
  const std::string_view error = parse_scan_args(ctx, a);
  if (s == nullptr) {  // Redis answers before looking at the options
    publish_scan(ctx, a, 0);
    ctx.rb.array(2);
    ctx.rb.bulk("0");
    ctx.rb.array(0);
    return;
  }
  if (!error.empty()) return ctx.rb.error(error);

  struct State {
    const ScanArgs* args;
    proto::ReplyBuilder* rb;
    size_t seen = 0;     // elements visited (COUNT applies to these)
    size_t matched = 0;  // elements in the reply
  };
  Scratch out(ctx);
  State st{&a, &out.rb()};
  const std::function<void(std::string_view)> visit = [p = &st](std::string_view m) {
    ++p->seen;
    if (p->args->use_pattern && !base::glob_match(p->args->pattern, m)) return;
    ++p->matched;
    p->rb->bulk(m);
  };
  if (const ds::HashSet* hs = s->as_hash_set()) {
    // As Redis: at most COUNT * 10 steps, so a sparse table cannot stall us.
    uint64_t steps_left =
        a.count > LLONG_MAX / 10 ? ULLONG_MAX : static_cast<uint64_t>(a.count) * 10;
    do {
      cursor = hs->scan(cursor, visit);
    } while (cursor != 0 && steps_left-- != 0 && st.seen < static_cast<uint64_t>(a.count));
  } else {
    cursor = s->scan(cursor, visit);  // an intset or listpack: whole, cursor 0
  }
  publish_scan(ctx, a, st.matched);
  char buf[base::kMaxLongLongChars];
  ctx.rb.array(2);
  ctx.rb.bulk({buf, base::ull_to_string(buf, cursor)});
  ctx.rb.array(st.matched);
  ctx.rb.raw(out.bytes());
}

// Key specs (Redis 7.0 COMMAND INFO): one key at index 1, one at `index`,
// every argument from `index` on.
KeySpec key1(const char* flags) { return KeySpec{.flags = flags, .begin_index = 1}; }
KeySpec key_at(const char* flags, int index) {
  return KeySpec{.flags = flags, .begin_index = index};
}
KeySpec keys_from(const char* flags, int index) {
  return KeySpec{.flags = flags, .begin_index = index, .lastkey = -1};
}
// numkeys-style key spec of SINTERCARD and the other *CARD commands.
KeySpec numkeys_spec() {
  return KeySpec{
      .flags = "RO access", .begin_index = 1, .keynum = true, .keynumidx = 0, .firstkey = 1};
}

}  // namespace

void register_set_commands(Registry& r) {
  const std::string intersect_cost =
      "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of "
      "sets.";
  const std::string total_cost = "O(N) where N is the total number of elements in all given sets.";
  r.add({.name = "sadd",
         .arity = -3,
         .flags = "write denyoom fast",
         .acl = "@set",
         .keys = {key1("RW insert")},
         .handler = sadd,
         .doc = {"Add one or more members to a set",
                 "1.0.0",
                 "set",
                 "O(1) for each element added, so O(N) to add N elements when the command is "
                 "called with multiple arguments.",
                 "key member...",
                 {{"2.4.0", "Accepts multiple `member` arguments."}}}});
  r.add({.name = "srem",
         .arity = -3,
         .flags = "write fast",
         .acl = "@set",
         .keys = {key1("RW delete")},
         .handler = srem,
         .doc = {"Remove one or more members from a set",
                 "1.0.0",
                 "set",
                 "O(N) where N is the number of members to be removed.",
                 "key member...",
                 {{"2.4.0", "Accepts multiple `member` arguments."}}}});
  r.add({.name = "smembers",
         .arity = 2,
         .flags = "readonly",
         .acl = "@set",
         .keys = {key1("RO access")},
         .handler = smembers,
         .doc = {"Get all the members in a set", "1.0.0", "set",
                 "O(N) where N is the set cardinality.", "key"},
         .tips = {"nondeterministic_output_order"}});
  r.add({.name = "sismember",
         .arity = 3,
         .flags = "readonly fast",
         .acl = "@set",
         .keys = {key1("RO")},
         .handler = sismember,
         .doc = {"Determine if a given value is a member of a set", "1.0.0", "set", "O(1)",
                 "key member"}});
  r.add({.name = "smismember",
         .arity = -3,
         .flags = "readonly fast",
         .acl = "@set",
         .keys = {key1("RO access")},
         .handler = smismember,
         .doc = {"Returns the membership associated with the given elements for a set", "6.2.0",
                 "set", "O(N) where N is the number of elements being checked for membership",
                 "key member..."}});
  r.add({.name = "scard",
         .arity = 2,
         .flags = "readonly fast",
         .acl = "@set",
         .keys = {key1("RO")},
         .handler = scard,
         .doc = {"Get the number of members in a set", "1.0.0", "set", "O(1)", "key"}});
  r.add({.name = "srandmember",
         .arity = -2,
         .flags = "readonly",
         .acl = "@set",
         .keys = {key1("RO access")},
         .handler = srandmember,
         .doc = {"Get one or multiple random members from a set",
                 "1.0.0",
                 "set",
                 "Without the count argument O(1), otherwise O(N) where N is the absolute value "
                 "of the passed count.",
                 "key [count:integer]@2.6.0",
                 {{"2.6.0", "Added the optional `count` argument."}}},
         .tips = {"nondeterministic_output"}});
  r.add({.name = "spop",
         .arity = -2,
         .flags = "write fast",
         .acl = "@set",
         .keys = {key1("RW access delete")},
         .handler = spop,
         .doc = {"Remove and return one or multiple random members from a set",
                 "1.0.0",
                 "set",
                 "Without the count argument O(1), otherwise O(N) where N is the value of the "
                 "passed count.",
                 "key [count:integer]@3.2.0",
                 {{"3.2.0", "Added the `count` argument."}}},
         .tips = {"nondeterministic_output"}});
  r.add({.name = "smove",
         .arity = 4,
         .flags = "write fast",
         .acl = "@set",
         .keys = {key_at("RW access delete", 1), key_at("RW insert", 2)},
         .handler = smove,
         .doc = {"Move a member from one set to another", "1.0.0", "set", "O(1)",
                 "source destination member"}});
  r.add({.name = "sinter",
         .arity = -2,
         .flags = "readonly",
         .acl = "@set",
         .keys = {keys_from("RO access", 1)},
         .handler = sinter,
         .doc = {"Intersect multiple sets", "1.0.0", "set", intersect_cost, "key..."},
         .tips = {"nondeterministic_output_order"}});
  r.add({.name = "sinterstore",
         .arity = -3,
         .flags = "write denyoom",
         .acl = "@set",
         .keys = {key_at("RW update", 1), keys_from("RO access", 2)},
         .handler = sinterstore,
         .doc = {"Intersect multiple sets and store the resulting set in a key", "1.0.0", "set",
                 intersect_cost, "destination key..."}});
  r.add({.name = "sintercard",
         .arity = -3,
         .flags = "readonly",
         .acl = "@set",
         .keys = {numkeys_spec()},
         .handler = sintercard,
         .doc = {"Intersect multiple sets and return the cardinality of the result", "7.0.0", "set",
                 intersect_cost, "numkeys:integer key... [LIMIT limit:integer]"}});
  r.add({.name = "sunion",
         .arity = -2,
         .flags = "readonly",
         .acl = "@set",
         .keys = {keys_from("RO access", 1)},
         .handler = sunion,
         .doc = {"Add multiple sets", "1.0.0", "set", total_cost, "key..."},
         .tips = {"nondeterministic_output_order"}});
  r.add({.name = "sunionstore",
         .arity = -3,
         .flags = "write denyoom",
         .acl = "@set",
         .keys = {key_at("OW update", 1), keys_from("RO access", 2)},
         .handler = sunionstore,
         .doc = {"Add multiple sets and store the resulting set in a key", "1.0.0", "set",
                 total_cost, "destination key..."}});
  r.add({.name = "sdiff",
         .arity = -2,
         .flags = "readonly",
         .acl = "@set",
         .keys = {keys_from("RO access", 1)},
         .handler = sdiff,
         .doc = {"Subtract multiple sets", "1.0.0", "set", total_cost, "key..."},
         .tips = {"nondeterministic_output_order"}});
  r.add({.name = "sdiffstore",
         .arity = -3,
         .flags = "write denyoom",
         .acl = "@set",
         .keys = {key_at("OW update", 1), keys_from("RO access", 2)},
         .handler = sdiffstore,
         .doc = {"Subtract multiple sets and store the resulting set in a key", "1.0.0", "set",
                 total_cost, "destination key..."}});
  r.add({.name = "sscan",
         .arity = -3,
         .flags = "readonly",
         .acl = "@set",
         .keys = {key1("RO access")},
         .handler = sscan,
         .doc = {"Incrementally iterate Set elements", "2.8.0", "set",
                 "O(1) for every call. O(N) for a complete iteration, including enough command "
                 "calls for the cursor to return back to 0. N is the number of elements inside "
                 "the collection..",
                 "key cursor:integer [MATCH pattern:pattern] [COUNT count:integer]"},
         .tips = {"nondeterministic_output"}});
  // Not in Redis 7.0 (Redis 8.10 commands); same conventions as SINTERCARD.
  r.add({.name = "sunioncard",
         .arity = -3,
         .flags = "readonly",
         .acl = "@set",
         .keys = {numkeys_spec()},
         .handler = sunioncard,
         .doc = {"Add multiple sets and return the cardinality of the result (exact, or a "
                 "HyperLogLog estimate with APPROX)",
                 "8.10.0", "set",
                 "O(N) where N is the total number of elements in all given sets; with APPROX "
                 "the memory used is O(1) (16 KiB).",
                 "numkeys:integer key... [APPROX] [LIMIT limit:integer]"}});
  r.add({.name = "sdiffcard",
         .arity = -3,
         .flags = "readonly",
         .acl = "@set",
         .keys = {numkeys_spec()},
         .handler = sdiffcard,
         .doc = {"Subtract multiple sets and return the cardinality of the result", "8.10.0", "set",
                 total_cost, "numkeys:integer key... [LIMIT limit:integer]"}});
}

}  // namespace setd::cmd
