#include "setd/cmd/command.hpp"

#include <algorithm>
#include <cctype>
#include <iterator>
#include <stdexcept>

#include "setd/acl/catalog.hpp"
#include "setd/acl/user.hpp"
#include "setd/base/strconv.hpp"

namespace setd::cmd {

namespace {

constexpr std::string_view kFlagNames[] = {"write",
                                           "readonly",
                                           "denyoom",
                                           "module",
                                           "admin",
                                           "pubsub",
                                           "noscript",
                                           "blocking",
                                           "loading",
                                           "stale",
                                           "skip_monitor",
                                           "skip_slowlog",
                                           "asking",
                                           "fast",
                                           "no_auth",
                                           "may_replicate",
                                           "sentinel",
                                           "only_sentinel",
                                           "no_mandatory_keys",
                                           "protected",
                                           "no_async_loading",
                                           "no_multi",
                                           "movablekeys",
                                           "allow_busy"};
constexpr size_t kFlagCount = sizeof(kFlagNames) / sizeof(kFlagNames[0]);

using acl::kCategoryCount;
using acl::kCategoryNames;

uint64_t category_bit(std::string_view name) {
  const uint64_t bit = acl::category_bit(name);
  if (bit == 0) throw std::invalid_argument("unknown ACL category @" + std::string(name));
  return bit;
}

// What key-spec flag words ask of ACL: access reads, insert/delete/update
// write (Redis's ACLSelectorCheckKey).
uint8_t acl_perms_of(std::span<const std::string_view> words) {
  uint8_t perms = 0;
  for (const auto w : words) {
    if (w == "access") perms |= acl::kPermRead;
    if (w == "insert" || w == "delete" || w == "update") perms |= acl::kPermWrite;
  }
  return perms;
}

std::vector<std::string_view> words_of(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && s[i] == ' ') ++i;
    size_t j = i;
    while (j < s.size() && s[j] != ' ') ++j;
    if (j > i) out.push_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

// --- argument syntax ------------------------------------------------------

struct SyntaxParser {
  std::string_view src;
  size_t pos = 0;
  std::vector<std::string> toks;
  size_t t = 0;

  void tokenize() {
    size_t i = 0;
    while (i < src.size()) {
      const char c = src[i];
      if (c == ' ') {
        ++i;
      } else if (c == '[' || c == ']' || c == '(' || c == ')' || c == '|') {
        toks.emplace_back(1, c);
        ++i;
      } else if (src.compare(i, 3, "...") == 0) {
        toks.emplace_back("...");
        i += 3;
      } else {
        // A word, or an annotation starting with '@' (which also ends a word).
        size_t j = i + 1;
        while (j < src.size() &&
               std::string_view(" []()|@").find(src[j]) == std::string_view::npos &&
               src.compare(j, 3, "...") != 0)
          ++j;
        toks.emplace_back(src.substr(i, j - i));
        i = j;
      }
    }
  }

  static bool is_token_word(const std::string& w) {
    bool letter = false;
    for (char c : w) {
      if (std::isupper(static_cast<unsigned char>(c)))
        letter = true;
      else if (!std::isdigit(static_cast<unsigned char>(c)) && c != '-' && c != '_')
        return false;
    }
    return letter;
  }

  static ArgDoc word_arg(const std::string& w) {
    ArgDoc a;
    if (is_token_word(w)) {
      a.token = w;
      a.type = "pure-token";
      a.name.resize(w.size());
      for (size_t i = 0; i < w.size(); ++i)
        a.name[i] = static_cast<char>(std::tolower(static_cast<unsigned char>(w[i])));
      return a;
    }
    static const std::string_view kTypes[] = {"string", "integer", "double",
                                              "key",    "pattern", "unix-time"};
    const size_t colon = w.rfind(':');
    const std::string suffix = colon == std::string::npos ? "" : w.substr(colon + 1);
    const bool typed = std::find(std::begin(kTypes), std::end(kTypes), suffix) != std::end(kTypes);
    a.name = typed ? w.substr(0, colon) : w;
    if (typed) {
      a.type = suffix;
    } else {
      const bool keyish = a.name == "key" || a.name == "source" || a.name == "destination" ||
                          (a.name.size() > 3 && a.name.ends_with("key"));
      a.type = keyish ? "key" : "string";
    }
    return a;
  }

