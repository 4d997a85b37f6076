// set.* events: a JSON message on channel "set.<event>" for each set
// operation (see README, "set.* events").
//
// Cost model: wanted() is a config check plus one bit test against a cache
// of which event channels have a listener (refreshed only when a
// subscription changes), so with nobody listening a command pays a few
// instructions and builds no JSON.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "setd/pubsub/hub.hpp"
#include "setd/server/config.hpp"

namespace setd::server {

enum class SetEvent : uint8_t {
  kAdded,               // SADD
  kRemoved,             // SREM
  kMembersRead,         // SMEMBERS
  kIsMemberCheck,       // SISMEMBER
  kMisMemberCheck,      // SMISMEMBER
  kCardinality,         // SCARD
  kRandomDraw,          // SRANDMEMBER
  kPopped,              // SPOP
  kMoved,               // SMOVE
  kIntersection,        // SINTER
  kIntersectionStored,  // SINTERSTORE
  kIntercard,           // SINTERCARD
  kUnion,               // SUNION
  kUnionStored,         // SUNIONSTORE
  kDifference,          // SDIFF
  kDifferenceStored,    // SDIFFSTORE
  kScan,                // SSCAN
  kUnionCard,           // SUNIONCARD
  kDiffCard,            // SDIFFCARD
  kCount
};

// "set.added", ...
std::string_view set_event_channel(SetEvent e);
// Writes change data (SADD, SREM, SPOP, SMOVE, *STORE).
bool set_event_is_write(SetEvent e);

// Builds one event's JSON object: {"event":"set.added","db":0, ...}.
class SetEventJson {
 public:
  SetEventJson(std::string& buf, SetEvent e, int db);
  SetEventJson& str(std::string_view field, std::string_view value);
  SetEventJson& num(std::string_view field, long long value);
  SetEventJson& null(std::string_view field);
  SetEventJson& strs(std::string_view field, std::span<const std::string_view> values);
  // Closes the object and returns it.
  std::string_view finish();

 private:
  void name(std::string_view field);
  std::string& buf_;
};

class SetEventPublisher {
 public:
  SetEventPublisher(pubsub::Hub& hub, const Settings& settings) : hub_(hub), settings_(settings) {}

  // Would publishing `e` reach anybody?
  bool wanted(SetEvent e) {
    const SetEvents level = settings_.set_events;
    if (level == SetEvents::kNone) return false;
    if (level == SetEvents::kWrites && !set_event_is_write(e)) return false;
    if (hub_.generation() != generation_) refresh();
    return (listening_ >> static_cast<unsigned>(e)) & 1u;
  }

  // Starts an event (only after wanted() said yes); publish with publish().
  SetEventJson begin(SetEvent e, int db) {
    current_ = e;
    return SetEventJson(buf_, e, db);
  }
  void publish(SetEventJson& json);

 private:
  void refresh();

  pubsub::Hub& hub_;
  const Settings& settings_;
  uint64_t generation_ = ~0ULL;
  uint32_t listening_ = 0;
  std::string buf_;
  SetEvent current_ = SetEvent::kAdded;
};

}  // namespace setd::server
