#include "common/kafka/admin.h"

#include "common/kafka/handles.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <climits>
#include <set>

namespace outflow::kafka {

namespace {

using Clock = std::chrono::steady_clock;

// librdkafka reports a request timeout as an event on our queue; the margin
// lets that event (with its precise error) arrive before we stop waiting.
constexpr std::chrono::milliseconds kQueueMargin{5000};

int to_ms(std::chrono::milliseconds timeout, std::string_view what) {
  if (timeout.count() <= 0 || timeout.count() > INT_MAX - kQueueMargin.count()) {
    throw AdminError(RD_KAFKA_RESP_ERR__INVALID_ARG,
                     fmt::format("{}: timeout of {} ms is out of range", what, timeout.count()));
  }
  return static_cast<int>(timeout.count());
}

// Of the Admin options only the operation timeout differs between calls: the
// ones that change topics wait on the controller, which librdkafka only
// accepts for them (it rejects the option for the Configs calls).
AdminOptionsHandle admin_options(rd_kafka_t* client, rd_kafka_admin_op_t op, int timeout_ms,
                                 bool waits_for_controller, std::string_view what) {
  AdminOptionsHandle options(rd_kafka_AdminOptions_new(client, op));
  std::array<char, 512> err{};
  if (auto e = rd_kafka_AdminOptions_set_request_timeout(options.get(), timeout_ms, err.data(),
                                                         err.size())) {
    throw AdminError(e, fmt::format("{}: admin options: {}", what, err.data()));
  }
  if (waits_for_controller) {
    if (auto e = rd_kafka_AdminOptions_set_operation_timeout(options.get(), timeout_ms, err.data(),
                                                             err.size())) {
      throw AdminError(e, fmt::format("{}: admin options: {}", what, err.data()));
    }
  }
  return options;
}

// One Admin API round trip on a private queue: `start` issues the request with
// the options and queue it is given; the result event comes back, or AdminError
// when the request failed as a whole.
template <typename Start>
EventHandle run_admin(rd_kafka_t* client, rd_kafka_admin_op_t op, std::string_view what,
                      std::chrono::milliseconds timeout, bool waits_for_controller,
                      Start&& start) {
  const int timeout_ms = to_ms(timeout, what);
  auto options = admin_options(client, op, timeout_ms, waits_for_controller, what);
  // Destroying the queue early (when we give up) is safe: librdkafka keeps its
  // own reference until the request ends.
  QueueHandle queue(rd_kafka_queue_new(client));
  start(options.get(), queue.get());
  EventHandle event(
      rd_kafka_queue_poll(queue.get(), timeout_ms + static_cast<int>(kQueueMargin.count())));
  if (!event) {
    throw AdminError(RD_KAFKA_RESP_ERR__TIMED_OUT,
                     fmt::format("{}: no result within {} ms", what, timeout_ms));
  }
  if (auto e = rd_kafka_event_error(event.get())) {
    const char* message = rd_kafka_event_error_string(event.get());
    throw AdminError(e,
                     fmt::format("{} failed: {}", what, message ? message : rd_kafka_err2str(e)));
  }
  return event;
}

template <typename Result>
const Result* require_result(const Result* result, std::string_view what) {
  if (result == nullptr) {
    throw AdminError(RD_KAFKA_RESP_ERR__FAIL, fmt::format("{}: unexpected result event", what));
  }
  return result;
}

std::vector<TopicOutcome> topic_outcomes(const rd_kafka_topic_result_t* const* results,
                                         size_t count) {
  std::vector<TopicOutcome> outcomes;
  outcomes.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    const char* message = rd_kafka_topic_result_error_string(results[i]);
    outcomes.push_back({rd_kafka_topic_result_name(results[i]),
                        rd_kafka_topic_result_error(results[i]), message ? message : ""});
  }
  return outcomes;
}

std::vector<TopicOutcome> resource_outcomes(const rd_kafka_ConfigResource_t* const* resources,
                                            size_t count) {
  std::vector<TopicOutcome> outcomes;
  outcomes.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    const char* message = rd_kafka_ConfigResource_error_string(resources[i]);
    outcomes.push_back({rd_kafka_ConfigResource_name(resources[i]),
                        rd_kafka_ConfigResource_error(resources[i]), message ? message : ""});
  }
  return outcomes;
}

