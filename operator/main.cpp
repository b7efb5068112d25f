// outflow-operator: reconciles EventPipelines into Kafka topics, agent
// workloads, alert rules and status.

#include "common/log/logging.h"
#include "common/openssl_init.h"
#include "operator/options.h"
#include "outflow/version.h"

#include <spdlog/spdlog.h>

int main(int argc, char** argv) {
  outflow::init_openssl();
  CLI::App app{"outflow-operator: reconciles EventPipeline resources into Kafka topics, "
               "agent Deployments, alert rules and status"};
  app.set_version_flag("--version", std::string("outflow-operator ") + outflow::kVersion);
  outflow::op::Options options;
  outflow::op::add_flags(app, options);
  CLI11_PARSE(app, argc, argv);

  outflow::log::configure("operator", *outflow::log::parse_format(options.log_format),
                          *outflow::log::parse_level(options.log_level));
  spdlog::info("outflow-operator {} starting", outflow::kVersion);
  // The controller itself lands with the operator work; until then the binary
  // refuses to pretend it reconciles anything.
  spdlog::critical("the EventPipeline controller is not part of this build yet");
  return 2;
}
