#pragma once

// Text normalisation, applied identically when the trainer embeds track names and when
// the query daemon embeds a query. Built on ICU (Unicode normalisation, case folding,
// accent folding, word breaks) and libstemmer (Snowball English stemmer, as the prototype
// lemmatised).

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace cratedig {

/// Returns `text` NFKC-normalised, case-folded, with accents removed (Rehén -> rehen; the
/// vowel signs and tone marks of Thai, Lao, Khmer and Burmese are kept), apostrophes
/// inside words dropped (Don't -> dont) and every other run of punctuation, symbols and
/// whitespace turned into one space, trimmed. Invalid UTF-8 is an InvalidArgumentError.
/// Thread-safe.
absl::StatusOr<std::string> NormalizeText(absl::string_view text);

/// Returns the words of a normalised text: letters and digits split at spaces; runs of
/// Han, Hiragana, Katakana, Thai, Lao, Khmer and Burmese (scripts written without spaces)
/// split into words by ICU's word break iterator and its dictionaries. Thread-safe.
std::vector<std::string> Tokenize(absl::string_view normalized);

/// Returns the Snowball English stem of a normalised token ("running" -> "run"); tokens
/// that are not ASCII letters come back unchanged. Thread-safe.
std::string Stem(absl::string_view token);

/// NormalizeText, Tokenize and Stem in one call: the terms the embedder sees.
absl::StatusOr<std::vector<std::string>> AnalyzeText(absl::string_view text);

/// NormalizeText and Tokenize without stemming: the words of the lexical index, whose
/// typo tolerance and prefix matching work on words as typed.
absl::StatusOr<std::vector<std::string>> TextWords(absl::string_view text);

/// The title without its version suffix: a trailing " - ..." part and trailing bracketed
/// groups ("Hey Jude - Remastered 2015" -> "Hey Jude", "Rain (feat. X) [Live]" ->
/// "Rain"). The whole title when nothing precedes the suffix.
absl::string_view CoreTitle(absl::string_view title);

}  // namespace cratedig
