// Counters reported by INFO (stats, commandstats, errorstats sections).
#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace setd::server {

struct Stats {
  uint64_t connections_received = 0;
  uint64_t commands_processed = 0;
  uint64_t rejected_connections = 0;
  uint64_t expired_keys = 0;
  // maxmemory: keys and clients evicted, and how long memory has been over
  // the limit (total, and since when: 0 = it is not now; monotonic µs).
  uint64_t evicted_keys = 0;
  uint64_t evicted_clients = 0;
  uint64_t total_eviction_exceeded_us = 0;
  int64_t eviction_exceeded_since_us = 0;
  uint64_t keyspace_hits = 0;
  uint64_t keyspace_misses = 0;
  uint64_t pubsub_messages = 0;
  uint64_t net_input_bytes = 0;
  uint64_t net_output_bytes = 0;
  uint64_t total_error_replies = 0;
  uint64_t client_output_limit_disconnections = 0;
  uint64_t client_query_buffer_limit_disconnections = 0;
  // errorstats: error code ("ERR", "WRONGTYPE") -> count
  std::map<std::string, uint64_t> errors;

  void reset() { *this = Stats{}; }
};

}  // namespace setd::server
