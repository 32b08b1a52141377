#include "ingest_service/python_list.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace cratedig::ingest {
namespace {

// A cursor over the list text; every method advances pos.
class ListParser {
 public:
  explicit ListParser(absl::string_view text) : text_(text) {}

  absl::StatusOr<std::vector<std::string>> Parse() {
    std::vector<std::string> items;
    SkipSpace();
    if (!Consume('[')) return Error("a list must start with '['");
    for (;;) {
      SkipSpace();
      if (Consume(']')) break;
      std::string item;
      absl::Status status = ParseString(&item);
      if (!status.ok()) return status;
      items.push_back(std::move(item));
      SkipSpace();
      if (Consume(']')) break;
      if (!Consume(',')) return Error("expected ',' or ']' after a list item");
    }
    SkipSpace();
    if (pos_ != text_.size()) return Error("unexpected text after the closing ']'");
    return items;
  }

 private:
  absl::Status ParseString(std::string* out) {
    if (pos_ >= text_.size() || (text_[pos_] != '\'' && text_[pos_] != '"')) {
      return Error("expected a quoted string");
    }
    char quote = text_[pos_++];
    while (pos_ < text_.size()) {
      char c = text_[pos_++];
      if (c == quote) return absl::OkStatus();
      if (c != '\\') {
        out->push_back(c);
        continue;
      }
      absl::Status status = ParseEscape(out);
      if (!status.ok()) return status;
    }
    return Error("string is not closed");
  }

  // Called after a backslash.
  absl::Status ParseEscape(std::string* out) {
    if (pos_ >= text_.size()) return Error("string is not closed");
    char c = text_[pos_++];
    switch (c) {
      case '\\':
      case '\'':
      case '"':
        out->push_back(c);
        return absl::OkStatus();
      case 'n':
        out->push_back('\n');
        return absl::OkStatus();
      case 'r':
        out->push_back('\r');
        return absl::OkStatus();
      case 't':
        out->push_back('\t');
        return absl::OkStatus();
      case 'x':
        return ParseHex(2, out);
      case 'u':
        return ParseHex(4, out);
      case 'U':
        return ParseHex(8, out);
      default:
        // Python keeps unknown escapes as written.
        out->push_back('\\');
        out->push_back(c);
        return absl::OkStatus();
    }
  }

  absl::Status ParseHex(int digits, std::string* out) {
    if (pos_ + digits > text_.size()) return Error("truncated \\x, \\u or \\U escape");
    char32_t value = 0;
    for (int i = 0; i < digits; ++i) {
      char c = text_[pos_++];
      if (!absl::ascii_isxdigit(static_cast<unsigned char>(c))) {
        return Error("bad hex digit in an escape");
      }
      int digit = absl::ascii_isdigit(static_cast<unsigned char>(c))
                      ? c - '0'
                      : absl::ascii_tolower(static_cast<unsigned char>(c)) - 'a' + 10;
      value = value * 16 + digit;
    }
    if (!AppendUtf8(value, out)) return Error("escape is not a Unicode scalar value");
    return absl::OkStatus();
  }

  void SkipSpace() {
    while (pos_ < text_.size() &&
           absl::ascii_isspace(static_cast<unsigned char>(text_[pos_]))) {
      ++pos_;
    }
  }

  bool Consume(char c) {
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }

  absl::Status Error(absl::string_view what) const {
    return absl::InvalidArgumentError(
        absl::StrCat("not a Python list of strings: ", what, " at offset ", pos_));
  }

  absl::string_view text_;
  size_t pos_ = 0;
};

}  // namespace

bool AppendUtf8(char32_t cp, std::string* out) {
  if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
  return true;
}

absl::StatusOr<std::vector<std::string>> ParsePythonList(absl::string_view text) {
  return ListParser(text).Parse();
}

}  // namespace cratedig::ingest
