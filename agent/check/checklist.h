#pragma once

// `outflow-agent check`: what was checked, each with its outcome and one
// line saying what was found or what to fix, and the verdict. The decisions
// about facts already gathered (column types, topic layouts) are pure and
// live here; postgres_check and kafka_check gather the facts.

#include "common/checklist/checklist.h"
#include "common/pipeline/spec.h"

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace outflow::agent::check {

using checklist::exit_code;
using checklist::Item;
using checklist::kExitConfig;  // the config itself is invalid (one line)
using checklist::kExitFailed;
using checklist::kExitReady;
using checklist::Outcome;
using checklist::render;

// information_schema.columns.data_type of each column of the outbox table.
using ColumnTypes = std::map<std::string, std::string>;

// The outbox columns the agent reads and writes, each checked for existence
// and type; one Failed item listing every problem, or one Ok item.
Item outbox_columns(const std::string& table, const pipeline::OutboxColumns& columns, const ColumnTypes& actual);

// Partition counts of the topics the broker knows (absent: it does not).
using TopicPartitions = std::map<std::string, int>;

// One item per declared topic (spec.topics, then the dead-letter family): it
// must exist, with at least the partitions the config states (0: any).
std::vector<Item> topics(const std::vector<pipeline::TopicSpec>& declared, const TopicPartitions& actual);
// The same, where the topics in `hidden` answered TOPIC_AUTHORIZATION_FAILED:
// `principal` may not describe them, and Kafka then does not say whether
// they exist at all.
std::vector<Item> topics(const std::vector<pipeline::TopicSpec>& declared, const TopicPartitions& actual,
                         const std::set<std::string>& hidden, const std::string& principal);

}  // namespace outflow::agent::check
