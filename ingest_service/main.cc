// ingestd: serves cratedig.v1.IngestService (plus health and reflection), reading catalog
// files and streaming them to the trainer. Flags and wiring only; the logic is in
// ingest_lib.

#include <memory>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "common/daemon.h"
#include "common/logging.h"
#include "cratedig/v1/catalog_service.grpc.pb.h"
#include "ingest_service/catalog_import.h"
#include "ingest_service/ingest_grpc_service.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:50051",
          "address to serve IngestService on, HOST:PORT; port 0 picks a free port");
ABSL_FLAG(std::string, trainer, "",
          "address of trainerd's CatalogService, HOST:PORT (required)");

int main(int argc, char** argv) {
  // Before any thread starts, so that every thread inherits the blocked signal mask.
  cratedig::WatchShutdownSignals();
  absl::SetProgramUsageMessage("ingestd --trainer=HOST:PORT [--listen=HOST:PORT]");
  absl::ParseCommandLine(argc, argv);
  cratedig::SetLogProgramName("ingestd");
  const std::string trainer = absl::GetFlag(FLAGS_trainer);
  if (trainer.empty()) {
    CD_LOG(ERROR)
        << "--trainer is required: the address of trainerd, e.g. 127.0.0.1:50052";
    return 2;
  }
  std::shared_ptr<cratedig::v1::CatalogService::StubInterface> stub =
      cratedig::v1::CatalogService::NewStub(cratedig::MakeChannel(trainer));
  cratedig::ingest::IngestGrpcService service(stub, cratedig::ingest::ImportOptions{});

  cratedig::DaemonOptions options;
  options.name = "ingestd";
  options.listen = absl::GetFlag(FLAGS_listen);
  options.services = {&service};
  CD_LOG(INFO) << "starting listen=" << options.listen << " trainer=" << trainer;
  absl::Status status = cratedig::RunDaemon(options);
  if (!status.ok()) {
    CD_LOG(ERROR) << status;
    return 1;
  }
  return 0;
}
