#include "agent/publisher/row_check.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>

namespace outflow::agent::publisher {

std::variant<std::vector<Header>, std::string> parse_headers(const std::optional<std::string>& json_text) {
  std::vector<Header> headers;
  if (!json_text) return headers;
  const auto parsed = nlohmann::json::parse(*json_text, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) return std::string("headers: not valid JSON");
  if (parsed.is_null()) return headers;
  if (!parsed.is_object()) {
    return fmt::format("headers: must be a JSON object of string values, not a {}", parsed.type_name());
  }
  for (const auto& [name, value] : parsed.items()) {
    if (name.empty()) return std::string("headers: a header name is empty");
    if (value.is_null()) {
      headers.emplace_back(name, std::nullopt);
    } else if (value.is_string()) {
      headers.emplace_back(name, value.get<std::string>());
    } else {
      // Kafka headers are bytes; guessing how a number or object should be
      // spelled would hand consumers something the producer never wrote.
      return fmt::format("headers: value of \"{}\" is a {}, Kafka headers carry strings", name,
                         value.type_name());
    }
  }
  return headers;
}

std::string undeclared_topic_reason(const std::string& topic) {
  return fmt::format("topic \"{}\" is not declared in the pipeline's spec.topics", topic);
}

Prepared prepare(const OutboxRow& row, const pipeline::PipelineSpec& spec) {
  std::string topic = row.topic.value_or("");
  if (topic.empty()) topic = spec.outbox.default_topic;
  if (topic.empty()) return Poison{"no topic: the row names none and spec.outbox.defaultTopic is not set"};
  const bool declared = std::any_of(spec.topics.begin(), spec.topics.end(),
                                    [&](const pipeline::TopicSpec& t) { return t.name == topic; });
  if (!declared) return UndeclaredTopic{std::move(topic)};
  auto parsed = parse_headers(row.headers_json);
  if (auto* problem = std::get_if<std::string>(&parsed)) return Poison{*problem};
  auto& own = std::get<std::vector<Header>>(parsed);

  KafkaMessage message{std::move(topic), {}};
  message.headers.reserve(own.size() + 1);
  message.headers.emplace_back(kEventIdHeader, row.event_id);
  for (auto& header : own) {
    // The event id is the agent's promise to consumers; a row cannot forge it.
    if (header.first == kEventIdHeader) continue;
    message.headers.push_back(std::move(header));
  }
  return message;
}

}  // namespace outflow::agent::publisher
