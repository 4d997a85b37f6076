#include "setd/acl/user.hpp"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cctype>
#include <climits>
#include <stdexcept>

#include "setd/base/glob.hpp"
#include "setd/base/split_args.hpp"

namespace setd::acl {

namespace {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

bool valid_hash(std::string_view h) {
  if (h.size() != 64) return false;
  for (const char c : h)
    if (!((c >= 'a' && c <= 'f') || (c >= '0' && c <= '9'))) return false;
  return true;
}

// Compares two hashes of equal length without an early exit.
bool same_hash(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned diff = 0;
  for (size_t i = 0; i < a.size(); ++i)
    diff |=
        static_cast<unsigned>(static_cast<unsigned char>(a[i]) ^ static_cast<unsigned char>(b[i]));
  return diff == 0;
}

constexpr char kHex[] = "0123456789abcdef";

}  // namespace

const char* rule_error_text(RuleError e) {
  switch (e) {
    case RuleError::kUnknownName:
      return "Unknown command or category name in ACL";
    case RuleError::kSyntax:
      return "Syntax error";
    case RuleError::kKeyAfterAllKeys:
      return "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does "
             "not have any effect. Try 'resetkeys' to start with an empty list of patterns";
    case RuleError::kChannelAfterAll:
      return "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and "
             "does not have any effect. Try 'resetchannels' to start with an empty list of "
             "channels";
    case RuleError::kNoSuchPassword:
      return "The password you are trying to remove from the user does not exist";
    case RuleError::kBadHash:
      return "The password hash must be exactly 64 characters and contain only lowercase "
             "hexadecimal characters";
    case RuleError::kDuplicateUser:
      return "Duplicate user found. A user can only be defined once in config files";
    case RuleError::kFirstArgOfSubcmd:
      return "Allowing first-arg of a subcommand is not supported";
    case RuleError::kNone:
      break;
  }
  return "Wrong format";
}

std::string hash_password(std::string_view password) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(password.data(), password.size(), md, &len, EVP_sha256(), nullptr) != 1)
    throw std::runtime_error("SHA-256 failed");
  std::string out;
  out.reserve(len * 2);
  for (unsigned i = 0; i < len; ++i) {
    out += kHex[md[i] >> 4];
    out += kHex[md[i] & 0xF];
  }
  return out;
}

std::string random_hex(size_t chars) {
  std::string bytes((chars + 1) / 2, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(bytes.data()), static_cast<int>(bytes.size())) !=
      1)
    throw std::runtime_error("no random bytes");
  std::string out;
  out.reserve(chars);
  for (const char b : bytes) {
    const auto u = static_cast<unsigned char>(b);
    out += kHex[u >> 4];
    out += kHex[u & 0xF];
  }
  out.resize(chars);
  return out;
}

bool has_spaces(std::string_view s) {
  for (const char c : s)
    if (std::isspace(static_cast<unsigned char>(c)) || c == '\0') return true;
  return false;
}

std::optional<std::vector<std::string>> merge_selector_args(std::span<const std::string_view> args,
                                                            size_t* open_index) {
  std::vector<std::string> out;
  std::string selector;
  bool open = false;
  size_t opened_at = 0;
  for (size_t j = 0; j < args.size(); ++j) {
    const std::string_view op = args[j];
    if (!op.empty() && op.front() == '(' && op.back() != ')') {
      selector = std::string(op);
      open = true;
      opened_at = j;
      continue;
    }
    if (open) {
      selector += ' ';
      selector += op;
      if (!op.empty() && op.back() == ')') {
        open = false;
        out.push_back(std::move(selector));
        selector.clear();
      }
      continue;
    }
    out.emplace_back(op);
  }
  if (open) {
    if (open_index) *open_index = opened_at;
    return std::nullopt;
  }
  return out;
}

// --- Pattern ------------------------------------------------------------------

Pattern::Pattern(std::string text) : text_(std::move(text)) {
  const size_t special = text_.find_first_of("*?[\\");
  if (special == std::string::npos)
    kind_ = Kind::kExact;
  else if (special == text_.size() - 1 && text_.back() == '*')
    kind_ = Kind::kPrefix;
  else
    kind_ = Kind::kGlob;
}

