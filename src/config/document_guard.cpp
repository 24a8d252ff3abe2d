#include "config/document_guard.h"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/mark.h>
#include <yaml-cpp/parser.h>

#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <vector>

#include "core/limits.h"

namespace extdata::config {
namespace {

Error at_line(std::string code, int line, std::string message, std::string hint) {
  return Error(std::move(code), "line " + std::to_string(line) + ": " + message, std::move(hint))
      .with("line", std::to_string(line));
}

// The 1-based line of the first byte that is not UTF-8, or nullopt.
std::optional<int> first_bad_utf8_line(std::string_view text) {
  int line = 1;
  for (size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '\n') ++line;
    size_t len = c < 0x80           ? 1
                 : (c >> 5) == 0x6  ? 2
                 : (c >> 4) == 0xE  ? 3
                 : (c >> 3) == 0x1E ? 4
                                    : 0;
    if (len == 0 || i + len > text.size()) return line;
    for (size_t k = 1; k < len; ++k)
      if ((static_cast<unsigned char>(text[i + k]) & 0xC0) != 0x80) return line;
    if (len > 1) {
      // Overlong forms, surrogates and code points above U+10FFFF.
      const auto c1 = static_cast<unsigned char>(text[i + 1]);
      if ((len == 2 && c < 0xC2) || (len == 3 && c == 0xE0 && c1 < 0xA0) ||
          (len == 3 && c == 0xED && c1 >= 0xA0) || (len == 4 && c == 0xF0 && c1 < 0x90) ||
          (len == 4 && (c > 0xF4 || (c == 0xF4 && c1 >= 0x90))))
        return line;
    }
    i += len;
  }
  return std::nullopt;
}

// Thrown from the event handler to stop the parser at the first problem.
struct Refused {
  Error error;
};

class Guard : public YAML::EventHandler {
 public:
  void OnDocumentStart(const YAML::Mark& mark) override {
    if (++documents_ > 1)
      refuse(at_line("config.multiple_documents", line(mark),
                     "a second document starts here; a config file holds one document",
                     "Remove the '---' separator, or put each document in a file of its own."));
  }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override { leaf(mark, anchor, ""); }
  void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                const std::string& value) override {
    leaf(mark, anchor, value);
  }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    if (++aliases_ > limits().config_max_aliases)
      refuse(at_line("config.too_many_aliases", line(mark),
                     "more than " + std::to_string(limits().config_max_aliases) +
                         " aliases (*name) in one document",
                     "Write the values out; the file is refused by " +
                         describe_limit(&Limits::config_max_aliases) + ".")
                 .with("limit", "config_max_aliases"));
    auto size = sizes_.find(anchor);
    if (size == sizes_.end())
      refuse(at_line("config.self_alias", line(mark),
                     "this alias refers to a node that contains it (a self-reference)",
                     "An alias may only repeat a node that is complete before it."));
    alias(mark, size->second);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    open(mark, anchor, false);
  }
  void OnSequenceEnd() override { close(); }
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    open(mark, anchor, true);
  }
  void OnMapEnd() override { close(); }

 private:
  struct Frame {
    YAML::anchor_t anchor;
    bool is_map;
    size_t nodes = 1;     // this collection and everything in it, aliases expanded
    size_t children = 0;  // to tell keys (even) from values (odd) in a map
    std::set<std::string> keys;
  };

  static int line(const YAML::Mark& mark) { return mark.line >= 0 ? mark.line + 1 : 0; }
  [[noreturn]] static void refuse(Error e) { throw Refused{std::move(e)}; }

  void leaf(const YAML::Mark& mark, YAML::anchor_t anchor, const std::string& value) {
    if (anchor) sizes_[anchor] = 1;
    child(mark, value);
    count(mark, 1);
    grow_parent(1);
  }

  void alias(const YAML::Mark& mark, size_t nodes) {
    child(mark, std::nullopt);
    count(mark, nodes);
    grow_parent(nodes);
  }

  void open(const YAML::Mark& mark, YAML::anchor_t anchor, bool is_map) {
    if (stack_.size() >= limits().config_max_depth)
      refuse(at_line("config.too_deep", line(mark),
                     "lists and objects nest deeper than " +
                         std::to_string(limits().config_max_depth) + " levels here",
                     "Flatten the document; it is refused by " +
                         describe_limit(&Limits::config_max_depth) + ".")
                 .with("limit", "config_max_depth"));
    child(mark, std::nullopt);
    count(mark, 1);
    stack_.push_back(Frame{anchor, is_map});
  }

  void close() {
    const Frame done = std::move(stack_.back());
    stack_.pop_back();
    if (done.anchor) sizes_[done.anchor] = done.nodes;
    grow_parent(done.nodes);
  }

  void grow_parent(size_t nodes) {
    if (!stack_.empty()) stack_.back().nodes += nodes;
  }

  // Adds `nodes` (aliases expanded) to the document's total.
  void count(const YAML::Mark& mark, size_t nodes) {
    total_ += nodes;
    if (total_ > limits().config_max_nodes)
      refuse(at_line("config.too_large", line(mark),
                     "the document expands to more than " +
                         std::to_string(limits().config_max_nodes) +
                         " nodes (counting every alias as a copy)",
                     "Use fewer or smaller aliases; the file is refused by " +
                         describe_limit(&Limits::config_max_nodes) + ".")
                 .with("limit", "config_max_nodes"));
  }

  // A node enters the open collection: in a map every other one is a key, and a scalar key
  // may appear once. `key_text` is nullopt for collections and aliases.
  void child(const YAML::Mark& mark, const std::optional<std::string>& key_text) {
    if (stack_.empty()) return;
    Frame& parent = stack_.back();
    const bool is_key = parent.is_map && parent.children++ % 2 == 0;
    if (is_key && key_text && !parent.keys.insert(*key_text).second)
      refuse(at_line("config.duplicate_key", line(mark),
                     "the key '" + key_text->substr(0, 80) + "' appears twice in the same object",
                     "Keep one of them; YAML would silently use only one."));
  }

  size_t documents_ = 0;
  size_t aliases_ = 0;
  size_t total_ = 0;
  std::vector<Frame> stack_;
  std::map<YAML::anchor_t, size_t> sizes_;  // complete anchored nodes → their expanded size
};

}  // namespace

Status check_document(std::string_view text) {
  if (auto bad = first_bad_utf8_line(text))
    return at_line("config.bad_utf8", *bad, "the text is not valid UTF-8",
                   "Save the file as UTF-8 (check copied characters on that line).");
  std::istringstream in{std::string(text)};
  try {
    YAML::Parser parser(in);
    Guard guard;
    while (parser.HandleNextDocument(guard)) {
    }
  } catch (const Refused& refused) {
    return refused.error;
  } catch (const YAML::Exception&) {
    // Syntax errors: the parser that builds the nodes reports them with their position.
  }
  return ok_status();
}

}  // namespace extdata::config