// Brokers and the cluster id, at a cost that does not grow with the cluster.
// A Metadata request that names no topic asks about every topic the client
// knows (each one it was asked about before, each one in its metadata cache),
// so it names one: ".", a name Kafka refuses to create (it fails topic name
// validation even where brokers auto-create topics), which costs one line in
// the answer.
MetadataHandle fetch_cluster_metadata(rd_kafka_t* client, int timeout_ms, std::string_view what) {
  TopicHandle probe(rd_kafka_topic_new(client, ".", nullptr));
  if (!probe) {
    throw AdminError(rd_kafka_last_error(),
                     fmt::format("{}: {}", what, rd_kafka_err2str(rd_kafka_last_error())));
  }
  const rd_kafka_metadata_t* raw = nullptr;
  const auto err = rd_kafka_metadata(client, 0, probe.get(), &raw, timeout_ms);
  MetadataHandle metadata(raw);
  if (err) throw AdminError(err, fmt::format("{}: metadata: {}", what, rd_kafka_err2str(err)));
  return metadata;
}

// nullopt when the broker does not know the topic; other per-topic errors
// (authorization, invalid name) leave nothing to describe and throw.
std::optional<TopicLayout> layout_of(const rd_kafka_metadata_topic_t& topic,
                                     std::string_view what) {
  if (topic.err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) return std::nullopt;
  if (topic.err) {
    throw AdminError(topic.err, fmt::format("{}: metadata for topic {}: {}", what, topic.topic,
                                            rd_kafka_err2str(topic.err)));
  }
  int replicas = 0;
  if (topic.partition_cnt > 0) {
    const rd_kafka_metadata_partition_t* begin = topic.partitions;
    const auto* end = begin + topic.partition_cnt;
    const auto* zero = std::find_if(
        begin, end, [](const rd_kafka_metadata_partition_t& p) { return p.id == 0; });
    replicas = (zero != end ? *zero : *begin).replica_cnt;
  }
  return TopicLayout{topic.topic, topic.partition_cnt, replicas};
}

// The layout of one topic from a Metadata request that names that topic only:
// what it costs does not grow with the number of topics in the cluster (a
// request for several topics at once needs librdkafka >= 2.3's DescribeTopics).
// Whether such a request creates a missing topic on a broker that allows it is
// up to the client's allow.auto.create.topics: describe_topics() asks only
// about topics DescribeConfigs just found.
std::optional<TopicLayout> layout_of_one(rd_kafka_t* client, const std::string& name, int timeout_ms,
                                         std::string_view what) {
  TopicHandle topic(rd_kafka_topic_new(client, name.c_str(), nullptr));
  if (!topic) {
    throw AdminError(rd_kafka_last_error(), fmt::format("{}: topic {}: {}", what, name,
                                                        rd_kafka_err2str(rd_kafka_last_error())));
  }
  const rd_kafka_metadata_t* raw = nullptr;
  const auto err = rd_kafka_metadata(client, 0, topic.get(), &raw, timeout_ms);
  MetadataHandle metadata(raw);
  if (err) throw AdminError(err, fmt::format("{}: metadata: {}", what, rd_kafka_err2str(err)));
  for (int i = 0; i < metadata->topic_cnt; ++i) {
    if (name == metadata->topics[i].topic) return layout_of(metadata->topics[i], what);
  }
  return std::nullopt;
}

