#pragma once

// Spotify ids and the identity of a song across ids.

#include <string>

#include "absl/strings/string_view.h"
#include "cratedig/v1/track.pb.h"

namespace cratedig {

/// Returns true when `id` is 22 characters of base62 (0-9, a-z, A-Z).
bool IsSpotifyId(absl::string_view id);

/// Returns the id from "spotify:track:ID", "https://open.spotify.com/track/ID?..." or a
/// bare ID; empty when none of these holds a valid id.
std::string ParseSpotifyTrackId(absl::string_view text);

/// Returns the key two tracks share when they are the same song under different ids: the
/// normalised name and the normalised, sorted artist names.
std::string DuplicateKey(const v1::Track& track);

}  // namespace cratedig