bool Pattern::matches(std::string_view s) const {
  switch (kind_) {
    case Kind::kExact:
      return s == text_;
    case Kind::kPrefix:
      // As stringmatchlen: "p*" matches p itself, but "*" not the empty string.
      return !s.empty() && s.size() >= text_.size() - 1 &&
             s.compare(0, text_.size() - 1, text_, 0, text_.size() - 1) == 0;
    case Kind::kGlob:
      break;
  }
  return base::glob_match(text_, s);
}

// --- Selector -----------------------------------------------------------------

void Selector::change_command(const Catalog& catalog, int id, bool allow) {
  auto set_bit = [&](int bit) {
    allowed.set(static_cast<size_t>(bit), allow);
    if (!allow) all_commands = false;
  };
  set_bit(id);
  first_args.erase(id);
  for (const int sub : catalog.at(id).subs) set_bit(sub);
}

namespace {

void change_category(Selector& s, const Catalog& catalog, uint64_t bit, bool allow) {
  for (const auto& e : catalog.entries())
    if (e.categories & bit) s.change_command(catalog, e.id, allow);
}

void count_category(const std::bitset<kCommandBits>& bits, const Catalog& catalog, uint64_t cat,
                    unsigned long& on, unsigned long& off) {
  on = off = 0;
  for (const auto& e : catalog.entries()) {
    if (!(e.categories & cat) || e.extra) continue;
    if (bits.test(static_cast<size_t>(e.id)))
      ++on;
    else
      ++off;
  }
}

}  // namespace

RuleError Selector::apply(std::string_view op, const Catalog& catalog) {
  if (iequals(op, "allkeys") || iequals(op, "~*")) {
    all_keys = true;
    keys.clear();
  } else if (iequals(op, "resetkeys")) {
    all_keys = false;
    keys.clear();
  } else if (iequals(op, "allchannels") || iequals(op, "&*")) {
    all_channels = true;
    channels.clear();
  } else if (iequals(op, "resetchannels")) {
    all_channels = false;
    channels.clear();
  } else if (iequals(op, "allcommands") || iequals(op, "+@all")) {
    allowed.set();
    all_commands = true;
    first_args.clear();
  } else if (iequals(op, "nocommands") || iequals(op, "-@all")) {
    allowed.reset();
    all_commands = false;
    first_args.clear();
  } else if (!op.empty() && (op[0] == '~' || op[0] == '%')) {
    if (all_keys) return RuleError::kKeyAfterAllKeys;
    uint8_t perms = 0;
    size_t offset = 1;
    if (op[0] == '%') {
      for (; offset < op.size(); ++offset) {
        const char c = static_cast<char>(std::toupper(static_cast<unsigned char>(op[offset])));
        if (c == 'R' && !(perms & kPermRead)) {
          perms |= kPermRead;
        } else if (c == 'W' && !(perms & kPermWrite)) {
          perms |= kPermWrite;
        } else if (op[offset] == '~') {
          ++offset;
          break;
        } else {
          return RuleError::kSyntax;
        }
      }
      // "%~x" names no permission: Redis accepts it and then cannot print
      // the user; setd refuses it.
      if (perms == 0) return RuleError::kSyntax;
    } else {
      perms = kPermAll;
    }
    const std::string_view pattern = op.substr(offset);
    if (has_spaces(pattern)) return RuleError::kSyntax;
    auto it = std::find_if(keys.begin(), keys.end(),
                           [&](const KeyPattern& k) { return k.pattern == pattern; });
    if (it == keys.end())
      keys.push_back({Pattern(std::string(pattern)), perms});
    else
      it->perms |= perms;
    all_keys = false;
  } else if (!op.empty() && op[0] == '&') {
    if (all_channels) return RuleError::kChannelAfterAll;
    const std::string_view pattern = op.substr(1);
    if (has_spaces(pattern)) return RuleError::kSyntax;
    if (std::none_of(channels.begin(), channels.end(),
                     [&](const Pattern& c) { return c == pattern; }))
      channels.emplace_back(std::string(pattern));
    all_channels = false;
  } else if (!op.empty() && op[0] == '+' && (op.size() < 2 || op[1] != '@')) {
    const std::string_view name = op.substr(1);
    const size_t bar = name.rfind('|');
    if (bar == std::string_view::npos) {
      const CatalogEntry* cmd = catalog.find(name);
      if (cmd == nullptr) return RuleError::kUnknownName;
      change_command(catalog, cmd->id, true);
    } else {
      const CatalogEntry* cmd = catalog.find(name.substr(0, bar));
      if (cmd == nullptr) return RuleError::kUnknownName;
      if (cmd->parent >= 0) return RuleError::kFirstArgOfSubcmd;
      const std::string_view sub = name.substr(bar + 1);
      if (sub.empty()) return RuleError::kSyntax;
      if (!cmd->subs.empty()) {
        const CatalogEntry* subcmd = catalog.find(name);
        if (subcmd == nullptr) return RuleError::kUnknownName;
        change_command(catalog, subcmd->id, true);
      } else {
        auto& list = first_args[cmd->id];
        if (std::none_of(list.begin(), list.end(),
                         [&](const std::string& a) { return iequals(a, sub); }))
          list.emplace_back(sub);
      }
    }
  } else if (!op.empty() && op[0] == '-' && (op.size() < 2 || op[1] != '@')) {
    const CatalogEntry* cmd = catalog.find(op.substr(1));
    if (cmd == nullptr) return RuleError::kUnknownName;
    change_command(catalog, cmd->id, false);
  } else if (op.size() >= 2 && (op[0] == '+' || op[0] == '-') && op[1] == '@') {
    const uint64_t bit = category_bit(op.substr(2));
    if (bit == 0) return RuleError::kUnknownName;
    change_category(*this, catalog, bit, op[0] == '+');
  } else {
    return RuleError::kSyntax;
  }
  return RuleError::kNone;
}

