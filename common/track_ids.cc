#include "common/track_ids.h"

#include <algorithm>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/text.h"

namespace cratedig {
namespace {

constexpr size_t kSpotifyIdLength = 22;

// The id in "open.spotify.com/[intl-xx/][embed/]track/ID[?...]", scheme removed.
std::string IdFromOpenUrl(absl::string_view rest) {
  rest = rest.substr(0, rest.find_first_of("?#"));
  std::vector<absl::string_view> parts = absl::StrSplit(rest, '/', absl::SkipEmpty());
  if (parts.empty() || absl::AsciiStrToLower(parts[0]) != "open.spotify.com") return "";
  for (size_t i = 1; i + 1 < parts.size(); ++i) {
    if (parts[i] == "track" && IsSpotifyId(parts[i + 1]))
      return std::string(parts[i + 1]);
  }
  return "";
}

// Normalised for comparison; names that are not valid UTF-8 still get a stable key.
std::string NormalizedOrLower(const std::string& text) {
  absl::StatusOr<std::string> normalized = NormalizeText(text);
  return normalized.ok() ? *std::move(normalized) : absl::AsciiStrToLower(text);
}

}  // namespace

bool IsSpotifyId(absl::string_view id) {
  if (id.size() != kSpotifyIdLength) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return absl::ascii_isalnum(static_cast<unsigned char>(c));
  });
}

std::string ParseSpotifyTrackId(absl::string_view text) {
  text = absl::StripAsciiWhitespace(text);
  if (IsSpotifyId(text)) return std::string(text);
  if (absl::ConsumePrefix(&text, "spotify:track:")) {
    return IsSpotifyId(text) ? std::string(text) : "";
  }
  if (!absl::ConsumePrefix(&text, "https://")) absl::ConsumePrefix(&text, "http://");
  return IdFromOpenUrl(text);
}

std::string DuplicateKey(const v1::Track& track) {
  std::vector<std::string> artists;
  artists.reserve(track.artists_size());
  for (const v1::ArtistRef& artist : track.artists()) {
    artists.push_back(NormalizedOrLower(artist.name()));
  }
  std::sort(artists.begin(), artists.end());
  return NormalizedOrLower(track.name()) + "\x1f" + absl::StrJoin(artists, "\x1e");
}

}  // namespace cratedig
