#include "query_service/cli/track_args.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/track_ids.h"

namespace cratedig::cli {

std::string NormalizeTrackId(absl::string_view arg) {
  std::string id = ParseSpotifyTrackId(arg);
  if (id.empty()) return std::string(arg);
  return id;
}

std::vector<std::string> NormalizeTrackIds(const std::vector<std::string>& args) {
  std::vector<std::string> ids;
  ids.reserve(args.size());
  for (const std::string& arg : args) ids.push_back(NormalizeTrackId(arg));
  return ids;
}

std::vector<std::string> SplitIdLine(absl::string_view line) {
  return absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
}

std::string JoinArgs(const std::vector<std::string>& args) {
  return absl::StrJoin(args, " ");
}

std::optional<BatchLine> BatchReader::Next() {
  std::string line;
  while (std::getline(in_, line)) {
    ++line_number_;
    absl::string_view text = absl::StripAsciiWhitespace(line);
    if (!text.empty()) return BatchLine{line_number_, std::string(text)};
  }
  return std::nullopt;
}

}  // namespace cratedig::cli