std::optional<std::int64_t> parse_int64(const std::string& text) {
  std::int64_t value = 0;
  const auto* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc{} || ptr != end) return std::nullopt;
  return value;
}

int remaining_ms(Clock::time_point deadline, std::string_view what) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  if (left.count() <= 0) {
    throw AdminError(RD_KAFKA_RESP_ERR__TIMED_OUT, fmt::format("{}: out of time", what));
  }
  return static_cast<int>(left.count());
}

}  // namespace

std::vector<TopicOutcome> create_topics(rd_kafka_t* client, const std::vector<NewTopic>& topics,
                                        std::chrono::milliseconds timeout) {
  if (topics.empty()) return {};
  constexpr std::string_view what = "CreateTopics";
  std::array<char, 512> err{};
  std::vector<NewTopicHandle> owned;
  std::vector<rd_kafka_NewTopic_t*> raw;
  for (const auto& t : topics) {
    NewTopicHandle nt(rd_kafka_NewTopic_new(t.name.c_str(), t.partitions, t.replication_factor,
                                            err.data(), err.size()));
    if (!nt) {
      throw AdminError(RD_KAFKA_RESP_ERR__INVALID_ARG,
                       fmt::format("{}: topic {}: {}", what, t.name, err.data()));
    }
    for (const auto& [key, value] : t.config) {
      if (auto e = rd_kafka_NewTopic_set_config(nt.get(), key.c_str(), value.c_str())) {
        throw AdminError(e, fmt::format("{}: topic {} config {}: {}", what, t.name, key,
                                        rd_kafka_err2str(e)));
      }
    }
    raw.push_back(nt.get());
    owned.push_back(std::move(nt));
  }

  const auto event = run_admin(client, RD_KAFKA_ADMIN_OP_CREATETOPICS, what, timeout, true,
                               [&](rd_kafka_AdminOptions_t* options, rd_kafka_queue_t* queue) {
                                 rd_kafka_CreateTopics(client, raw.data(), raw.size(), options,
                                                       queue);
                               });
  const auto* result = require_result(rd_kafka_event_CreateTopics_result(event.get()), what);
  size_t count = 0;
  const auto* results = rd_kafka_CreateTopics_result_topics(result, &count);
  return topic_outcomes(results, count);
}

std::optional<TopicLayout> describe_topic_layout(rd_kafka_t* client, const std::string& topic,
                                                 std::chrono::milliseconds timeout) {
  constexpr std::string_view what = "describe topic layout";
  return layout_of_one(client, topic, to_ms(timeout, what), what);
}

