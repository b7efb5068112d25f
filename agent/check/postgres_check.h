#pragma once

// The PostgreSQL half of `outflow-agent check`: connects with the agent's
// database URL and checks the outbox table, its columns and types, the NOTIFY
// trigger, the role's table privileges and advisory locks. Messages never
// show the URL (pg::Connection redacts libpq's).

#include "agent/check/checklist.h"
#include "common/pipeline/spec.h"

#include <chrono>
#include <string>
#include <vector>

namespace outflow::agent::check {

std::vector<Item> check_postgres(const std::string& database_url, const pipeline::OutboxSpec& outbox,
                                 std::chrono::seconds connect_timeout);

}  // namespace outflow::agent::check
