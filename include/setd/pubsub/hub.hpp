// Pub/Sub routing: channels, glob patterns, and who listens to what.
//
// Dependency rule (module pubsub): proto and base only. Subscribers are seen
// through the Subscriber interface, so the hub knows nothing of clients or
// connections; it hands each delivery to the subscriber, which formats it for
// its own protocol version.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace setd::pubsub {

class Subscriber {
 public:
  virtual ~Subscriber() = default;
  // A message on `channel`; `pattern` is empty for a direct subscription.
  // Must not change any subscription of the hub that calls it.
  virtual void deliver(std::string_view pattern, std::string_view channel,
                       std::string_view payload) = 0;
};

class Hub {
 public:
  // Subscribe/unsubscribe; return true if this changed anything.
  bool subscribe(Subscriber* s, std::string_view channel);
  bool unsubscribe(Subscriber* s, std::string_view channel);
  bool psubscribe(Subscriber* s, std::string_view pattern);
  bool punsubscribe(Subscriber* s, std::string_view pattern);

  // Delivers to channel subscribers (in subscription order), then to pattern
  // subscribers (patterns in the order they first appeared, each pattern's
  // subscribers in subscription order). A subscriber on the channel and on
  // matching patterns gets one delivery per subscription, as in Redis.
  // Returns the number of deliveries (PUBLISH's reply).
  size_t publish(std::string_view channel, std::string_view payload);

  // Is anybody listening on `channel`, directly or through a pattern?
  // Cheap enough for a hot path: callers who publish often may instead keep
  // the result and refresh it when generation() changes.
  bool has_listener(std::string_view channel) const;
  // Bumped on every subscription change.
  uint64_t generation() const { return generation_; }

  // Every delivery made by publish() is also added to *counter (statistics);
  // nullptr (the default) counts nothing. `counter` must outlive the hub.
  void set_delivery_counter(uint64_t* counter) { delivered_ = counter; }

  // PUBSUB CHANNELS [pattern] (empty pattern: all) / NUMSUB / NUMPAT.
  std::vector<std::string> channels(std::string_view pattern) const;
  size_t numsub(std::string_view channel) const;
  // Distinct patterns with at least one subscriber.
  size_t numpat() const { return patterns_.size(); }
  // Distinct channels with at least one subscriber.
  size_t channel_count() const { return channels_.size(); }

 private:
  // Heterogeneous lookup: find by string_view without building a string.
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  using Map = std::unordered_map<std::string, std::vector<Subscriber*>, Hash, std::equal_to<>>;

  Map channels_;
  // pattern -> subscribers, plus the order patterns were first added.
  Map patterns_;
  std::vector<std::string> pattern_order_;
  uint64_t generation_ = 0;
  uint64_t* delivered_ = nullptr;
};

}  // namespace setd::pubsub
