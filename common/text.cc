#include "common/text.h"

#include <libstemmer.h>
#include <unicode/brkiter.h>
#include <unicode/locid.h>
#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>
#include <unicode/uscript.h>
#include <unicode/utf8.h>

#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace cratedig {
namespace {

// ICU hands out process-wide normalizer singletons that are immutable and safe to share
// between threads, so they are looked up once and reused by every call.
struct Normalizers {
  const icu::Normalizer2* nfkc_casefold = nullptr;
  const icu::Normalizer2* nfd = nullptr;
  const icu::Normalizer2* nfc = nullptr;
};

absl::StatusOr<Normalizers> LoadNormalizers() {
  UErrorCode error = U_ZERO_ERROR;
  Normalizers n;
  n.nfkc_casefold = icu::Normalizer2::getNFKCCasefoldInstance(error);
  n.nfd = icu::Normalizer2::getNFDInstance(error);
  n.nfc = icu::Normalizer2::getNFCInstance(error);
  if (U_FAILURE(error)) {
    return absl::InternalError(
        absl::StrCat("ICU normalizers unavailable: ", u_errorName(error)));
  }
  return n;
}

const absl::StatusOr<Normalizers>& GetNormalizers() {
  static const auto* const normalizers =
      new absl::StatusOr<Normalizers>(LoadNormalizers());
  return *normalizers;
}

// Strict check (overlongs, surrogates and truncated sequences are rejected): ICU's own
// conversion would silently substitute U+FFFD, and the same bytes must always give the
// same terms.
bool IsValidUtf8(absl::string_view text) {
  const auto* s = reinterpret_cast<const uint8_t*>(text.data());
  const auto length = static_cast<int32_t>(text.size());
  for (int32_t i = 0; i < length;) {
    UChar32 c;
    U8_NEXT(s, i, length, c);
    if (c < 0) return false;
  }
  return true;
}

// Accents and enclosing decorations, dropped after canonical decomposition.
bool IsDroppedMark(UChar32 c) {
  const int8_t type = u_charType(c);
  return type == U_NON_SPACING_MARK || type == U_ENCLOSING_MARK;
}

// Letters, digits and spacing marks (vowel signs of Indic scripts) make words; everything
// else (punctuation, symbols, separators, controls) separates them.
bool IsWordChar(UChar32 c) {
  switch (u_charType(c)) {
    case U_UPPERCASE_LETTER:
    case U_LOWERCASE_LETTER:
    case U_TITLECASE_LETTER:
    case U_MODIFIER_LETTER:
    case U_OTHER_LETTER:
    case U_COMBINING_SPACING_MARK:
    case U_DECIMAL_DIGIT_NUMBER:
    case U_LETTER_NUMBER:
    case U_OTHER_NUMBER:
      return true;
    default:
      return false;
  }
}

// ASCII, typographic and modifier-letter apostrophes. U+02BC is a letter to Unicode, but
// people use it as an apostrophe; it is never part of a normalised word.
bool IsApostrophe(UChar32 c) { return c == u'\'' || c == 0x2019 || c == 0x02BC; }

// Scripts of Southeast Asia written without spaces, whose vowel signs and tone marks
// are part of the spelling (ICU's dictionaries segment them with the marks): kept.
bool KeepsMarks(UChar32 c) {
  return uscript_hasScript(c, USCRIPT_THAI) || uscript_hasScript(c, USCRIPT_LAO) ||
         uscript_hasScript(c, USCRIPT_KHMER) || uscript_hasScript(c, USCRIPT_MYANMAR);
}

// Drops marks (but those of KeepsMarks scripts) and collapses every run of non-word
// characters into one inner space.
icu::UnicodeString StripMarksAndSeparators(const icu::UnicodeString& decomposed) {
  icu::UnicodeString out;
  bool pending_space = false;
  for (int32_t i = 0; i < decomposed.length();) {
    const UChar32 c = decomposed.char32At(i);
    i += U16_LENGTH(c);
    if (IsDroppedMark(c)) {
      const bool after_letter = !out.isEmpty() && !pending_space;
      if (!(after_letter && KeepsMarks(c) &&
            KeepsMarks(out.char32At(out.length() - 1)))) {
        continue;
      }
      out.append(c);
      continue;
    }
    if (IsApostrophe(c)) {
      // Apostrophes inside a word join it ("don't" -> "dont"), as people type it either
      // way; elsewhere they separate words. The output never holds one, so normalising
      // twice changes nothing.
      int32_t next = i;
      while (next < decomposed.length() && (IsApostrophe(decomposed.char32At(next)) ||
                                            IsDroppedMark(decomposed.char32At(next)))) {
        next += U16_LENGTH(decomposed.char32At(next));
      }
      const bool inside_word = !out.isEmpty() && !pending_space &&
                               next < decomposed.length() &&
                               IsWordChar(decomposed.char32At(next));
      if (!inside_word) pending_space = !out.isEmpty();
      continue;
    }
    if (!IsWordChar(c)) {
      pending_space = !out.isEmpty();
      continue;
    }
    if (pending_space) out.append(static_cast<UChar>(u' '));
    pending_space = false;
    out.append(c);
  }
  return out;
}

// Scripts written without spaces between words, segmented by ICU's word break iterator
// (its dictionaries: Chinese and Japanese, Thai, Lao, Khmer, Burmese).
bool IsUnspacedScript(UChar32 c) {
  return uscript_hasScript(c, USCRIPT_HAN) || uscript_hasScript(c, USCRIPT_HIRAGANA) ||
         uscript_hasScript(c, USCRIPT_KATAKANA) || KeepsMarks(c);
}

struct BreakIteratorDeleter {
  void operator()(icu::BreakIterator* it) const { delete it; }
};

// A BreakIterator holds its text and position, so each thread needs its own; null when
// ICU's data cannot give one.
icu::BreakIterator* ThreadWordBreaker() {
  thread_local std::unique_ptr<icu::BreakIterator, BreakIteratorDeleter> breaker([] {
    UErrorCode error = U_ZERO_ERROR;
    std::unique_ptr<icu::BreakIterator, BreakIteratorDeleter> it(
        icu::BreakIterator::createWordInstance(icu::Locale::getRoot(), error));
    if (U_FAILURE(error)) it.reset();
    return it;
  }());
  return breaker.get();
}

// The words of a run of unspaced-script text (valid UTF-8): ICU's dictionary words, or
// single characters when no break iterator is available.
void AppendSegmentedRun(absl::string_view run, std::vector<std::string>* tokens) {
  const icu::UnicodeString text = icu::UnicodeString::fromUTF8(
      icu::StringPiece(run.data(), static_cast<int32_t>(run.size())));
  icu::BreakIterator* breaker = ThreadWordBreaker();
  if (breaker == nullptr) {
    for (int32_t i = 0; i < text.length();) {
      const UChar32 c = text.char32At(i);
      std::string token;
      icu::UnicodeString(c).toUTF8String(token);
      tokens->push_back(std::move(token));
      i += U16_LENGTH(c);
    }
    return;
  }
  breaker->setText(text);
  int32_t start = breaker->first();
  for (int32_t end = breaker->next(); end != icu::BreakIterator::DONE;
       start = end, end = breaker->next()) {
    if (breaker->getRuleStatus() == UBRK_WORD_NONE) continue;
    std::string token;
    text.tempSubStringBetween(start, end).toUTF8String(token);
    tokens->push_back(std::move(token));
  }
}

void AppendWordTokens(absl::string_view word, std::vector<std::string>* tokens) {
  const auto* s = reinterpret_cast<const uint8_t*>(word.data());
  const auto length = static_cast<int32_t>(word.size());
  std::string run;       // other scripts
  std::string unspaced;  // a run of unspaced scripts
  for (int32_t i = 0; i < length;) {
    const int32_t start = i;
    UChar32 c;
    U8_NEXT(s, i, length, c);
    absl::string_view bytes = word.substr(start, i - start);
    if (c >= 0 && IsUnspacedScript(c)) {
      if (!run.empty()) tokens->push_back(std::move(run));
      run.clear();
      unspaced.append(bytes.data(), bytes.size());
    } else {
      if (!unspaced.empty()) AppendSegmentedRun(unspaced, tokens);
      unspaced.clear();
      run.append(bytes.data(), bytes.size());
    }
  }
  if (!unspaced.empty()) AppendSegmentedRun(unspaced, tokens);
  if (!run.empty()) tokens->push_back(std::move(run));
}

struct StemmerDeleter {
  void operator()(sb_stemmer* stemmer) const { sb_stemmer_delete(stemmer); }
};

// A Snowball stemmer keeps its working buffer inside, so each thread needs its own.
sb_stemmer* ThreadStemmer() {
  thread_local std::unique_ptr<sb_stemmer, StemmerDeleter> stemmer(
      sb_stemmer_new("english", nullptr));
  return stemmer.get();
}

bool IsAsciiWord(absl::string_view token) {
  if (token.empty()) return false;
  for (char c : token) {
    if (!absl::ascii_isalpha(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

}  // namespace

absl::StatusOr<std::string> NormalizeText(absl::string_view text) {
  if (text.size() > static_cast<size_t>(std::numeric_limits<int32_t>::max()) ||
      !IsValidUtf8(text)) {
    return absl::InvalidArgumentError("text is not valid UTF-8");
  }
  const absl::StatusOr<Normalizers>& normalizers = GetNormalizers();
  if (!normalizers.ok()) return normalizers.status();

  UErrorCode error = U_ZERO_ERROR;
  const icu::UnicodeString input = icu::UnicodeString::fromUTF8(
      icu::StringPiece(text.data(), static_cast<int32_t>(text.size())));
  const icu::UnicodeString folded = normalizers->nfkc_casefold->normalize(input, error);
  const icu::UnicodeString decomposed = normalizers->nfd->normalize(folded, error);
  const icu::UnicodeString composed =
      normalizers->nfc->normalize(StripMarksAndSeparators(decomposed), error);
  if (U_FAILURE(error)) {
    return absl::InternalError(
        absl::StrCat("ICU normalization failed: ", u_errorName(error)));
  }
  std::string out;
  composed.toUTF8String(out);
  return out;
}

std::vector<std::string> Tokenize(absl::string_view normalized) {
  std::vector<std::string> tokens;
  for (absl::string_view word : absl::StrSplit(normalized, ' ', absl::SkipEmpty())) {
    AppendWordTokens(word, &tokens);
  }
  return tokens;
}

std::string Stem(absl::string_view token) {
  if (!IsAsciiWord(token)) return std::string(token);
  sb_stemmer* stemmer = ThreadStemmer();
  if (stemmer == nullptr)
    return std::string(token);  // Out of memory: stemming is optional.
  // Snowball's English rules expect lower case.
  const std::string lower = absl::AsciiStrToLower(token);
  const sb_symbol* stem =
      sb_stemmer_stem(stemmer, reinterpret_cast<const sb_symbol*>(lower.data()),
                      static_cast<int>(lower.size()));
  if (stem == nullptr) return lower;
  return std::string(reinterpret_cast<const char*>(stem), sb_stemmer_length(stemmer));
}

absl::StatusOr<std::vector<std::string>> AnalyzeText(absl::string_view text) {
  absl::StatusOr<std::string> normalized = NormalizeText(text);
  if (!normalized.ok()) return normalized.status();
  std::vector<std::string> terms = Tokenize(*normalized);
  for (std::string& term : terms) term = Stem(term);
  return terms;
}

absl::StatusOr<std::vector<std::string>> TextWords(absl::string_view text) {
  absl::StatusOr<std::string> normalized = NormalizeText(text);
  if (!normalized.ok()) return normalized.status();
  return Tokenize(*normalized);
}

absl::string_view CoreTitle(absl::string_view title) {
  absl::string_view core = absl::StripAsciiWhitespace(title);
  // " - " (hyphen, en dash or em dash between spaces) starts a version suffix.
  for (absl::string_view dash : {" - ", " \u2013 ", " \u2014 "}) {
    const size_t at = core.find(dash);
    if (at != absl::string_view::npos && at > 0) core = core.substr(0, at);
  }
  // Trailing "(...)" and "[...]" groups.
  while (!core.empty() && (core.back() == ')' || core.back() == ']')) {
    const char open = core.back() == ')' ? '(' : '[';
    const size_t at = core.rfind(open);
    if (at == absl::string_view::npos || at == 0) break;
    core = absl::StripTrailingAsciiWhitespace(core.substr(0, at));
  }
  core = absl::StripTrailingAsciiWhitespace(core);
  return core.empty() ? title : core;
}

}  // namespace cratedig