std::map<std::string, DescribedTopic> describe_topics(rd_kafka_t* client,
                                                      const std::vector<std::string>& names,
                                                      std::chrono::milliseconds timeout) {
  std::map<std::string, DescribedTopic> described;
  if (names.empty()) return described;
  constexpr std::string_view what = "describe topics";
  // All requests share the caller's budget, so an unreachable cluster costs
  // one timeout, not one per request.
  const auto deadline = Clock::now() + timeout;
  // DescribeConfigs first: it says which of the topics exist (and an Admin
  // request never creates one); metadata is then asked for those only.
  for (const auto& name : names) described.try_emplace(name, DescribedTopic{name, 0, 0, {}});
  if (described.empty()) return described;

  constexpr std::string_view describe_configs = "DescribeConfigs";
  std::vector<ConfigResourceHandle> owned;
  std::vector<rd_kafka_ConfigResource_t*> raw;
  for (const auto& [name, topic] : described) {
    owned.emplace_back(rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, name.c_str()));
    raw.push_back(owned.back().get());
  }
  const auto event = run_admin(
      client, RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS, describe_configs,
      std::chrono::milliseconds(remaining_ms(deadline, what)), false,
      [&](rd_kafka_AdminOptions_t* options, rd_kafka_queue_t* queue) {
        rd_kafka_DescribeConfigs(client, raw.data(), raw.size(), options, queue);
      });
  const auto* result =
      require_result(rd_kafka_event_DescribeConfigs_result(event.get()), describe_configs);
  size_t count = 0;
  const auto* resources = rd_kafka_DescribeConfigs_result_resources(result, &count);
  std::set<std::string> configured;
  for (size_t i = 0; i < count; ++i) {
    const std::string name = rd_kafka_ConfigResource_name(resources[i]);
    const auto it = described.find(name);
    if (it == described.end()) continue;
    const auto err = rd_kafka_ConfigResource_error(resources[i]);
    if (err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
      described.erase(it);
      continue;
    }
    configured.insert(name);
    // Reporting no overrides here would make the caller "restore" a config it
    // never saw, so a topic whose config cannot be read fails the call.
    if (err) {
      const char* message = rd_kafka_ConfigResource_error_string(resources[i]);
      throw AdminError(err, fmt::format("{}: topic {}: {}", describe_configs, name,
                                        message ? message : rd_kafka_err2str(err)));
    }
    size_t entry_count = 0;
    const auto* entries = rd_kafka_ConfigResource_configs(resources[i], &entry_count);
    for (size_t j = 0; j < entry_count; ++j) {
      // A sensitive value comes back as null; no topic config is one today.
      const char* raw_value = rd_kafka_ConfigEntry_value(entries[j]);
      const std::string_view entry = rd_kafka_ConfigEntry_name(entries[j]);
      const std::string value = raw_value ? raw_value : "";
      if (entry == "max.message.bytes") it->second.max_message_bytes = parse_int64(value);
      if (entry == "cleanup.policy") it->second.compacted = value.find("compact") != std::string::npos;
      if (rd_kafka_ConfigEntry_source(entries[j]) != RD_KAFKA_CONFIG_SOURCE_DYNAMIC_TOPIC_CONFIG) {
        continue;
      }
      it->second.dynamic_config[std::string(entry)] = value;
    }
  }
  // DescribeConfigs answers every resource it was asked about; one it left
  // out was not described.
  std::erase_if(described, [&](const auto& item) { return !configured.contains(item.first); });
  for (auto it = described.begin(); it != described.end();) {
    const auto layout = layout_of_one(client, it->first, remaining_ms(deadline, what), what);
    if (!layout) {  // deleted since DescribeConfigs
      it = described.erase(it);
      continue;
    }
    it->second.partitions = layout->partitions;
    it->second.replication_factor = layout->replication_factor;
    ++it;
  }
  return described;
}

std::vector<TopicOutcome> create_partitions(rd_kafka_t* client,
                                            const std::vector<std::pair<std::string, int>>& totals,
                                            std::chrono::milliseconds timeout) {
  if (totals.empty()) return {};
  constexpr std::string_view what = "CreatePartitions";
  std::array<char, 512> err{};
  std::vector<NewPartitionsHandle> owned;
  std::vector<rd_kafka_NewPartitions_t*> raw;
  for (const auto& [name, total] : totals) {
    // librdkafka takes a size_t; a negative count would wrap to a huge one.
    if (total < 1) {
      throw AdminError(RD_KAFKA_RESP_ERR__INVALID_ARG,
                       fmt::format("{}: topic {}: {} partitions", what, name, total));
    }
    NewPartitionsHandle np(rd_kafka_NewPartitions_new(name.c_str(), static_cast<size_t>(total),
                                                      err.data(), err.size()));
    if (!np) {
      throw AdminError(RD_KAFKA_RESP_ERR__INVALID_ARG,
                       fmt::format("{}: topic {}: {}", what, name, err.data()));
    }
    raw.push_back(np.get());
    owned.push_back(std::move(np));
  }
  const auto event = run_admin(client, RD_KAFKA_ADMIN_OP_CREATEPARTITIONS, what, timeout, true,
                               [&](rd_kafka_AdminOptions_t* options, rd_kafka_queue_t* queue) {
                                 rd_kafka_CreatePartitions(client, raw.data(), raw.size(), options,
                                                           queue);
                               });
  const auto* result = require_result(rd_kafka_event_CreatePartitions_result(event.get()), what);
  size_t count = 0;
  const auto* results = rd_kafka_CreatePartitions_result_topics(result, &count);
  return topic_outcomes(results, count);
}

