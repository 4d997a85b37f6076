// The set of ACL users (with the default user), the ACL file, and the ACL
// log, as Redis 7.0's acl.c keeps them.
//
// Users live at stable addresses (clients point at their user). Operations
// that remove users hand them back to the caller, which first moves their
// clients off them (Redis disconnects those clients) and then drops them.
//
// Dependency rule (module acl): base only.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "setd/acl/user.hpp"

namespace setd::acl {

enum class LogReason : uint8_t { kCommand, kKey, kChannel, kAuth };
enum class LogContext : uint8_t { kToplevel, kMulti, kLua, kModule };

struct LogEntry {
  uint64_t count = 1;
  LogReason reason = LogReason::kCommand;
  LogContext context = LogContext::kToplevel;
  std::string object;    // command, key, channel, or the username tried (auth)
  std::string username;  // the client's user (auth: the name tried)
  int64_t ctime_ms = 0;
  std::string client_info;  // CLIENT INFO of the client, at the last event
};

const char* reason_name(LogReason r);
const char* context_name(LogContext c);

class Users {
 public:
  explicit Users(const Catalog& catalog = Catalog::redis());

  const Catalog& catalog() const { return catalog_; }
  RuleContext rule_context() const { return {catalog_, all_channels_default}; }

  User& default_user() { return *default_; }
  const User& default_user() const { return *default_; }
  User* find(std::string_view name);
  // In name order (Redis's radix tree): ACL LIST, ACL USERS, ACL SAVE.
  const std::map<std::string, std::unique_ptr<User>, std::less<>>& all() const { return users_; }

  // acl-pubsub-default allchannels (Redis 7.0's default is resetchannels).
  bool all_channels_default = false;

  // A client that has not authenticated must (Redis's authRequired): the
  // default user has a password or is off.
  bool auth_required_by_default() const { return !default_->nopass() || !default_->enabled(); }

  // ACL SETUSER's staging: `base` (or a new user) with `rules` applied, all
  // or nothing. The error text is Redis's.
  std::variant<User, std::string> stage(std::string_view name, const User* base,
                                        std::span<const std::string_view> rules) const;
  // Stores a staged user under its name (creating it or updating it in place).
  User& commit(const User& staged);
  // True if `updated` may no longer use some channel `old` could: Redis then
  // checks the user's subscribed clients (ACLKillPubsubClientsIfNeeded).
  // `allowed` gets the channel patterns of `updated`.
  static bool channels_narrowed(const User& updated, const User& old,
                                std::vector<Pattern>& allowed);

  // Removes a user (never "default"); nullptr if there was none.
  std::unique_ptr<User> remove(std::string_view name);

  // requirepass: sets or clears (nopass) the default user's password.
  void set_default_password(const std::optional<std::string>& password);

  // `user` directives of the config file: validated as they are read
  // (error text as Redis's config loader, rules checked against a new user
  // as acl-pubsub-default is at that line), applied by load_config_users().
  // `validate` false only queues a definition that was checked before.
  std::string add_config_user(std::span<const std::string_view> words, bool validate = true);
  bool has_config_users() const { return !config_users_.empty(); }
  std::string load_config_users();

  // ACL LOAD / start-up with aclfile: replaces every user from the file's
  // text, or changes nothing and returns the errors. The default user keeps
  // its address; the other old users are handed back in `removed`.
  std::optional<std::string> load_file_text(const std::string& filename, std::string_view text,
                                            std::vector<std::unique_ptr<User>>& removed);
  // The file ACL SAVE writes.
  std::string file_text() const;
  // "user <name> <rules>" for every user, in name order: ACL LIST, ACL SAVE
  // and CONFIG REWRITE.
  std::vector<std::string> user_lines() const;

  // ACL log.
  size_t log_max_len = 128;
  void log(LogReason reason, LogContext context, std::string object, std::string username,
           std::string client_info, int64_t now_ms);
  const std::deque<LogEntry>& log_entries() const { return log_; }
  void reset_log() { log_.clear(); }

 private:
  const Catalog& catalog_;
  std::map<std::string, std::unique_ptr<User>, std::less<>> users_;
  User* default_ = nullptr;
  std::vector<std::vector<std::string>> config_users_;
  std::deque<LogEntry> log_;
};

}  // namespace setd::acl
