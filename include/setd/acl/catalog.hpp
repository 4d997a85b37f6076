// Redis 7.0's ACL categories and command catalog.
//
// ACL rules may name any Redis command or subcommand (a user definition
// copied from a Redis deployment must load), and ACL LIST / GETUSER fit
// categories by counting every command of Redis. So the catalog holds all
// of Redis 7.0's commands (generated from redis-server's COMMAND output into
// src/acl/redis_commands.inc), each with an id that indexes the users'
// command bitmaps. Commands setd implements are a subset; the dispatcher maps
// each of its commands to its catalog id.
//
// Dependency rule (module acl): base only. It knows users, rules and
// permissions, never clients, sockets or the command table.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace setd::acl {

// Categories in Redis's order (ACL CAT, COMMAND INFO, rule fitting).
inline constexpr std::string_view kCategoryNames[] = {
    "keyspace", "read",   "write",       "set",       "sortedset",  "list",        "hash",
    "string",   "bitmap", "hyperloglog", "geo",       "stream",     "pubsub",      "admin",
    "fast",     "slow",   "blocking",    "dangerous", "connection", "transaction", "scripting"};
inline constexpr size_t kCategoryCount = sizeof(kCategoryNames) / sizeof(kCategoryNames[0]);

// The bit of a category name (case-insensitive, without '@'); 0 if unknown.
uint64_t category_bit(std::string_view name);

// Size of a user's command bitmap. The last bit is never a command: +@all
// sets it, so that a rule set started from +@all is told from one that
// only adds (Redis's "future commands" bit).
inline constexpr size_t kCommandBits = 1024;
inline constexpr size_t kFutureCommandsBit = kCommandBits - 1;

struct CatalogEntry {
  std::string name;  // full name, lower case: "sadd", "config|get"
  uint64_t categories = 0;
  int id = 0;
  int parent = -1;        // id of the container command, for a subcommand
  std::vector<int> subs;  // ids of the subcommands, for a container
  // A command setd has beyond Redis 7.0 (CLIENT SETINFO, from 7.2): rules
  // and categories cover it, but ACL CAT, the category fitting of ACL LIST
  // and its single-command rules leave it out, so that all stay exactly
  // Redis 7.0's (a user saved and loaded back gets it from categories).
  bool extra = false;
};

class Catalog {
 public:
  // Redis 7.0's commands.
  static const Catalog& redis();

  // Case-insensitive lookup of "name" or "container|sub" (Redis's
  // lookupCommandBySds over the original table); nullptr if unknown.
  const CatalogEntry* find(std::string_view fullname) const;
  const CatalogEntry& at(int id) const { return entries_[static_cast<size_t>(id)]; }
  // Top-level commands, in catalog order (their subcommands follow each).
  const std::vector<int>& top_level() const { return top_; }
  const std::vector<CatalogEntry>& entries() const { return entries_; }

  // Builds a catalog from {name, "@cat @cat"} rows (tests use small ones).
  struct Row {
    const char* name;
    const char* categories;
  };
  explicit Catalog(const std::vector<Row>& rows, const std::vector<Row>& extra_rows = {});

 private:
  std::vector<CatalogEntry> entries_;
  std::vector<int> top_;
};

}  // namespace setd::acl
