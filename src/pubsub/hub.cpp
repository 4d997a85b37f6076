#include "setd/pubsub/hub.hpp"

#include <algorithm>

#include "setd/base/glob.hpp"

namespace setd::pubsub {

namespace {

bool add_to(std::unordered_map<std::string, std::vector<Subscriber*>>& map, Subscriber* s,
            std::string_view name, bool* created) {
  auto [it, inserted] = map.try_emplace(std::string(name));
  if (created) *created = inserted;
  auto& subs = it->second;
  if (std::find(subs.begin(), subs.end(), s) != subs.end()) return false;
  subs.push_back(s);
  return true;
}

bool remove_from(std::unordered_map<std::string, std::vector<Subscriber*>>& map, Subscriber* s,
                 std::string_view name, bool* emptied) {
  auto it = map.find(std::string(name));
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
  if (emptied) std::erase(pattern_order_, std::string(pattern));
  if (changed) ++generation_;
  return changed;
}

size_t Hub::publish(std::string_view channel, std::string_view payload) {
  size_t receivers = 0;
  if (auto it = channels_.find(std::string(channel)); it != channels_.end()) {
    // Copy: a delivery may not unsubscribe, but be safe against reentrancy.
    const auto subs = it->second;
    for (Subscriber* s : subs) {
      s->deliver({}, channel, payload);
      ++receivers;
    }
  }
  if (!patterns_.empty()) {
    const auto order = pattern_order_;
    for (const auto& pattern : order) {
      if (!base::glob_match(pattern, channel)) continue;
      auto it = patterns_.find(pattern);
      if (it == patterns_.end()) continue;
      const auto subs = it->second;
      for (Subscriber* s : subs) {
        s->deliver(pattern, channel, payload);
        ++receivers;
      }
    }
  }
  return receivers;
}

bool Hub::has_listener(std::string_view channel) const {
  if (!channels_.empty() && channels_.count(std::string(channel))) return true;
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
  auto it = channels_.find(std::string(channel));
  return it == channels_.end() ? 0 : it->second.size();
}

}  // namespace setd::pubsub
