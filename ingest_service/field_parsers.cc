#include "ingest_service/field_parsers.h"

#include <cmath>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace cratedig::ingest {
namespace {

absl::Status NotA(absl::string_view what, absl::string_view cell) {
  return absl::InvalidArgumentError(absl::StrCat("'", cell, "' is not ", what));
}

// Parses exactly `digits` ASCII digits.
bool ParseDigits(absl::string_view text, int* value) {
  *value = 0;
  for (char c : text) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
    *value = *value * 10 + (c - '0');
  }
  return !text.empty();
}

int DaysInMonth(int year, int month) {
  static constexpr int kDays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : kDays[month - 1];
}

}  // namespace

bool IsMissingValue(absl::string_view cell) {
  cell = absl::StripAsciiWhitespace(cell);
  return cell.empty() || cell == "NA" || cell == "NaN" || cell == "nan";
}

absl::StatusOr<double> ParseDouble(absl::string_view cell) {
  double value = 0;
  if (!absl::SimpleAtod(cell, &value) || !std::isfinite(value))
    return NotA("a number", cell);
  return value;
}

absl::StatusOr<int64_t> ParseInt64(absl::string_view cell) {
  int64_t value = 0;
  if (absl::SimpleAtoi(cell, &value)) return value;
  double d = 0;
  if (absl::SimpleAtod(cell, &d) && std::isfinite(d) && d == std::floor(d) &&
      std::fabs(d) < 9.0e15) {
    return static_cast<int64_t>(d);
  }
  return NotA("an integer", cell);
}

absl::StatusOr<bool> ParseBool(absl::string_view cell) {
  std::string lower = absl::AsciiStrToLower(absl::StripAsciiWhitespace(cell));
  if (lower == "true" || lower == "1") return true;
  if (lower == "false" || lower == "0") return false;
  return NotA("a boolean (True/False/1/0)", cell);
}

absl::StatusOr<std::optional<v1::ReleaseDate>> ParseReleaseDate(absl::string_view cell) {
  absl::string_view text = absl::StripAsciiWhitespace(cell);
  v1::ReleaseDate date;
  int year = 0, month = 0, day = 0;
  bool ok = text.size() >= 4 && ParseDigits(text.substr(0, 4), &year);
  if (ok && text.size() == 4) {
    date.set_precision(v1::RELEASE_DATE_PRECISION_YEAR);
  } else if (ok && text.size() == 7 && text[4] == '-') {
    ok = ParseDigits(text.substr(5, 2), &month) && month >= 1 && month <= 12;
    date.set_precision(v1::RELEASE_DATE_PRECISION_MONTH);
  } else if (ok && text.size() == 10 && text[4] == '-' && text[7] == '-') {
    ok = ParseDigits(text.substr(5, 2), &month) && month >= 1 && month <= 12 &&
         ParseDigits(text.substr(8, 2), &day) && day >= 1 &&
         day <= DaysInMonth(year, month);
    date.set_precision(v1::RELEASE_DATE_PRECISION_DAY);
  } else {
    ok = false;
  }
  if (!ok) return NotA("a date (YYYY, YYYY-MM or YYYY-MM-DD)", cell);
  if (year == 0) return std::nullopt;
  date.set_year(year);
  date.set_month(month);
  date.set_day(day);
  return date;
}

bool IsValidUtf8(absl::string_view text) {
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  size_t n = text.size();
  size_t i = 0;
  while (i < n) {
    unsigned char c = s[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    int extra;
    char32_t min;
    char32_t cp;
    if ((c & 0xE0) == 0xC0) {
      extra = 1, min = 0x80, cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      extra = 2, min = 0x800, cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      extra = 3, min = 0x10000, cp = c & 0x07;
    } else {
      return false;
    }
    if (i + extra >= n) return false;
    for (int k = 1; k <= extra; ++k) {
      if ((s[i + k] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (s[i + k] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += extra + 1;
  }
  return true;
}

}  // namespace cratedig::ingest
