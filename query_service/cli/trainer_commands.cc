// The CatalogService subcommands: import, train, rollback and status trainer.

#include <memory>

#include "absl/time/clock.h"
#include "cratedig/v1/catalog_service.grpc.pb.h"
#include "ingest_service/catalog_import.h"
#include "query_service/cli/commands_internal.h"
#include "query_service/cli/connection.h"
#include "query_service/cli/human_output.h"
#include "query_service/cli/json_output.h"

namespace cratedig::cli {
namespace {

Connection TrainerConnection(const CommandContext& ctx) {
  return Connection("trainer", ctx.options.trainer, ctx.timeout,
                    ClientAccessOf(ctx.options, ctx.options.internal_token));
}

// Prints each kept row error as FILE:LINE:COLUMN: message (a whole skipped file, line 0,
// as FILE: message), then how many skipped rows were not kept.
void PrintRowErrors(const v1::ImportSummary& summary, std::ostream& err) {
  int64_t rows_listed = 0;
  for (const v1::RowError& e : summary.errors()) {
    if (e.line() == 0) {
      err << e.file() << ": " << e.message() << '\n';
      continue;
    }
    ++rows_listed;
    err << e.file() << ':' << e.line() << ':' << e.column() << ": " << e.message()
        << '\n';
  }
  int64_t unlisted = summary.rows_skipped() - rows_listed;
  if (unlisted > 0) err << "... and " << unlisted << " more skipped rows not listed\n";
}

}  // namespace

int RunImport(const CommandContext& ctx) {
  Connection connection = TrainerConnection(ctx);
  std::unique_ptr<v1::CatalogService::Stub> stub =
      v1::CatalogService::NewStub(connection.channel());
  ingest::ImportOptions options;
  options.progress = [&ctx](const std::string& line) { ctx.err << line << '\n'; };
  options.rpc_timeout = ctx.timeout;
  absl::StatusOr<v1::ImportSummary> summary =
      ingest::ImportCatalogFiles(ctx.args, stub.get(), options);
  if (!summary.ok()) return Fail(ctx, connection.ErrorLine(ctx.name, summary.status()));
  PrintRowErrors(*summary, ctx.err);
  if (ctx.options.json) {
    ctx.out << DumpJson(ImportSummaryToJson(*summary)) << '\n';
  } else {
    ctx.out << FormatImportSummary(*summary) << '\n';
  }
  return kExitOk;
}

int RunTrain(const CommandContext& ctx) {
  Connection connection = TrainerConnection(ctx);
  std::unique_ptr<v1::CatalogService::Stub> stub =
      v1::CatalogService::NewStub(connection.channel());
  v1::TrainRequest request;
  absl::StatusOr<v1::TrainResponse> response = connection.Call<v1::TrainResponse>(
      [&](auto* context, auto* reply) { return stub->Train(context, request, reply); });
  if (!response.ok()) return Fail(ctx, connection.ErrorLine(ctx.name, response.status()));
  if (ctx.options.json) {
    ctx.out << DumpJson(TrainResponseToJson(*response)) << '\n';
  } else {
    ctx.out << FormatTrainResponse(*response) << '\n';
  }
  return kExitOk;
}

int RunRollback(const CommandContext& ctx) {
  Connection connection = TrainerConnection(ctx);
  std::unique_ptr<v1::CatalogService::Stub> stub =
      v1::CatalogService::NewStub(connection.channel());
  v1::RollbackSnapshotRequest request;
  if (!ctx.args.empty()) request.set_version(ctx.args[0]);
  absl::StatusOr<v1::RollbackSnapshotResponse> response =
      connection.Call<v1::RollbackSnapshotResponse>([&](auto* context, auto* reply) {
        return stub->RollbackSnapshot(context, request, reply);
      });
  if (!response.ok()) return Fail(ctx, connection.ErrorLine(ctx.name, response.status()));
  if (ctx.options.json) {
    ctx.out << DumpJson(RollbackResponseToJson(*response)) << '\n';
  } else {
    ctx.out << FormatRollbackResponse(*response) << '\n';
  }
  return kExitOk;
}

int RunTrainerStatus(const CommandContext& ctx) {
  Connection connection = TrainerConnection(ctx);
  std::unique_ptr<v1::CatalogService::Stub> stub =
      v1::CatalogService::NewStub(connection.channel());
  v1::GetCatalogStatusRequest request;
  absl::StatusOr<v1::GetCatalogStatusResponse> response =
      connection.Call<v1::GetCatalogStatusResponse>([&](auto* context, auto* reply) {
        return stub->GetCatalogStatus(context, request, reply);
      });
  if (!response.ok()) return Fail(ctx, connection.ErrorLine(ctx.name, response.status()));
  if (ctx.options.json) {
    ctx.out << DumpJson(CatalogStatusToJson(*response)) << '\n';
  } else {
    ctx.out << FormatCatalogStatus(*response, absl::Now()) << '\n';
  }
  return kExitOk;
}

}  // namespace cratedig::cli