std::string Selector::describe_commands(const Catalog& catalog) const {
  // Redis's ACLDescribeSelectorCommandRules: start from +@all or -@all,
  // apply the best-fitting categories one by one (tracked on `fake`, while
  // `temp` forgets what each applied category covered), then fix the
  // remaining differences command by command.
  std::string rules;
  Selector fake;
  const bool additive = !allowed.test(kFutureCommandsBit);
  if (additive) {
    rules = "-@all ";
    fake.apply("-@all", catalog);
  } else {
    rules = "+@all ";
    fake.apply("+@all", catalog);
  }
  Selector temp;
  temp.allowed = allowed;
  bool applied[kCategoryCount] = {};
  while (true) {
    int best = -1;
    unsigned long mindiff = INT_MAX, maxsame = 0;
    for (size_t j = 0; j < kCategoryCount; ++j) {
      if (applied[j]) continue;
      unsigned long on = 0, off = 0;
      count_category(temp.allowed, catalog, 1ull << j, on, off);
      const unsigned long diff = additive ? off : on;
      const unsigned long same = additive ? on : off;
      if (same > diff && (diff < mindiff || (diff == mindiff && same > maxsame))) {
        best = static_cast<int>(j);
        mindiff = diff;
        maxsame = same;
      }
    }
    if (best < 0) break;
    const uint64_t bit = 1ull << best;
    change_category(fake, catalog, bit, additive);
    change_category(temp, catalog, bit, !additive);
    rules += additive ? "+@" : "-@";
    rules += kCategoryNames[best];
    rules += ' ';
    applied[best] = true;
  }
  auto single = [&](const CatalogEntry& cmd, auto& self) -> void {
    // Commands Redis 7.0 lacks are never named: its ACL LIST could not
    // show them, nor load them back.
    if (cmd.extra) return;
    const bool userbit = allowed.test(static_cast<size_t>(cmd.id));
    const bool fakebit = fake.allowed.test(static_cast<size_t>(cmd.id));
    if (userbit != fakebit) {
      rules += userbit ? '+' : '-';
      rules += cmd.name;
      rules += ' ';
      fake.change_command(catalog, cmd.id, userbit);
    }
    for (const int sub : cmd.subs) self(catalog.at(sub), self);
    if (!userbit) {
      auto it = first_args.find(cmd.id);
      if (it != first_args.end()) {
        for (const auto& a : it->second) {
          rules += '+';
          rules += cmd.name;
          rules += '|';
          rules += a;
          rules += ' ';
        }
      }
    }
  };
  for (const int id : catalog.top_level()) single(catalog.at(id), single);
  rules.pop_back();
  return rules;
}

