#include "setd/pubsub/hub.hpp"

#include <algorithm>

#include "setd/base/glob.hpp"

namespace setd::pubsub {

namespace {

// Adds `s` under `name`; true if it was not there yet. `created` tells
// whether `name` itself is new.
template <typename Map>
bool add_to(Map& map, Subscriber* s, std::string_view name, bool* created) {
  auto it = map.find(name);
  const bool is_new = it == map.end();
  if (is_new) it = map.emplace(std::string(name), std::vector<Subscriber*>{}).first;
  if (created) *created = is_new;
  auto& subs = it->second;
  if (std::find(subs.begin(), subs.end(), s) != subs.end()) return false;
  subs.push_back(s);
  return true;
}

// Removes `s` from `name`; true if it was there. `emptied` tells whether
// `name` lost its last subscriber (and so was removed).
template <typename Map>
bool remove_from(Map& map, Subscriber* s, std::string_view name, bool* emptied) {
  auto it = map.find(name);
  if (it == map.end()) return false;
  auto& subs = it->second;
  auto pos = std::find(subs.begin(), subs.end(), s);
  if (pos == subs.end()) return false;
  subs.erase(pos);
  if (subs.empty()) {
    map.erase(it);
    if (emptied) *emptied = true;
  }
  return true;
}

}  // namespace

bool Hub::subscribe(Subscriber* s, std::string_view channel) {
  const bool changed = add_to(channels_, s, channel, nullptr);
  if (changed) ++generation_;
  return changed;
}

bool Hub::unsubscribe(Subscriber* s, std::string_view channel) {
  const bool changed = remove_from(channels_, s, channel, nullptr);
  if (changed) ++generation_;
  return changed;
}

bool Hub::psubscribe(Subscriber* s, std::string_view pattern) {
  bool created = false;
  const bool changed = add_to(patterns_, s, pattern, &created);
  if (created) pattern_order_.emplace_back(pattern);
  if (changed) ++generation_;
  return changed;
}

bool Hub::punsubscribe(Subscriber* s, std::string_view pattern) {
  bool emptied = false;
  const bool changed = remove_from(patterns_, s, pattern, &emptied);
  if (emptied) std::erase(pattern_order_, pattern);
  if (changed) ++generation_;
  return changed;
}

size_t Hub::publish(std::string_view channel, std::string_view payload) {
  // Subscribers may not change subscriptions while being delivered to (see
  // Subscriber::deliver), so the containers can be walked in place.
  size_t receivers = 0;
  if (!channels_.empty()) {
    if (auto it = channels_.find(channel); it != channels_.end()) {
      for (Subscriber* s : it->second) s->deliver({}, channel, payload);
      receivers += it->second.size();
    }
  }
  for (const auto& pattern : pattern_order_) {
    if (!base::glob_match(pattern, channel)) continue;
    auto it = patterns_.find(pattern);
    if (it == patterns_.end()) continue;
    for (Subscriber* s : it->second) s->deliver(pattern, channel, payload);
    receivers += it->second.size();
  }
  if (delivered_) *delivered_ += receivers;
  return receivers;
}

bool Hub::has_listener(std::string_view channel) const {
  if (!channels_.empty() && channels_.find(channel) != channels_.end()) return true;
  for (const auto& pattern : pattern_order_)
    if (base::glob_match(pattern, channel)) return true;
  return false;
}

std::vector<std::string> Hub::channels(std::string_view pattern) const {
  std::vector<std::string> out;
  for (const auto& [name, subs] : channels_)
    if (pattern.empty() || base::glob_match(pattern, name)) out.push_back(name);
  return out;
}

size_t Hub::numsub(std::string_view channel) const {
  auto it = channels_.find(channel);
  return it == channels_.end() ? 0 : it->second.size();
}

}  // namespace setd::pubsub
