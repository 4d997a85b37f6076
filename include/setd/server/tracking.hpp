// Client-side caching (CLIENT TRACKING): which clients may hold which keys
// in their caches, and the invalidation messages they get when those keys
// change, with Redis 7.0's rules (tracking.c).
//
// Dependency rule (module server): proto and base; clients are seen as
// Client (client.hpp) and found by id through the lookup it is given, so
// the tables know nothing of ServerState, connections or commands. The
// tables are global across databases, as in Redis: a key name is a key
// name, whatever its database.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "setd/server/client.hpp"

namespace setd::server {

class Tracking {
 public:
  // Finds a live client by id (nullptr if gone).
  using Lookup = std::function<Client*(uint64_t id)>;
  explicit Tracking(Lookup lookup) : lookup_(std::move(lookup)) {}

  // What CLIENT TRACKING ON asked for.
  struct Options {
    uint64_t redirect = 0;
    bool bcast = false;
    bool optin = false;
    bool optout = false;
    bool noloop = false;
    std::vector<std::string_view> prefixes;
  };

  // Redis's checkPrefixCollisionsOrReply: the error text when a prefix
  // overlaps one `c` already has or another one given. As in Redis 7.0, an
  // overlap between two given prefixes found past the first one still lets
  // tracking be enabled (`enable_anyway`), after the error reply.
  std::optional<std::string> prefix_collision(const Client& c,
                                              std::span<const std::string_view> prefixes,
                                              bool& enable_anyway) const;
  // Redis's enableTracking / disableTracking. enable() on a client that
  // tracks already changes its options and adds prefixes.
  void enable(Client& c, const Options& o);
  void disable(Client& c);

  // After a read-only command of `c` (not in BCAST mode): remembers that
  // `c` may cache `keys`, unless OPTIN without CACHING yes or OPTOUT with
  // CACHING no say otherwise (Redis's trackingRememberKeys).
  void remember_keys(Client& c, std::span<const std::string_view> keys);

  // A key changed (Redis's trackingInvalidateKey): every client that may
  // cache it gets an invalidation and the key is forgotten. `modifier`: the
  // client whose command changed it (nullptr for expiry and eviction), for
  // BCAST's NOLOOP; `bcast`: also queue it for BCAST clients whose prefix
  // matches (not when the table itself drops a key).
  void invalidate_key(std::string_view key, const Client* modifier, bool bcast = true);
  // A database was flushed: every tracking client gets a null invalidation
  // ("everything") and the table is emptied
  // (trackingInvalidateKeysOnFlush).
  void invalidate_on_flush();
  // Keeps the table within `max_keys` keys (0: no limit) by dropping
  // random keys, with invalidations (trackingLimitUsedSlots).
  void limit_used_slots(size_t max_keys);
  // Sends the BCAST invalidations gathered since the last call, one array
  // of keys per prefix (trackingBroadcastInvalidationMessages). The server
  // runs it once the ready I/O has been served; `on_broadcast_queued` is
  // told when the first key is queued, to schedule that.
  void broadcast();
  std::function<void()> on_broadcast_queued;

  // The client whose request runs (Redis's server.current_client): while
  // `executing`, invalidations addressed to it wait for the end of its
  // command (flush_pending()), so that they never land inside its reply;
  // NOLOOP compares with it.
  void set_current(Client* c) { current_ = c; }
  Client* current() const { return current_; }
  void set_executing(bool v) { executing_ = v; }
  // Sends what waited for the current client's reply
  // (trackingHandlePendingKeyInvalidations).
  void flush_pending();
  // A client goes away: it stops tracking and is no longer current.
  void client_removed(Client& c);

  // INFO: tracking_clients, tracking_total_keys / items / prefixes.
  size_t clients() const { return clients_.size(); }
  size_t total_keys() const { return table_.size(); }
  size_t total_items() const { return total_items_; }
  size_t total_prefixes() const { return prefixes_.size(); }
  // Some client ever enabled tracking (Redis allocates its tables then).
  bool active() const { return active_; }

 private:
  // Appends one invalidation for `c` (to its redirect client, if any):
  // `payload` is the RESP of the keys (an array, or a null) when `is_proto`,
  // else one key name (Redis's sendTrackingMessage).
  void send(Client& c, std::string_view payload, bool is_proto);
  // Queues `key` for every prefix it matches.
  void remember_for_broadcast(const Client* modifier, std::string_view key);

  struct PrefixState {
    // Keys changed since the last broadcast, in byte order, each with the
    // id of the client that changed it last (0: none).
    std::map<std::string, uint64_t, std::less<>> keys;
    std::vector<Client*> clients;
  };

  Lookup lookup_;
  bool active_ = false;
  std::map<uint64_t, Client*> clients_;  // tracking clients by id
  // Heterogeneous lookup: find by string_view without building a string.
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  // key -> ids of the clients that may cache it (sorted).
  std::unordered_map<std::string, std::vector<uint64_t>, Hash, std::equal_to<>> table_;
  size_t total_items_ = 0;
  std::map<std::string, PrefixState, std::less<>> prefixes_;
  bool broadcast_queued_ = false;
  Client* current_ = nullptr;
  bool executing_ = false;
  // Invalidations for the current client: a key, or nullopt for a flush.
  std::vector<std::optional<std::string>> pending_;
  unsigned limit_rounds_ = 0;  // trackingLimitUsedSlots' timeout_counter
};

}  // namespace setd::server
