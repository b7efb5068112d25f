#include "agent/replayer/client_properties.h"

#include "common/kafka/producer_settings.h"

namespace outflow::agent::replayer {

std::vector<kafka::Property> consumer_properties(const ReplayerSettings& settings) {
  auto properties = kafka::client_properties(settings.kafka);
  const std::vector<kafka::Property> extra = {
      {"group.id", settings.group_id},
      // Offsets are committed by hand, only past acknowledged messages.
      {"enable.auto.commit", "false"},
      {"enable.auto.offset.store", "false"},
      // A new group must start at the oldest dead letter, not skip the
      // ones sent before the agent first ran.
      {"auto.offset.reset", "earliest"},
      {"enable.partition.eof", "false"},
      // Round-robin over all subscribed partitions: with the default range
      // assignor each single-partition tier would go to the same replica.
      // Eager, which is what the adapter's rd_kafka_assign expects.
      {"partition.assignment.strategy", "roundrobin"},
      {"session.timeout.ms", std::to_string(settings.session_timeout.count())},
      {"topic.metadata.refresh.interval.ms", std::to_string(settings.metadata_refresh.count())},
      // librdkafka keeps one fetch per broker in flight, and a partition
      // resumed while it long-polls joins only the next one: this bounds how
      // late the message after a due head is seen (measured: the default
      // 500 ms made every republish ~400 ms late).
      {"fetch.wait.max.ms", std::to_string(settings.fetch_wait.count())},
      // Topics are the operator's: a subscription to a tier that is missing
      // (deleted, or not created yet) must not create it with the broker's
      // defaults.
      {"allow.auto.create.topics", "false"},
  };
  properties.insert(properties.end(), extra.begin(), extra.end());
  if (!settings.instance_id.empty()) {
    // Static membership: a replica restarted under the same id (a container
    // restart keeps the pod name) takes its old member's place and
    // partitions at once, without a rebalance or waiting for the dead
    // member's session to expire.
    properties.push_back({"group.instance.id", settings.instance_id});
  }
  return properties;
}

std::vector<kafka::Property> producer_properties(const ReplayerSettings& settings) {
  auto properties = kafka::producer_properties(settings.kafka);
  // A produce to a missing topic must fail (and park or retry), never
  // create the topic with the broker's defaults.
  properties.push_back({"allow.auto.create.topics", "false"});
  return properties;
}

}  // namespace outflow::agent::replayer
