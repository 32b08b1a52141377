// libFuzzer target: the JSON request file of `cratedig predict`.

#include <cstddef>
#include <cstdint>

#include "absl/strings/string_view.h"
#include "query_service/cli/predict_request.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto request = cratedig::cli::ParsePredictRequest(
      absl::string_view(reinterpret_cast<const char*>(data), size), "fuzz.json");
  if (request.ok()) request->ByteSizeLong();
  return 0;
}