std::string Selector::describe_keys() const {
  if (all_keys) return "~*";
  std::string out;
  for (const auto& k : keys) {
    if (!out.empty()) out += ' ';
    out += k.perms == kPermAll ? "~" : (k.perms == kPermRead ? "%R~" : "%W~");
    out += k.pattern.text();
  }
  return out;
}

std::string Selector::describe_channels() const {
  if (all_channels) return "&*";
  std::string out;
  for (const auto& c : channels) {
    if (!out.empty()) out += ' ';
    out += '&';
    out += c.text();
  }
  return out;
}

std::string Selector::describe(const Catalog& catalog) const {
  // ACL LIST's form: the GETUSER fields, each followed by a space, and
  // "resetchannels" before a channel list that is not &*.
  std::string out = describe_keys();
  if (!out.empty()) out += ' ';
  if (!all_channels) out += "resetchannels ";
  if (const std::string ch = describe_channels(); !ch.empty()) out += ch + ' ';
  out += describe_commands(catalog);
  return out;
}

bool Selector::key_allowed(std::string_view key, uint8_t perms) const {
  if (all_keys) return true;
  for (const auto& k : keys) {
    if ((k.perms & perms) != perms) continue;
    if (k.pattern.matches(key)) return true;
  }
  return false;
}

bool channel_in(const std::vector<Pattern>& patterns, std::string_view channel, bool is_pattern) {
  for (const auto& c : patterns)
    if (is_pattern ? c == channel : c.matches(channel)) return true;
  return false;
}

bool Selector::channel_allowed(std::string_view channel, bool is_pattern) const {
  return all_channels || channel_in(channels, channel, is_pattern);
}

Verdict Selector::check(const CommandRequest& req, size_t& failed_pos) const {
  if (!all_commands && !req.no_auth && !allowed.test(static_cast<size_t>(req.id))) {
    auto it = first_args.find(req.id);
    if (req.args.size() < 2 || it == first_args.end()) return Verdict::kDeniedCommand;
    const size_t idx = req.is_subcommand ? 2 : 1;
    if (idx >= req.args.size()) return Verdict::kDeniedCommand;
    const std::string_view arg = req.args[idx];
    if (std::none_of(it->second.begin(), it->second.end(),
                     [&](const std::string& a) { return iequals(a, arg); }))
      return Verdict::kDeniedCommand;
  }
  if (!all_keys) {
    for (const auto& k : req.keys) {
      if (!key_allowed(req.args[k.pos], k.perms)) {
        failed_pos = k.pos;
        return Verdict::kDeniedKey;
      }
    }
  }
  if (!all_channels) {
    for (const auto& c : req.channels) {
      if (!channel_allowed(req.args[c.pos], c.is_pattern)) {
        failed_pos = c.pos;
        return Verdict::kDeniedChannel;
      }
    }
  }
  return Verdict::kOk;
}

// --- User -----------------------------------------------------------------------

User::User(std::string name, bool all_channels_default) : name_(std::move(name)) {
  Selector root;
  root.root = true;
  root.all_channels = all_channels_default;
  selectors_.push_back(std::move(root));
  refresh_summary();
}

User User::make_default(const Catalog& catalog) {
  User u("default", false);
  const RuleContext ctx{catalog, false};
  for (const char* op : {"+@all", "~*", "&*", "on", "nopass"}) u.apply(op, ctx);
  return u;
}

std::vector<std::string_view> User::flag_names() const {
  std::vector<std::string_view> out;
  if (flags_ & kEnabled) out.push_back("on");
  if (flags_ & kDisabled) out.push_back("off");
  if (flags_ & kNopass) out.push_back("nopass");
  if (flags_ & kSkipSanitize) out.push_back("skip-sanitize-payload");
  if (flags_ & kSanitize) out.push_back("sanitize-payload");
  return out;
}

