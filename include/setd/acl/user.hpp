// ACL users and selectors, with Redis 7.0's rule language and its
// permission checks.
//
// A user has flags (on/off, nopass, sanitize-payload), password hashes
// (SHA-256, hex) and selectors: the root selector plus any "(...)" ones.
// A selector allows commands (a bitmap over the catalog ids, plus allowed
// first arguments), keys (glob patterns with read/write permissions) and
// Pub/Sub channels (glob patterns). A command runs if any selector allows
// it with all its keys and channels.
//
// Dependency rule (module acl): base only.
#pragma once

#include <bitset>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "setd/acl/catalog.hpp"

namespace setd::acl {

// Why a rule did not apply (Redis's errno values in ACLSetUser).
enum class RuleError : uint8_t {
  kNone,
  kUnknownName,       // ENOENT: unknown command or category
  kSyntax,            // EINVAL
  kKeyAfterAllKeys,   // EEXIST
  kChannelAfterAll,   // EISDIR
  kNoSuchPassword,    // ENODEV
  kBadHash,           // EBADMSG
  kDuplicateUser,     // EALREADY
  kFirstArgOfSubcmd,  // ECHILD
};
// Redis's ACLSetUserStringError() text.
const char* rule_error_text(RuleError e);

// Key permissions of a pattern, and what a key reference needs.
enum Perm : uint8_t { kPermRead = 1, kPermWrite = 2, kPermAll = 3 };

// A glob pattern (keys or channels) with a fast path for the common
// shapes: "literal" and "prefix*" are compared directly, anything else goes
// to base::glob_match (same results: Redis's stringmatchlen).
class Pattern {
 public:
  explicit Pattern(std::string text = {});
  const std::string& text() const { return text_; }
  bool matches(std::string_view s) const;
  bool operator==(std::string_view other) const { return text_ == other; }

 private:
  enum class Kind : uint8_t { kExact, kPrefix, kGlob };
  std::string text_;
  Kind kind_ = Kind::kGlob;
};

// Whether a channel (or, with is_pattern, a PSUBSCRIBE pattern, which is
// compared literally) is among `patterns` (Redis's ACLCheckChannelAgainstList).
bool channel_in(const std::vector<Pattern>& patterns, std::string_view channel, bool is_pattern);

struct KeyPattern {
  Pattern pattern;
  uint8_t perms = kPermAll;
};

// Access a command makes: the keys (argument index and the permissions the
// key spec asks for) and channels (index, and whether the argument is a
// pattern, PSUBSCRIBE's).
struct KeyRef {
  size_t pos;
  uint8_t perms;
};
struct ChannelRef {
  size_t pos;
  bool is_pattern;
};

// What ACL checks: a command and how it touches keys and channels.
struct CommandRequest {
  int id = -1;  // catalog id
  bool is_subcommand = false;
  bool no_auth = false;  // no-auth commands are always allowed
  std::span<const std::string_view> args;
  std::span<const KeyRef> keys;
  std::span<const ChannelRef> channels;
};

// Ordered as Redis's ACL_* codes: with several selectors, the highest
// failure is reported.
enum class Verdict : uint8_t { kOk, kDeniedCommand, kDeniedKey, kDeniedAuth, kDeniedChannel };

// What rules depend on besides themselves.
struct RuleContext {
  const Catalog& catalog;
  bool all_channels_default = false;  // acl-pubsub-default allchannels
};

struct Selector {
  bool root = false;
  bool all_keys = false;
  bool all_channels = false;
  bool all_commands = false;
  std::bitset<kCommandBits> allowed;
  // Allowed first arguments of otherwise denied commands ("+select|0").
  std::map<int, std::vector<std::string>> first_args;
  std::vector<KeyPattern> keys;
  std::vector<Pattern> channels;

  // Applies one selector rule ("~k*", "+@set", "-get", ...).
  RuleError apply(std::string_view op, const Catalog& catalog);
  // Keys, channels and command rules as ACL LIST shows them.
  std::string describe(const Catalog& catalog) const;
  // The command rules alone, starting with +@all or -@all.
  std::string describe_commands(const Catalog& catalog) const;
  std::string describe_keys() const;      // ACL GETUSER "keys"
  std::string describe_channels() const;  // ACL GETUSER "channels"

  // The check for one command; `failed_pos` gets the argument that failed.
  Verdict check(const CommandRequest& req, size_t& failed_pos) const;
  bool key_allowed(std::string_view key, uint8_t perms) const;
  bool channel_allowed(std::string_view channel, bool is_pattern) const;

  void change_command(const Catalog& catalog, int id, bool allow);
};

class User {
 public:
  // A new user: off, no passwords, one root selector with nothing allowed
  // (channels per acl-pubsub-default).
  User(std::string name, bool all_channels_default);
  // The default user: on, nopass, ~* &* +@all.
  static User make_default(const Catalog& catalog);

  const std::string& name() const { return name_; }
  bool enabled() const { return (flags_ & kEnabled) != 0; }
  bool nopass() const { return (flags_ & kNopass) != 0; }
  const std::vector<std::string>& passwords() const { return passwords_; }
  const std::vector<Selector>& selectors() const { return selectors_; }
  const Selector& root() const { return selectors_.front(); }
  // Flag words in Redis's order ("on", "nopass", "sanitize-payload", ...).
  std::vector<std::string_view> flag_names() const;

  // Applies one rule (ACLSetUser). Not atomic across rules: Users::stage()
  // applies a whole ACL SETUSER to a copy.
  RuleError apply(std::string_view op, const RuleContext& ctx);

  // Everything, as ACL LIST shows after "user <name> ".
  std::string describe(const Catalog& catalog) const;

  // Password check (nopass accepts anything); disabled users never pass.
  bool check_password(std::string_view password) const;

  // Whether every selector grants all keys (then key lookups can be skipped).
  bool all_keys_everywhere() const { return all_keys_; }
  bool needs_channels() const { return !all_channels_; }

  Verdict check(const CommandRequest& req, size_t& failed_pos) const;
  bool channel_allowed(std::string_view channel, bool is_pattern) const;

  // Copies the rules (not the name) of `other`.
  void copy_rules_from(const User& other);

 private:
  enum : uint8_t {
    kEnabled = 1,
    kDisabled = 2,
    kNopass = 4,
    kSkipSanitize = 8,
    kSanitize = 16,
  };
  void refresh_summary();

  std::string name_;
  uint8_t flags_ = kDisabled;
  std::vector<std::string> passwords_;
  std::vector<Selector> selectors_;
  bool all_keys_ = false;
  bool all_channels_ = false;
};

// SHA-256 of a password, as 64 lower-case hex digits (Redis's ACLHashPassword).
std::string hash_password(std::string_view password);
// Hex digits from a cryptographically secure source (ACL GENPASS).
std::string random_hex(size_t chars);

// Joins arguments of a selector written over several words ("(~a" "+get)")
// as Redis's ACLMergeSelectorArguments. nullopt if a parenthesis is not
// closed; `open_index` gets where it opened.
std::optional<std::vector<std::string>> merge_selector_args(std::span<const std::string_view> args,
                                                            size_t* open_index = nullptr);

// True if the string has whitespace or NUL (not allowed in names, patterns).
bool has_spaces(std::string_view s);

}  // namespace setd::acl
