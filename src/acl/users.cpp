#include "setd/acl/users.hpp"

#include <algorithm>
#include <cstdlib>

#include "setd/base/strconv.hpp"

namespace setd::acl {

namespace {

std::string trim(std::string_view s, std::string_view chars) {
  const size_t a = s.find_first_not_of(chars);
  if (a == std::string_view::npos) return {};
  const size_t b = s.find_last_not_of(chars);
  return std::string(s.substr(a, b - a + 1));
}

std::vector<std::string_view> split_spaces(std::string_view line) {
  // sdssplitlen(line, " "): every single space separates, so runs of
  // spaces give empty words (which rules ignore).
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    const size_t sp = line.find(' ', start);
    out.push_back(line.substr(start, sp == std::string_view::npos ? sp : sp - start));
    if (sp == std::string_view::npos) break;
    start = sp + 1;
  }
  return out;
}

}  // namespace

const char* reason_name(LogReason r) {
  switch (r) {
    case LogReason::kCommand:
      return "command";
    case LogReason::kKey:
      return "key";
    case LogReason::kChannel:
      return "channel";
    case LogReason::kAuth:
      return "auth";
  }
  return "unknown";
}

const char* context_name(LogContext c) {
  switch (c) {
    case LogContext::kToplevel:
      return "toplevel";
    case LogContext::kMulti:
      return "multi";
    case LogContext::kLua:
      return "lua";
    case LogContext::kModule:
      return "module";
  }
  return "unknown";
}

Users::Users(const Catalog& catalog) : catalog_(catalog) {
  auto u = std::make_unique<User>(User::make_default(catalog_));
  default_ = u.get();
  users_.emplace("default", std::move(u));
}

User* Users::find(std::string_view name) {
  auto it = users_.find(name);
  return it == users_.end() ? nullptr : it->second.get();
}

std::variant<User, std::string> Users::stage(std::string_view name, const User* base,
                                             std::span<const std::string_view> rules) const {
  size_t open = 0;
  const auto merged = merge_selector_args(rules, &open);
  if (!merged)
    return "Unmatched parenthesis in acl selector starting at '" +
           std::string(base::c_string_view(rules[open])) + "'.";
  User temp(std::string(name), all_channels_default);
  if (base) temp.copy_rules_from(*base);
  for (const auto& op : *merged) {
    const RuleError e = temp.apply(op, rule_context());
    if (e != RuleError::kNone)
      return "Error in ACL SETUSER modifier '" + std::string(base::c_string_view(op)) +
             "': " + rule_error_text(e);
  }
  return temp;
}

User& Users::commit(const User& staged) {
  auto it = users_.find(staged.name());
  if (it == users_.end())
    it = users_.emplace(staged.name(), std::make_unique<User>(staged.name(), false)).first;
  it->second->copy_rules_from(staged);
  return *it->second;
}

bool Users::channels_narrowed(const User& updated, const User& old, std::vector<Pattern>& allowed) {
  for (const auto& s : updated.selectors())
    if (s.all_channels) return false;
  allowed.clear();
  for (const auto& s : updated.selectors())
    allowed.insert(allowed.end(), s.channels.begin(), s.channels.end());
  for (const auto& s : old.selectors()) {
    if (s.all_channels) return true;
    for (const auto& c : s.channels)
      if (!channel_in(allowed, c.text(), true)) return true;
  }
  return false;
}

std::unique_ptr<User> Users::remove(std::string_view name) {
  if (name == "default") return nullptr;
  auto it = users_.find(name);
  if (it == users_.end()) return nullptr;
  auto u = std::move(it->second);
  users_.erase(it);
  return u;
}

void Users::set_default_password(const std::optional<std::string>& password) {
  const RuleContext ctx = rule_context();
  default_->apply("resetpass", ctx);
  if (password)
    default_->apply(">" + *password, ctx);
  else
    default_->apply("nopass", ctx);
}

std::string Users::add_config_user(std::span<const std::string_view> words, bool validate) {
  // words: "user" name rules... The error names words[index] as Redis's
  // config loader does (its index counts from the rules, so it points two
  // words early).
  auto error = [&](size_t index, RuleError e) {
    const std::string_view w = index < words.size() ? words[index] : std::string_view();
    return "Error in user declaration '" + std::string(w) + "': " + rule_error_text(e);
  };
  if (words.size() < 2) return error(0, RuleError::kNone);
  for (const auto& u : config_users_)
    if (u.front() == words[1]) return error(1, RuleError::kDuplicateUser);
  size_t open = 0;
  const auto merged = merge_selector_args(words.subspan(2), &open);
  // Redis reports whatever errno was left over here (no rule failed); in
  // practice ENOENT, from its start-up's earlier file probes.
  if (!merged) return error(open, RuleError::kUnknownName);
  User fake("__fakeuser__", all_channels_default);
  for (size_t j = 0; validate && j < merged->size(); ++j) {
    const RuleError e = fake.apply((*merged)[j], rule_context());
    // Unknown commands are reported when the users are loaded.
    if (e != RuleError::kNone && e != RuleError::kUnknownName) return error(j, e);
  }
  std::vector<std::string> def{std::string(words[1])};
  def.insert(def.end(), merged->begin(), merged->end());
  config_users_.push_back(std::move(def));
  return "";
}

