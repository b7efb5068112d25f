#pragma once

// `outflow-operator check`: gathers what verdict.h judges (the release's
// operator pods, their probe and metrics ports, the leader Lease) through the
// API server and the pods' own addresses, and prints the checklist. Tries
// again until every check passes or the timeout ends: right after `helm
// install --wait` the pods are Ready a moment before one of them leads.

#include <CLI/CLI.hpp>

#include <chrono>
#include <ostream>
#include <string>

namespace outflow::op::check {

struct CheckOptions {
  std::string kubeconfig;  // empty: in-cluster
  std::string namespace_name;  // default: POD_NAMESPACE
  std::string selector;        // the operator pods' labels
  int replicas = 1;
  std::string lease;  // empty: leader election is off
  int metrics_port = 8080;
  int health_port = 8081;
  std::chrono::milliseconds timeout = std::chrono::seconds(60);
};

// Adds the `check` subcommand's flags to `check`.
void add_check_flags(CLI::App& check, CheckOptions& options);

// Exit codes as checklist.h: 0 ready, 1 bad options, 2 a check failed.
int run_check(const CheckOptions& options, std::ostream& out);

}  // namespace outflow::op::check
