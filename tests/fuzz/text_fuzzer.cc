// libFuzzer target: the text normaliser (ICU normalisation, folding, word breaks,
// stemming) that every track name and every query goes through.

#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "absl/strings/string_view.h"
#include "common/text.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view text(reinterpret_cast<const char*>(data), size);
  auto normalized = cratedig::NormalizeText(text);
  if (!normalized.ok()) return 0;
  // Normalising is idempotent.
  auto again = cratedig::NormalizeText(*normalized);
  if (!again.ok() || *again != *normalized) std::abort();
  for (const std::string& token : cratedig::Tokenize(*normalized)) {
    cratedig::Stem(token);
  }
  return 0;
}