std::string Users::load_config_users() {
  for (const auto& def : config_users_) {
    if (has_spaces(def.front())) return "Spaces not allowed in ACL usernames";
    User* u = find(def.front());
    if (u == nullptr) {
      u = users_.emplace(def.front(), std::make_unique<User>(def.front(), all_channels_default))
              .first->second.get();
    } else {
      u->apply("reset", rule_context());  // only "default" can exist already
    }
    for (size_t j = 1; j < def.size(); ++j) {
      const RuleError e = u->apply(def[j], rule_context());
      if (e != RuleError::kNone)
        return "Error loading ACL rule '" + def[j] + "' for the user named '" + def.front() +
               "': " + rule_error_text(e);
    }
  }
  return "";
}

std::optional<std::string> Users::load_file_text(const std::string& filename, std::string_view text,
                                                 std::vector<std::unique_ptr<User>>& removed) {
  std::map<std::string, std::unique_ptr<User>, std::less<>> fresh;
  std::string errors;
  size_t linenum = 0;
  size_t start = 0;
  while (start <= text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string_view::npos) nl = text.size();
    const std::string line = trim(text.substr(start, nl - start), " \t\r\n");
    start = nl + 1;
    ++linenum;
    const std::string where = filename + ":" + std::to_string(linenum);
    if (line.empty()) continue;
    const auto argv = split_spaces(line);
    if (argv[0] != "user" || argv.size() < 2) {
      errors += where + " should start with user keyword followed by the username. ";
      continue;
    }
    if (has_spaces(argv[1])) {
      errors +=
          "'" + where + ": username '" + std::string(argv[1]) + "' contains invalid characters. ";
      continue;
    }
    if (fresh.count(argv[1])) {
      errors += "WARNING: Duplicate user '" + std::string(argv[1]) + "' found on line " +
                std::to_string(linenum) + ". ";
      continue;
    }
    auto u = std::make_unique<User>(std::string(argv[1]), all_channels_default);
    User& user = *u;
    fresh.emplace(std::string(argv[1]), std::move(u));
    const auto merged = merge_selector_args(std::span(argv).subspan(2));
    if (!merged) {
      errors += where + ": Unmatched parenthesis in selector definition.";
      continue;
    }
    bool syntax_error = false;
    for (const auto& raw : *merged) {
      const std::string op = trim(raw, "\t\r\n");
      const RuleError e = user.apply(op, rule_context());
      if (e == RuleError::kNone) continue;
      if (e == RuleError::kUnknownName) {
        errors +=
            where + ": Error in applying operation '" + op + "': " + rule_error_text(e) + ". ";
      } else if (!syntax_error) {
        errors += where + ": " + rule_error_text(e) + ". ";
        syntax_error = true;
      }
    }
  }
  if (!errors.empty()) {
    errors +=
        "WARNING: ACL errors detected, no change to the previously active ACL rules was "
        "performed";
    return errors;
  }
  // Success: the default user keeps its address and takes the file's rules
  // (or the built-in ones if the file has none).
  auto it = fresh.find("default");
  if (it != fresh.end()) {
    default_->copy_rules_from(*it->second);
    fresh.erase(it);
  } else {
    default_->copy_rules_from(User::make_default(catalog_));
  }
  std::unique_ptr<User> keep = std::move(users_.at("default"));
  for (auto& [name, u] : users_)
    if (u) removed.push_back(std::move(u));
  users_ = std::move(fresh);
  users_.emplace("default", std::move(keep));
  return std::nullopt;
}

std::vector<std::string> Users::user_lines() const {
  std::vector<std::string> out;
  out.reserve(users_.size());
  for (const auto& [name, u] : users_) out.push_back("user " + name + " " + u->describe(catalog_));
  return out;
}

std::string Users::file_text() const {
  std::string out;
  for (const auto& line : user_lines()) {
    out += line;
    out += '\n';
  }
  return out;
}

void Users::log(LogReason reason, LogContext context, std::string object, std::string username,
                std::string client_info, int64_t now_ms) {
  // Similar recent entries (same reason, context, object and user within a
  // minute, among the 10 newest) are merged, as Redis does.
  size_t scanned = 0;
  for (auto it = log_.begin(); it != log_.end() && scanned < 10; ++it, ++scanned) {
    const int64_t delta = std::llabs(it->ctime_ms - now_ms);
    if (it->reason == reason && it->context == context && delta <= 60000 && it->object == object &&
        it->username == username) {
      LogEntry e = std::move(*it);
      log_.erase(it);
      e.client_info = std::move(client_info);
      e.ctime_ms = now_ms;
      ++e.count;
      log_.push_front(std::move(e));
      return;
    }
  }
  LogEntry e;
  e.reason = reason;
  e.context = context;
  e.object = std::move(object);
  e.username = std::move(username);
  e.ctime_ms = now_ms;
  e.client_info = std::move(client_info);
  log_.push_front(std::move(e));
  while (log_.size() > log_max_len) log_.pop_back();
}

}  // namespace setd::acl
