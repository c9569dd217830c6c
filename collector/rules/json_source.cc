#include "rules/json_source.h"

#include <algorithm>
#include <iterator>
#include <unordered_set>

#include <fmt/format.h>

namespace fpshim {

using nlohmann::json;

LineColumn line_column(std::string_view text, size_t offset) {
  LineColumn lc;
  offset = std::min(offset, text.size());
  for (size_t i = 0; i < offset; i++) {
    unsigned char c = text[i];
    if (c == '\n') {
      lc.line++;
      lc.column = 1;
    } else if ((c & 0xC0) != 0x80) {
      lc.column++;
    }
  }
  return lc;
}

std::string pointer_append(const std::string& pointer, std::string_view token) {
  std::string out = pointer;
  out += '/';
  for (char c : token) {
    if (c == '~') out += "~0";
    else if (c == '/') out += "~1";
    else out += c;
  }
  return out;
}

std::string pointer_append(const std::string& pointer, size_t index) { return pointer + '/' + std::to_string(index); }

size_t SourceJson::value_offset(const std::string& pointer) const {
  auto it = where.find(pointer);
  return it == where.end() ? 0 : it->second.value;
}

size_t SourceJson::key_offset(const std::string& pointer) const {
  auto it = where.find(pointer);
  if (it == where.end()) return 0;
  return it->second.key != std::string::npos ? it->second.key : it->second.value;
}

namespace {

// Hands characters to nlohmann's lexer and counts how many it has taken.
class CountingIterator {
 public:
  using iterator_category = std::input_iterator_tag;
  using value_type = char;
  using difference_type = std::ptrdiff_t;
  using pointer = const char*;
  using reference = const char&;

  CountingIterator(const char* p, size_t* consumed) : p_(p), consumed_(consumed) {}
  reference operator*() const { return *p_; }
  CountingIterator& operator++() {
    ++p_;
    ++*consumed_;
    return *this;
  }
  CountingIterator operator++(int) {
    CountingIterator old = *this;
    ++*this;
    return old;
  }
  bool operator==(const CountingIterator& o) const { return p_ == o.p_; }

 private:
  const char* p_;
  size_t* consumed_;
};

// Builds the DOM like nlohmann's own SAX DOM parser and notes offsets on the way. A callback comes
// right after the lexer has read its token (a number also costs one character of look-ahead, which is
// always whitespace, ',' or a closing bracket), so a token starts at the first character after the
// previous callback's position that is not whitespace, ':' or ','.
class PositionRecorder {
 public:
  PositionRecorder(std::string_view text, size_t skipped, const size_t& consumed, SourceJson& out)
      : text_(text), skipped_(skipped), consumed_(consumed), out_(out), last_end_(skipped) {}

  bool null() { return add(nullptr); }
  bool boolean(bool v) { return add(v); }
  bool number_integer(json::number_integer_t v) { return add(v); }
  bool number_unsigned(json::number_unsigned_t v) { return add(v); }
  bool number_float(json::number_float_t v, const std::string&) { return add(v); }
  bool string(std::string& v) { return add(std::move(v)); }
  bool binary(json::binary_t& v) { return add(std::move(v)); }

  bool start_object(size_t) { return open(json::object()); }
  bool start_array(size_t) { return open(json::array()); }
  bool end_object() { return close(); }
  bool end_array() { return close(); }

  bool key(std::string& k) {
    key_offset_ = token_start();
    mark_end();
    Frame& f = stack_.back();
    if (!f.keys.insert(k).second) out_.problems.push_back({key_offset_, "duplicate key \"" + k + "\""});
    key_ = std::move(k);
    return true;
  }

  bool parse_error(size_t position, const std::string&, const nlohmann::detail::exception& e) {
    std::string message = e.what();
    if (auto colon = message.find(": "); colon != std::string::npos) message.erase(0, colon + 2);
    // nlohmann's position is past the whole offending token; point at its first character.
    size_t last_read = skipped_ + (position > 0 ? position - 1 : 0);
    size_t offset = std::min({token_start(), last_read, text_.size()});
    out_.problems.push_back({offset, std::move(message)});
    out_.syntax_error = true;
    return false;
  }

 private:
  struct Frame {
    json* container;
    std::string pointer;
    size_t next_index = 0;
    std::unordered_set<std::string> keys;
  };

  size_t token_start() const {
    size_t i = last_end_;
    while (i < text_.size() && (text_[i] == ' ' || text_[i] == '\t' || text_[i] == '\n' || text_[i] == '\r' ||
                                text_[i] == ':' || text_[i] == ','))
      i++;
    return i;
  }
  void mark_end() { last_end_ = consumed_; }

  // Places a value at the current position; returns the stored value and its pointer.
  std::pair<json*, std::string> place(json&& v, size_t start) {
    std::string pointer;
    json* stored;
    SourceJson::Where where;
    where.value = start;
    if (stack_.empty()) {
      out_.value = std::move(v);
      stored = &out_.value;
    } else if (Frame& f = stack_.back(); f.container->is_array()) {
      pointer = pointer_append(f.pointer, f.next_index++);
      f.container->push_back(std::move(v));
      stored = &f.container->back();
    } else {
      pointer = pointer_append(f.pointer, key_);
      where.key = key_offset_;
      stored = &(*f.container)[key_];
      *stored = std::move(v);
    }
    out_.where[pointer] = where;
    return {stored, std::move(pointer)};
  }

  bool add(json&& v) {
    size_t start = token_start();
    mark_end();
    place(std::move(v), start);
    return true;
  }

  bool open(json&& v) {
    size_t start = token_start();
    if (stack_.size() >= kMaxJsonDepth) {
      // Stop before the pointers of ever deeper frames cost memory quadratic in the depth.
      out_.problems.push_back({start, fmt::format("nested deeper than {} levels", kMaxJsonDepth)});
      out_.syntax_error = true;
      return false;
    }
    mark_end();
    auto [stored, pointer] = place(std::move(v), start);
    stack_.push_back(Frame{stored, std::move(pointer), 0, {}});
    return true;
  }

  bool close() {
    mark_end();
    stack_.pop_back();
    return true;
  }

  std::string_view text_;
  size_t skipped_;
  const size_t& consumed_;
  SourceJson& out_;
  std::vector<Frame> stack_;
  std::string key_;
  size_t key_offset_ = 0;
  size_t last_end_;
};

}  // namespace

SourceJson parse_source_json(std::string_view text) {
  SourceJson out;
  size_t skip = text.substr(0, 3) == "\xEF\xBB\xBF" ? 3 : 0;
  size_t consumed = skip;
  PositionRecorder recorder(text, skip, consumed, out);
  CountingIterator first(text.data() + skip, &consumed), last(text.data() + text.size(), &consumed);
  json::sax_parse(first, last, &recorder);
  return out;
}

}  // namespace fpshim
