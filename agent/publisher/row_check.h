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

// The row names a topic the agent's config does not declare. Often only a
// config roll in progress (the topic was just added to the pipeline and this
// agent still runs the old config), so the caller decides how long to wait
// before calling it poison.
struct UndeclaredTopic {
  std::string topic;
};

using Prepared = std::variant<KafkaMessage, Poison, UndeclaredTopic>;

// Topic: the row's, else spec.outbox.defaultTopic; it must be one of
// spec.topics. Headers: a JSON object whose values are strings or null.
Prepared prepare(const OutboxRow& row, const pipeline::PipelineSpec& spec);

// The row's headers column (JSON text, nullopt for SQL NULL) as Kafka headers,
// or why it cannot be.
std::variant<std::vector<Header>, std::string> parse_headers(const std::optional<std::string>& json_text);

// The poison reason for a row whose topic stayed undeclared past the wait.
std::string undeclared_topic_reason(const std::string& topic);

}  // namespace outflow::agent::publisher
