#pragma once

// Human-readable output of `cratedig` (the default without --json). Not a stable format.

#include <ostream>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "cratedig/v1/catalog_service.pb.h"
#include "cratedig/v1/ingest_service.pb.h"
#include "cratedig/v1/query_service.pb.h"

namespace cratedig::cli {

/// Return the number of UTF-8 code points in `text` (its width in a terminal, roughly).
size_t DisplayWidth(absl::string_view text);

/// Return `text` cut to at most `width` code points, ending in "…" when cut.
std::string Truncate(absl::string_view text, size_t width);

/// Print an aligned table: rank, distance, track name, artists, genres ("no results" if
/// empty).
void PrintResultsTable(const google::protobuf::RepeatedPtrField<v1::ScoredTrack>& results,
                       std::ostream& out);

/// Return "published snapshot 000003: N tracks in X ms".
std::string FormatTrainResponse(const v1::TrainResponse& response);

/// Return "snapshot 000002 is current again (was 000003): N tracks" or, when nothing
/// changed, "snapshot 000002 is current already: N tracks".
std::string FormatRollbackResponse(const v1::RollbackSnapshotResponse& response);

/// Return "idle", "waiting", "building", "paused" (or "unknown").
std::string BuildStateName(v1::BuildState state);

/// Return the trainer's status on a few lines: catalog counts, current and kept
/// snapshots, what the builder does (times relative to `now`) and how the last build
/// went.
std::string FormatCatalogStatus(const v1::GetCatalogStatusResponse& status,
                                absl::Time now);

/// Return "serving snapshot 000003: N tracks" or "no snapshot loaded".
std::string FormatQueryStatus(const v1::GetQueryStatusResponse& response);

/// Return "N rows read, N stored, N merged, N unchanged, N skipped, N artists".
std::string FormatImportSummary(const v1::ImportSummary& summary);

}  // namespace cratedig::cli
