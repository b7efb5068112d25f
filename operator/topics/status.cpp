#include "operator/topics/status.h"

#include <fmt/format.h>

#include <algorithm>

namespace outflow::op::topics {
namespace {

// Conditions are read in `kubectl describe`; a pipeline with a long retry
// ladder can have fifty topics pending at once, so name only the first few.
constexpr size_t kMaxNamesInMessage = 5;

template <typename Describe>
std::string list_of(const std::vector<const TopicStatus*>& topics, Describe describe) {
  std::string out;
  for (size_t i = 0; i < topics.size() && i < kMaxNamesInMessage; ++i) {
    if (i > 0) out += ", ";
    out += describe(*topics[i]);
  }
  if (topics.size() > kMaxNamesInMessage) {
    out += fmt::format(" and {} more", topics.size() - kMaxNamesInMessage);
  }
  return out;
}

std::vector<const TopicStatus*> in_state(const std::vector<TopicStatus>& topics,
                                         TopicState state) {
  std::vector<const TopicStatus*> out;
  for (const TopicStatus& t : topics) {
    if (t.state == state) out.push_back(&t);
  }
  return out;
}

}  // namespace

std::string_view to_string(TopicState state) {
  switch (state) {
    case TopicState::Ready:
      return "Ready";
    case TopicState::Pending:
      return "Pending";
    case TopicState::Error:
      return "Error";
  }
  return "Unknown";
}

std::string_view to_string(TopicOrigin origin) {
  switch (origin) {
    case TopicOrigin::Created:
      return "Created";
    case TopicOrigin::Adopted:
      return "Adopted";
    case TopicOrigin::Unknown:
      break;
  }
  return "";
}

TopicOrigin origin_from_string(std::string_view text) {
  if (text == "Created") return TopicOrigin::Created;
  if (text == "Adopted") return TopicOrigin::Adopted;
  return TopicOrigin::Unknown;
}

TopicsReadyCondition roll_up(const std::vector<TopicStatus>& topics) {
  const auto failing = in_state(topics, TopicState::Error);
  if (!failing.empty()) {
    const TopicStatus& first = *failing.front();
    return {false, first.reason,
            fmt::format("{} of {} topics cannot be reconciled: {}. {}", failing.size(),
                        topics.size(),
                        list_of(failing,
                                [](const TopicStatus& t) {
                                  return fmt::format("{} ({})", t.name, t.reason);
                                }),
                        first.message)};
  }
  const auto pending = in_state(topics, TopicState::Pending);
  if (!pending.empty()) {
    return {false, "TopicsPending",
            fmt::format("waiting for {} of {} topics: {}", pending.size(), topics.size(),
                        list_of(pending, [](const TopicStatus& t) { return t.name; }))};
  }
  return {true, "AllTopicsReady", fmt::format("all {} topics are ready", topics.size())};
}

bool worth_a_warning(const TopicsReadyCondition& condition) {
  return !condition.ready && condition.reason != "TopicsPending";
}

std::string summary(const std::vector<TopicStatus>& topics) {
  const auto ready = std::count_if(topics.begin(), topics.end(), [](const TopicStatus& t) {
    return t.state == TopicState::Ready;
  });
  return fmt::format("{}/{}", ready, topics.size());
}

}  // namespace outflow::op::topics