  // Collapses a parsed sequence into a single argument.
  static ArgDoc collapse(std::vector<ArgDoc> seq, const std::string& name) {
    if (seq.size() == 1) {
      if (!name.empty() && (seq[0].type == "oneof" || seq[0].type == "block")) seq[0].name = name;
      // A named group around one plain argument stays a block of one
      // (PSUBSCRIBE's "(pattern= pattern:pattern)...").
      if (name.empty() || seq[0].type == "oneof" || seq[0].type == "block") return seq[0];
    }
    // A group of pure tokens only (REPLICAOF's "NO ONE") is a block of
    // tokens, not one token introducing the others.
    const bool all_tokens =
        std::all_of(seq.begin(), seq.end(), [](const ArgDoc& a) { return a.type == "pure-token"; });
    const bool leading_token = seq.size() >= 2 && seq[0].type == "pure-token" && !seq[0].multiple &&
                               !seq[0].optional && !all_tokens;
    // "TOKEN x": the token introduces x, unless the group's name says it
    // is a block of its own.
    if (leading_token && seq.size() == 2 && seq[1].type != "pure-token" && seq[1].type != "block" &&
        seq[1].token.empty() && (name.empty() || name == seq[1].name)) {
      ArgDoc a = seq[1];
      a.token = seq[0].token;
      if (a.since.empty()) a.since = seq[0].since;
      return a;
    }
    ArgDoc block;
    block.type = "block";
    if (leading_token && (seq.size() > 2 || !name.empty())) {
      // "TOKEN a b": a block introduced by TOKEN (HELLO's AUTH username password).
      block.name = name.empty() ? seq[0].name : name;
      block.token = seq[0].token;
      block.since = seq[0].since;
      block.children.assign(std::make_move_iterator(seq.begin() + 1),
                            std::make_move_iterator(seq.end()));
      return block;
    }
    block.name = name.empty() ? (seq.empty() ? "block" : seq[0].name) : name;
    block.children = std::move(seq);
    return block;
  }

