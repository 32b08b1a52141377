// The QueryService subcommands: status, search, recommend, tracks, predict.

#include <functional>
#include <memory>

#include "absl/strings/str_cat.h"
#include "cratedig/v1/query_service.grpc.pb.h"
#include "query_service/cli/commands_internal.h"
#include "query_service/cli/connection.h"
#include "query_service/cli/human_output.h"
#include "query_service/cli/json_output.h"
#include "query_service/cli/predict_request.h"
#include "query_service/cli/recommend_args.h"
#include "query_service/cli/track_args.h"

namespace cratedig::cli {
namespace {

using Stub = v1::QueryService::Stub;

// Answers one request (a query, or a line of ids) and prints the result on `out`.
using RequestHandler =
    std::function<absl::Status(const std::string& input, bool json, std::ostream& out)>;

Connection QueryConnection(const CommandContext& ctx) {
  return Connection("query daemon", ctx.options.server, ctx.timeout,
                    ClientAccessOf(ctx.options, ctx.options.query_token));
}

// Runs `handler` once on the joined arguments, or, when the only argument is "-", once
// per line of standard input with JSON output, going on after failed lines.
int RunSingleOrBatch(const CommandContext& ctx, const Connection& connection,
                     const RequestHandler& handler) {
  if (ctx.args.size() != 1 || ctx.args[0] != "-") {
    absl::Status status = handler(JoinArgs(ctx.args), ctx.options.json, ctx.out);
    if (!status.ok()) return Fail(ctx, connection.ErrorLine(ctx.name, status));
    return kExitOk;
  }
  BatchReader reader(ctx.in);
  bool failed = false;
  while (std::optional<BatchLine> line = reader.Next()) {
    absl::Status status = handler(line->text, /*json=*/true, ctx.out);
    ctx.out.flush();
    if (!status.ok()) {
      failed = true;
      Fail(ctx,
           connection.ErrorLine(absl::StrCat(ctx.name, ": line ", line->number), status));
    }
  }
  return failed ? kExitFailure : kExitOk;
}

void PrintJson(const Json& json, std::ostream& out) { out << DumpJson(json) << '\n'; }

}  // namespace

int RunStatus(const CommandContext& ctx) {
  if (!ctx.args.empty()) return RunTrainerStatus(ctx);  // RunCli let only "trainer" by.
  Connection connection = QueryConnection(ctx);
  std::unique_ptr<Stub> stub = v1::QueryService::NewStub(connection.channel());
  v1::GetQueryStatusRequest request;
  absl::StatusOr<v1::GetQueryStatusResponse> response =
      connection.Call<v1::GetQueryStatusResponse>([&](auto* context, auto* reply) {
        return stub->GetQueryStatus(context, request, reply);
      });
  if (!response.ok()) return Fail(ctx, connection.ErrorLine(ctx.name, response.status()));
  if (ctx.options.json) {
    PrintJson(QueryStatusToJson(*response), ctx.out);
  } else {
    ctx.out << FormatQueryStatus(*response) << '\n';
  }
  return kExitOk;
}

int RunSearch(const CommandContext& ctx) {
  Connection connection = QueryConnection(ctx);
  std::unique_ptr<Stub> stub = v1::QueryService::NewStub(connection.channel());
  auto handler = [&](const std::string& query, bool json, std::ostream& out) {
    v1::SearchRequest request;
    request.set_query(query);
    request.set_k(ctx.options.k);
    request.set_offset(ctx.options.offset);
    if (v1::TrackFilter filter = TrackFilterFromFlags(ctx.options.recommend);
        filter.ByteSizeLong() > 0) {
      *request.mutable_filter() = std::move(filter);
    }
    absl::StatusOr<v1::SearchResponse> response =
        connection.Call<v1::SearchResponse>([&](auto* context, auto* reply) {
          return stub->Search(context, request, reply);
        });
    if (!response.ok()) return response.status();
    if (json) {
      PrintJson(SearchResponseToJson(*response), out);
    } else {
      PrintResultsTable(response->results(), out);
    }
    return absl::OkStatus();
  };
  return RunSingleOrBatch(ctx, connection, handler);
}

int RunRecommend(const CommandContext& ctx) {
  Connection connection = QueryConnection(ctx);
  std::unique_ptr<Stub> stub = v1::QueryService::NewStub(connection.channel());
  auto handler = [&](const std::string& ids, bool json, std::ostream& out) {
    v1::RecommendRequest request;
    for (std::string& id : NormalizeTrackIds(SplitIdLine(ids))) {
      request.add_track_ids(std::move(id));
    }
    request.set_k(ctx.options.k);
    *request.mutable_options() = RecommendOptionsFromFlags(ctx.options.recommend);
    absl::StatusOr<v1::RecommendResponse> response =
        connection.Call<v1::RecommendResponse>([&](auto* context, auto* reply) {
          return stub->Recommend(context, request, reply);
        });
    if (!response.ok()) return response.status();
    if (json) {
      PrintJson(RecommendResponseToJson(*response), out);
    } else {
      PrintResultsTable(response->results(), out);
    }
    return absl::OkStatus();
  };
  return RunSingleOrBatch(ctx, connection, handler);
}

int RunTracks(const CommandContext& ctx) {
  Connection connection = QueryConnection(ctx);
  std::unique_ptr<Stub> stub = v1::QueryService::NewStub(connection.channel());
  auto handler = [&](const std::string& ids, bool json, std::ostream& out) {
    v1::GetTracksRequest request;
    for (std::string& id : NormalizeTrackIds(SplitIdLine(ids))) {
      request.add_track_ids(std::move(id));
    }
    absl::StatusOr<v1::GetTracksResponse> response =
        connection.Call<v1::GetTracksResponse>([&](auto* context, auto* reply) {
          return stub->GetTracks(context, request, reply);
        });
    if (!response.ok()) return response.status();
    if (json) {
      PrintJson(GetTracksResponseToJson(*response), out);
      return absl::OkStatus();
    }
    PrintResultsTable(response->tracks(), out);
    for (const std::string& id : response->missing_ids())
      out << "not found: " << id << '\n';
    return absl::OkStatus();
  };
  return RunSingleOrBatch(ctx, connection, handler);
}

int RunPredict(const CommandContext& ctx) {
  const std::string& path = ctx.args[0];
  absl::StatusOr<std::string> text = ReadRequestFile(path, ctx.in);
  if (!text.ok()) return Fail(ctx, absl::StrCat(ctx.name, ": ", text.status().message()));
  absl::StatusOr<v1::PredictRequest> request =
      ParsePredictRequest(*text, path == "-" ? "<stdin>" : path);
  if (!request.ok())
    return Fail(ctx, absl::StrCat(ctx.name, ": ", request.status().message()));

  Connection connection = QueryConnection(ctx);
  std::unique_ptr<Stub> stub = v1::QueryService::NewStub(connection.channel());
  absl::StatusOr<v1::PredictResponse> response =
      connection.Call<v1::PredictResponse>([&](auto* context, auto* reply) {
        return stub->Predict(context, *request, reply);
      });
  if (!response.ok()) return Fail(ctx, connection.ErrorLine(ctx.name, response.status()));
  if (ctx.options.json) {
    PrintJson(PredictResponseToJson(*response), ctx.out);
    return kExitOk;
  }
  ctx.out << "search results:\n";
  PrintResultsTable(response->search_results(), ctx.out);
  ctx.out << "\nrecommendations:\n";
  PrintResultsTable(response->recommender_results(), ctx.out);
  return kExitOk;
}

}  // namespace cratedig::cli
