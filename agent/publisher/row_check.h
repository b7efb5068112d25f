#pragma once

// Pure: what a pending outbox row turns into before it reaches Kafka: the topic
// it goes to and the headers it carries, or the reason it can never be
// published (a poison row). Checked before producing so a row the pipeline
// cannot route never burns a Kafka call or a breaker slot.

#include "agent/publisher/outbox_row.h"
#include "common/pipeline/spec.h"

#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace outflow::agent::publisher {

// The header every published message carries, so consumers can de-duplicate
// the redeliveries at-least-once allows.
inline constexpr const char* kEventIdHeader = "outflow-event-id";

using Header = std::pair<std::string, std::optional<std::string>>;  // nullopt: null value

struct KafkaMessage {
  std::string topic;
  std::vector<Header> headers;  // outflow-event-id first, then the row's own
};

using Prepared = std::variant<KafkaMessage, Poison>;

// Topic: the row's, else spec.outbox.defaultTopic; it must be one of
// spec.topics. Headers: a JSON object whose values are strings or null.
Prepared prepare(const OutboxRow& row, const pipeline::PipelineSpec& spec);

// The row's headers column (JSON text, nullopt for SQL NULL) as Kafka headers,
// or why it cannot be.
std::variant<std::vector<Header>, std::string> parse_headers(const std::optional<std::string>& json_text);

}  // namespace outflow::agent::publisher