  std::vector<ArgDoc> parse_seq() {
    std::vector<ArgDoc> out;
    while (t < toks.size()) {
      const std::string& tok = toks[t];
      if (tok == "]" || tok == ")" || tok == "|") break;
      if (tok[0] == '@') {
        if (out.empty()) throw std::invalid_argument("'@version' with nothing before it");
        constexpr std::string_view kDeprecated = "@deprecated:";
        if (tok.starts_with(kDeprecated))
          out.back().deprecated_since = tok.substr(kDeprecated.size());
        else
          out.back().since = tok.substr(1);
        ++t;
        continue;
      }
      if (tok == "...") {
        if (out.empty()) throw std::invalid_argument("'...' with nothing before it");
        out.back().multiple = true;
        ++t;
        continue;
      }
      if (tok == "[" || tok == "(") {
        const bool optional = tok == "[";
        const std::string close = optional ? "]" : ")";
        ++t;
        std::string name;
        if (t < toks.size() && !toks[t].empty() && toks[t].back() == '=') {
          name = toks[t].substr(0, toks[t].size() - 1);
          ++t;
        }
        std::vector<std::vector<ArgDoc>> alts;
        alts.push_back(parse_seq());
        while (t < toks.size() && toks[t] == "|") {
          ++t;
          alts.push_back(parse_seq());
        }
        if (t >= toks.size() || toks[t] != close) throw std::invalid_argument("unbalanced group");
        ++t;
        ArgDoc node;
        if (alts.size() > 1) {
          node.type = "oneof";
          node.name = name.empty() ? "arg" : name;
          for (auto& alt : alts) node.children.push_back(collapse(std::move(alt), ""));
        } else {
          node = collapse(std::move(alts[0]), name);
        }
        if (optional) node.optional = true;
        if (t < toks.size() && toks[t] == "...") {
          node.multiple = true;
          if (!node.token.empty() && node.type != "pure-token") node.multiple_token = true;
          ++t;
        }
        out.push_back(std::move(node));
        continue;
      }
      out.push_back(word_arg(tok));
      ++t;
    }
    return out;
  }
};

void assign_key_specs(std::vector<ArgDoc>& args, int& next, int max_index) {
  for (auto& a : args) {
    if (a.type == "key") {
      a.key_spec_index = next < max_index ? next : max_index;
      ++next;
    }
    assign_key_specs(a.children, next, max_index);
  }
}

}  // namespace

std::vector<std::string_view> flag_names(uint32_t flags) {
  std::vector<std::string_view> out;
  for (size_t i = 0; i < kFlagCount; ++i) {
    const uint32_t bit = 1u << i;
    if (!(flags & bit)) continue;
    // Redis hides may_replicate "on purpose" (server.c addReplyCommandFlags).
    if (bit == kSentinel || bit == kOnlySentinel || bit == kProtected || bit == kMayReplicate)
      continue;
    out.push_back(kFlagNames[i]);
  }
  // Redis prints movablekeys last.
  return out;
}

uint32_t parse_flags(std::string_view words) {
  uint32_t bits = 0;
  for (auto w : words_of(words)) {
    bool found = false;
    for (size_t i = 0; i < kFlagCount; ++i)
      if (kFlagNames[i] == w) {
        bits |= 1u << i;
        found = true;
      }
    if (!found) throw std::invalid_argument("unknown command flag " + std::string(w));
  }
  return bits;
}

uint64_t parse_categories(std::string_view words) {
  uint64_t bits = 0;
  for (auto w : words_of(words)) {
    if (w.empty() || w[0] != '@') throw std::invalid_argument("category without @");
    bits |= category_bit(w.substr(1));
  }
  return bits;
}

std::vector<std::string> category_names(uint64_t categories) {
  std::vector<std::string> out;
  for (size_t i = 0; i < kCategoryCount; ++i)
    if (categories & (1ull << i)) {
      std::string name(1, '@');
      name += kCategoryNames[i];
      out.push_back(std::move(name));
    }
  return out;
}

std::vector<ArgDoc> parse_arg_syntax(std::string_view syntax) {
  SyntaxParser p{syntax};
  p.tokenize();
  auto out = p.parse_seq();
  if (p.t != p.toks.size())
    throw std::invalid_argument("trailing syntax in: " + std::string(syntax));
  return out;
}

void CommandSpec::finalize(const std::string& parent) {
  container = parent;
  flag_bits = parse_flags(flags);
  category_bits = parse_categories(acl);
  if (flag_bits & kWrite) category_bits |= category_bit("write");
  // Read-only scripting commands (EVAL_RO, FCALL_RO...) are not @read, as in
  // Redis's setImplicitACLCategories.
  if ((flag_bits & kReadonly) && !(category_bits & category_bit("scripting")))
    category_bits |= category_bit("read");
  if (flag_bits & kAdmin) category_bits |= category_bit("admin") | category_bit("dangerous");
  if (flag_bits & kPubSub) category_bits |= category_bit("pubsub");
  if (flag_bits & kFast) category_bits |= category_bit("fast");
  if (flag_bits & kBlocking) category_bits |= category_bit("blocking");
  if (!(flag_bits & kFast)) category_bits |= category_bit("slow");

  // Legacy (first, last, step): from range key specs; keynum specs make the
  // command "movablekeys" with 0 0 0, as Redis reports.
  // "unknown" specs are left out of the range (and make it movablekeys).
  first_key = last_key = key_step = 0;
  bool movable = false;
  std::vector<const KeySpec*> ranges;
  for (const auto& k : keys) {
    if (k.keynum) movable = true;
    if (k.unknown)
      flag_bits |= kMovableKeys;
    else
      ranges.push_back(&k);
  }
  if (movable) {
    flag_bits |= kMovableKeys;
  } else if (!ranges.empty()) {
    first_key = ranges.front()->begin_index;
    const auto& lastspec = *ranges.back();
    last_key = lastspec.lastkey < 0 ? lastspec.lastkey : lastspec.begin_index + lastspec.lastkey;
    key_step = ranges.size() > 1 ? 1 : ranges.front()->keystep;
  }

  for (auto& k : keys) {
    const auto words = words_of(k.flags);
    k.acl_perms = acl_perms_of(words);
    k.not_key = std::find(words.begin(), words.end(), "not_key") != words.end();
  }

  arg_docs = parse_arg_syntax(doc.args);
  int next = 0;
  assign_key_specs(arg_docs, next, static_cast<int>(keys.size()) - 1);
  if (adjust_docs != nullptr) adjust_docs(arg_docs);

  for (auto& sub : subcommands) sub.finalize(name);
}

uint8_t CommandSpec::key_acl_perms(size_t spec, std::span<const std::string_view> args) const {
  const KeySpec& k = keys[spec];
  if (variable_key_flags && k.flags.find("variable_flags") != std::string::npos)
    return acl_perms_of(variable_key_flags(args));
  return k.acl_perms;
}

const CommandSpec* CommandSpec::find_subcommand(std::string_view lower_name) const {
  for (const auto& sub : subcommands) {
    const std::string_view n = sub.name;
    const size_t bar = n.find('|');
    if (n.substr(bar + 1) == lower_name) return &sub;
  }
  return nullptr;
}

bool CommandSpec::extract_keys(std::span<const std::string_view> args,
                               std::vector<size_t>& positions, std::vector<size_t>* specs) const {
  if (get_keys != nullptr) return get_keys(args, positions, specs);
  const auto argc = static_cast<long long>(args.size());
  for (size_t spec = 0; spec < keys.size(); ++spec) {
    const KeySpec& k = keys[spec];
    if (k.unknown) continue;
    if (k.begin_index >= argc) {
      continue;
    }
    if (!k.keynum) {
      long long last = k.lastkey < 0 ? argc + k.lastkey : k.begin_index + k.lastkey;
      if (last >= argc) return false;
      for (long long i = k.begin_index; i <= last; i += k.keystep) {
        positions.push_back(static_cast<size_t>(i));
        if (specs) specs->push_back(spec);
      }
    } else {
      long long numkeys = 0;
      const long long idx = k.begin_index + k.keynumidx;
      if (idx >= argc || !base::string_to_ll(args[static_cast<size_t>(idx)], numkeys) ||
          numkeys < 0)
        return false;
      const long long first = k.begin_index + k.firstkey;
      if (first + (numkeys - 1) * k.keystep >= argc) return false;
      for (long long i = 0; i < numkeys; ++i) {
        positions.push_back(static_cast<size_t>(first + i * k.keystep));
        if (specs) specs->push_back(spec);
      }
    }
  }
  return true;
}

}  // namespace setd::cmd