RuleError User::apply(std::string_view op, const RuleContext& ctx) {
  RuleError err = RuleError::kNone;
  if (op.empty()) return err;
  if (iequals(op, "on")) {
    flags_ = static_cast<uint8_t>((flags_ | kEnabled) & ~kDisabled);
  } else if (iequals(op, "off")) {
    flags_ = static_cast<uint8_t>((flags_ | kDisabled) & ~kEnabled);
  } else if (iequals(op, "skip-sanitize-payload")) {
    flags_ = static_cast<uint8_t>((flags_ | kSkipSanitize) & ~kSanitize);
  } else if (iequals(op, "sanitize-payload")) {
    flags_ = static_cast<uint8_t>((flags_ | kSanitize) & ~kSkipSanitize);
  } else if (iequals(op, "nopass")) {
    flags_ |= kNopass;
    passwords_.clear();
  } else if (iequals(op, "resetpass")) {
    flags_ = static_cast<uint8_t>(flags_ & ~kNopass);
    passwords_.clear();
  } else if (op[0] == '>' || op[0] == '#') {
    std::string hash;
    if (op[0] == '>') {
      hash = hash_password(op.substr(1));
    } else {
      if (!valid_hash(op.substr(1))) return RuleError::kBadHash;
      hash = std::string(op.substr(1));
    }
    if (std::find(passwords_.begin(), passwords_.end(), hash) == passwords_.end())
      passwords_.push_back(std::move(hash));
    flags_ = static_cast<uint8_t>(flags_ & ~kNopass);
  } else if (op[0] == '<' || op[0] == '!') {
    std::string hash;
    if (op[0] == '<') {
      hash = hash_password(op.substr(1));
    } else {
      if (!valid_hash(op.substr(1))) return RuleError::kBadHash;
      hash = std::string(op.substr(1));
    }
    auto it = std::find(passwords_.begin(), passwords_.end(), hash);
    if (it == passwords_.end()) return RuleError::kNoSuchPassword;
    passwords_.erase(it);
  } else if (op[0] == '(' && op.back() == ')') {
    Selector s;
    s.all_channels = ctx.all_channels_default;
    // Like sdssplitargs, unbalanced quotes give no rules at all.
    const auto words = base::split_args(op.substr(1, op.size() - 2));
    if (words) {
      for (const auto& w : *words) {
        err = s.apply(w, ctx.catalog);
        if (err != RuleError::kNone) return err;
      }
    }
    selectors_.push_back(std::move(s));
  } else if (iequals(op, "clearselectors")) {
    selectors_.resize(1);
  } else if (iequals(op, "reset")) {
    for (const char* o : {"resetpass", "resetkeys", "resetchannels"}) apply(o, ctx);
    if (ctx.all_channels_default) apply("allchannels", ctx);
    for (const char* o : {"off", "sanitize-payload", "clearselectors", "-@all"}) apply(o, ctx);
  } else {
    err = selectors_.front().apply(op, ctx.catalog);
  }
  refresh_summary();
  return err;
}

void User::refresh_summary() {
  all_keys_ = true;
  all_channels_ = true;
  for (const auto& s : selectors_) {
    all_keys_ = all_keys_ && s.all_keys;
    all_channels_ = all_channels_ && s.all_channels;
  }
}

void User::copy_rules_from(const User& other) {
  flags_ = other.flags_;
  passwords_ = other.passwords_;
  selectors_ = other.selectors_;
  refresh_summary();
}

std::string User::describe(const Catalog& catalog) const {
  std::string out;
  for (const auto f : flag_names()) {
    out += f;
    out += ' ';
  }
  for (const auto& p : passwords_) {
    out += '#';
    out += p;
    out += ' ';
  }
  for (const auto& s : selectors_) {
    if (s.root) {
      out += s.describe(catalog);
    } else {
      out += " (";
      out += s.describe(catalog);
      out += ')';
    }
  }
  return out;
}

bool User::check_password(std::string_view password) const {
  if (flags_ & kDisabled) return false;
  if (nopass()) return true;
  const std::string hash = hash_password(password);
  bool ok = false;
  for (const auto& p : passwords_) ok |= same_hash(hash, p);
  return ok;
}

Verdict User::check(const CommandRequest& req, size_t& failed_pos) const {
  Verdict relevant = Verdict::kDeniedCommand;
  size_t last_pos = 0;
  for (const auto& s : selectors_) {
    size_t pos = 0;
    const Verdict v = s.check(req, pos);
    if (v == Verdict::kOk) return v;
    if (v > relevant || (v == relevant && pos > last_pos)) {
      relevant = v;
      last_pos = pos;
    }
  }
  failed_pos = last_pos;
  return relevant;
}

bool User::channel_allowed(std::string_view channel, bool is_pattern) const {
  for (const auto& s : selectors_)
    if (s.channel_allowed(channel, is_pattern)) return true;
  return false;
}

}  // namespace setd::acl
