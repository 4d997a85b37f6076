#include "setd/server/tracking.hpp"

#include <algorithm>
#include <iterator>

#include "setd/base/random.hpp"
#include "setd/base/strconv.hpp"

namespace setd::server {

namespace {

constexpr std::string_view kChannel = "__redis__:invalidate";

// Redis's stringCheckPrefix: one is a prefix of the other.
bool overlaps(std::string_view a, std::string_view b) {
  const size_t n = std::min(a.size(), b.size());
  return a.substr(0, n) == b.substr(0, n);
}

std::string_view null_of(int resp) { return resp >= 3 ? "_\r\n" : "$-1\r\n"; }

// The RESP array of the keys in `keys`, leaving out those last changed by
// client `skip` (NOLOOP) when `skip` is non-zero; empty when none is left
// (trackingBuildBroadcastReply).
std::string build_keys_array(const std::map<std::string, uint64_t, std::less<>>& keys,
                             uint64_t skip) {
  size_t count = 0;
  for (const auto& [key, id] : keys)
    if (skip == 0 || id != skip) ++count;
  if (count == 0) return {};
  std::string out;
  out.reserve(count * 15);
  out += '*';
  out += std::to_string(count);
  out += "\r\n";
  for (const auto& [key, id] : keys) {
    if (skip != 0 && id == skip) continue;
    out += '$';
    out += std::to_string(key.size());
    out += "\r\n";
    out += key;
    out += "\r\n";
  }
  return out;
}

}  // namespace

std::optional<std::string> Tracking::prefix_collision(const Client& c,
                                                      std::span<const std::string_view> prefixes,
                                                      bool& enable_anyway) const {
  enable_anyway = false;
  // Redis formats the prefixes with %s: they end at a NUL byte.
  auto shown = [](std::string_view p) { return std::string(base::c_string_view(p)); };
  for (size_t i = 0; i < prefixes.size(); ++i) {
    for (const std::string& existing : c.tracking.prefixes) {
      if (overlaps(existing, prefixes[i]))
        return "ERR Prefix '" + shown(prefixes[i]) + "' overlaps with an existing prefix '" +
               shown(existing) + "'. Prefixes for a single client must not overlap.";
    }
    for (size_t j = i + 1; j < prefixes.size(); ++j) {
      if (overlaps(prefixes[i], prefixes[j])) {
        // Redis 7.0 returns the index i as its verdict: past the first
        // prefix that reads as "no collision".
        enable_anyway = i != 0;
        return "ERR Prefix '" + shown(prefixes[i]) + "' overlaps with another provided prefix '" +
               shown(prefixes[j]) + "'. Prefixes for a single client must not overlap.";
      }
    }
  }
  return std::nullopt;
}

void Tracking::enable(Client& c, const Options& o) {
  auto& t = c.tracking;
  if (!t.on) clients_.emplace(c.id(), &c);
  t.on = true;
  t.broken_redirect = t.bcast = t.optin = t.optout = t.noloop = false;
  t.redirect = o.redirect;
  active_ = true;
  if (o.bcast) {
    t.bcast = true;
    auto add = [&](std::string_view prefix) {
      auto it = prefixes_.find(prefix);
      if (it == prefixes_.end()) it = prefixes_.emplace(std::string(prefix), PrefixState{}).first;
      auto& clients = it->second.clients;
      if (std::find(clients.begin(), clients.end(), &c) == clients.end()) {
        clients.push_back(&c);
        t.prefixes.emplace(prefix);
      }
    };
    if (o.prefixes.empty()) add("");
    for (const std::string_view p : o.prefixes) add(p);
  }
  t.optin = o.optin;
  t.optout = o.optout;
  t.noloop = o.noloop;
}

void Tracking::disable(Client& c) {
  auto& t = c.tracking;
  if (t.bcast) {
    for (const std::string& p : t.prefixes) {
      auto it = prefixes_.find(p);
      if (it == prefixes_.end()) continue;
      std::erase(it->second.clients, &c);
      if (it->second.clients.empty()) prefixes_.erase(it);
    }
    t.prefixes.clear();
  }
  if (t.on) {
    clients_.erase(c.id());
    t.on = t.broken_redirect = t.bcast = t.optin = t.optout = t.caching = t.noloop = false;
  }
}

void Tracking::remember_keys(Client& c, std::span<const std::string_view> keys) {
  const auto& t = c.tracking;
  if ((t.optin && !t.caching) || (t.optout && t.caching)) return;
  for (const std::string_view key : keys) {
    auto it = table_.find(key);
    if (it == table_.end()) it = table_.emplace(std::string(key), std::vector<uint64_t>{}).first;
    auto& ids = it->second;
    const auto pos = std::lower_bound(ids.begin(), ids.end(), c.id());
    if (pos != ids.end() && *pos == c.id()) continue;
    ids.insert(pos, c.id());
    ++total_items_;
  }
}

void Tracking::remember_for_broadcast(const Client* modifier, std::string_view key) {
  const uint64_t id = modifier != nullptr ? modifier->id() : 0;
  bool queued = false;
  for (auto& [prefix, state] : prefixes_) {
    if (!key.starts_with(prefix)) continue;
    auto it = state.keys.find(key);
    if (it == state.keys.end())
      state.keys.emplace(std::string(key), id);
    else
      it->second = id;  // the last client to change it
    queued = true;
  }
  if (queued && !broadcast_queued_) {
    broadcast_queued_ = true;
    if (on_broadcast_queued) on_broadcast_queued();
  }
}

void Tracking::invalidate_key(std::string_view key, const Client* modifier, bool bcast) {
  if (!active_) return;
  if (bcast && !prefixes_.empty()) remember_for_broadcast(modifier, key);
  auto it = table_.find(key);
  if (it == table_.end()) return;
  const std::vector<uint64_t> ids = std::move(it->second);
  table_.erase(it);
  total_items_ -= ids.size();
  for (const uint64_t id : ids) {
    Client* target = lookup_(id);
    // A client that switched to BCAST since gets nothing for what it read
    // before.
    if (target == nullptr || !target->tracking.on || target->tracking.bcast) continue;
    if (target->tracking.noloop && target == current_) continue;
    if (target == current_ && executing_)
      pending_.emplace_back(std::string(key));
    else
      send(*target, key, false);
  }
}

void Tracking::invalidate_on_flush() {
  // In connection order (ids grow), as Redis walks server.clients.
  for (const auto& [id, c] : clients_) {
    if (c == current_ && executing_)
      pending_.emplace_back(std::nullopt);
    else
      send(*c, null_of(c->resp()), true);
  }
  if (active_) {
    table_.clear();
    total_items_ = 0;
  }
}

void Tracking::limit_used_slots(size_t max_keys) {
  if (!active_ || max_keys == 0) return;
  if (table_.size() <= max_keys) {
    limit_rounds_ = 0;
    return;
  }
  // The effort grows with each call that found the table still too big.
  int effort = 100 * static_cast<int>(limit_rounds_ + 1);
  auto& rng = base::rng();
  while (effort-- > 0 && !table_.empty()) {
    size_t bucket = 0;
    do {
      bucket = rng.below(table_.bucket_count());
    } while (table_.bucket_size(bucket) == 0);
    auto it = table_.begin(bucket);
    std::advance(it, static_cast<long>(rng.below(table_.bucket_size(bucket))));
    const std::string key = it->first;
    invalidate_key(key, nullptr, false);
    if (table_.size() <= max_keys) {
      limit_rounds_ = 0;
      return;
    }
  }
  ++limit_rounds_;
}

void Tracking::broadcast() {
  broadcast_queued_ = false;
  if (!active_ || clients_.empty()) return;
  for (auto& [prefix, state] : prefixes_) {
    if (state.keys.empty()) continue;
    const std::string proto = build_keys_array(state.keys, 0);
    for (Client* c : state.clients) {
      if (c->tracking.noloop) {
        const std::string adhoc = build_keys_array(state.keys, c->id());
        if (!adhoc.empty()) send(*c, adhoc, true);
      } else {
        send(*c, proto, true);
      }
    }
    state.keys.clear();
  }
}

void Tracking::flush_pending() {
  if (pending_.empty()) return;
  std::vector<std::optional<std::string>> pending;
  pending.swap(pending_);
  if (current_ == nullptr) return;
  for (const auto& key : pending) {
    if (key)
      send(*current_, *key, false);
    else
      send(*current_, null_of(current_->resp()), true);
  }
}

void Tracking::client_removed(Client& c) {
  disable(c);
  if (current_ == &c) {
    current_ = nullptr;
    pending_.clear();
  }
}

void Tracking::send(Client& c, std::string_view payload, bool is_proto) {
  Client* target = &c;
  bool redirected = false;
  if (c.tracking.redirect != 0) {
    Client* redir = lookup_(c.tracking.redirect);
    if (redir == nullptr) {
      // Tell the client its redirect client is gone (RESP3 only).
      c.tracking.broken_redirect = true;
      if (c.resp() > 2 && !c.killed) {
        const size_t start = c.begin_push();
        c.reply.push(2);
        c.reply.bulk("tracking-redir-broken");
        c.reply.integer(static_cast<long long>(c.tracking.redirect));
        c.end_push(start);
        if (c.transport) c.transport->wake();
      }
      return;
    }
    target = redir;
    redirected = true;
  }
  if (target->killed) return;
  const size_t start = target->begin_push();
  auto& rb = target->reply;
  if (target->resp() > 2) {
    rb.push(2);
    rb.bulk("invalidate");
  } else if (redirected && target->subscriptions() > 0) {
    // RESP2: a Pub/Sub message on __redis__:invalidate to the redirect
    // client, which must be subscribed (to anything).
    rb.array(3);
    rb.bulk("message");
    rb.bulk(kChannel);
  } else {
    return;  // RESP2 without a subscribed redirect client: nowhere to send
  }
  if (is_proto) {
    rb.raw(payload);
  } else {
    rb.array(1);
    rb.bulk(payload);
  }
  target->end_push(start);
  if (target->transport) target->transport->wake();
}

}  // namespace setd::server
