#pragma once

// `outflow-agent check --config F`: validates the config, then checks
// PostgreSQL and Kafka the way the agent will use them and prints a
// checklist with a verdict. Exit 0 ready, 1 the config is invalid, 2 a check
// failed. Nothing secret is printed.

#include <ostream>
#include <string>

namespace outflow::agent::check {

int run_check(const std::string& config_path, std::ostream& out);

}  // namespace outflow::agent::check