std::vector<TopicOutcome> alter_topic_configs(
    rd_kafka_t* client,
    const std::vector<std::pair<std::string, std::map<std::string, std::string>>>& configs,
    std::chrono::milliseconds timeout) {
  if (configs.empty()) return {};
  constexpr std::string_view what = "AlterConfigs";
  std::vector<ConfigResourceHandle> owned;
  std::vector<rd_kafka_ConfigResource_t*> raw;
  for (const auto& [name, config] : configs) {
    ConfigResourceHandle resource(
        rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, name.c_str()));
    for (const auto& [key, value] : config) {
      if (auto e = rd_kafka_ConfigResource_set_config(resource.get(), key.c_str(), value.c_str())) {
        throw AdminError(e, fmt::format("{}: topic {} config {}: {}", what, name, key,
                                        rd_kafka_err2str(e)));
      }
    }
    raw.push_back(resource.get());
    owned.push_back(std::move(resource));
  }
  const auto event = run_admin(client, RD_KAFKA_ADMIN_OP_ALTERCONFIGS, what, timeout, false,
                               [&](rd_kafka_AdminOptions_t* options, rd_kafka_queue_t* queue) {
                                 rd_kafka_AlterConfigs(client, raw.data(), raw.size(), options,
                                                       queue);
                               });
  const auto* result = require_result(rd_kafka_event_AlterConfigs_result(event.get()), what);
  size_t count = 0;
  const auto* resources = rd_kafka_AlterConfigs_result_resources(result, &count);
  return resource_outcomes(resources, count);
}

std::vector<TopicOutcome> delete_topics(rd_kafka_t* client, const std::vector<std::string>& names,
                                        std::chrono::milliseconds timeout) {
  if (names.empty()) return {};
  constexpr std::string_view what = "DeleteTopics";
  std::vector<DeleteTopicHandle> owned;
  std::vector<rd_kafka_DeleteTopic_t*> raw;
  for (const auto& name : names) {
    owned.emplace_back(rd_kafka_DeleteTopic_new(name.c_str()));
    raw.push_back(owned.back().get());
  }
  const auto event = run_admin(client, RD_KAFKA_ADMIN_OP_DELETETOPICS, what, timeout, true,
                               [&](rd_kafka_AdminOptions_t* options, rd_kafka_queue_t* queue) {
                                 rd_kafka_DeleteTopics(client, raw.data(), raw.size(), options,
                                                       queue);
                               });
  const auto* result = require_result(rd_kafka_event_DeleteTopics_result(event.get()), what);
  size_t count = 0;
  const auto* results = rd_kafka_DeleteTopics_result_topics(result, &count);
  auto outcomes = topic_outcomes(results, count);
  for (auto& outcome : outcomes) {
    if (outcome.error == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
      outcome.error = RD_KAFKA_RESP_ERR_NO_ERROR;
      outcome.message.clear();
    }
  }
  return outcomes;
}

std::string cluster_id(rd_kafka_t* client, std::chrono::milliseconds timeout) {
  constexpr std::string_view what = "cluster id";
  // rd_kafka_clusterid alone cannot tell "no broker answered" from "the
  // broker reports none"; a metadata request first says which, and leaves the
  // id cached for the non-blocking read after it.
  (void)fetch_cluster_metadata(client, to_ms(timeout, what), what);
  KafkaStringHandle id(rd_kafka_clusterid(client, 0), KafkaMemDeleter{client});
  return id ? std::string(id.get()) : std::string();
}

}  // namespace outflow::kafka
