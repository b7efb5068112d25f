#include "topic_checker.h"

#include "common/kafka/admin.h"
#include "common/kafka/client_config.h"
#include "common/kafka/handles.h"
#include "agent/outbox_fixture.h"
#include "testenv.h"

#include <stdexcept>

namespace outflow::bench {

namespace {

constexpr const char* kEventIdHeader = "outflow-event-id";

kafka::ClientHandle admin_client() {
  return kafka::make_client(RD_KAFKA_PRODUCER, kafka::make_conf(kafka::client_properties(testenv::plaintext_kafka())));
}

}  // namespace

BenchTopic::BenchTopic(int partitions) : name_(testenv::unique_name("peers")), partitions_(partitions) {
  const auto admin = admin_client();
  // The broker stamps each message with the time it appended it: the end of
  // the commit -> Kafka latency, the same clock for every relay.
  const auto outcomes = kafka::create_topics(
      admin.get(), {{name_, partitions, 1, {{"message.timestamp.type", "LogAppendTime"}}}}, std::chrono::seconds(30));
  if (outcomes.size() != 1 || !outcomes[0].ok()) {
    throw std::runtime_error("cannot create topic " + name_ + ": " + (outcomes.empty() ? "" : outcomes[0].message));
  }
}

BenchTopic::~BenchTopic() {
  try {
    const auto admin = admin_client();
    kafka::delete_topics(admin.get(), {name_}, std::chrono::seconds(30));
  } catch (...) {
  }
}

TopicChecker::TopicChecker(const BenchTopic& topic, std::size_t expected)
    : tally_(expected), thread_([this, name = topic.name(), partitions = topic.partitions()] { run(name, partitions); }) {}

TopicChecker::~TopicChecker() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

void TopicChecker::inspect(const std::function<void(const DeliveryTally&)>& read) const {
  std::lock_guard lock(mutex_);
  read(tally_);
}

std::size_t TopicChecker::delivered() const {
  std::lock_guard lock(mutex_);
  return tally_.delivered();
}

std::size_t TopicChecker::warm_up() const {
  std::lock_guard lock(mutex_);
  return tally_.warm_up();
}

void TopicChecker::run(std::string topic, int partitions) {
  auto props = kafka::client_properties(testenv::plaintext_kafka());
  props.push_back({"group.id", testenv::unique_name("peers-checker")});
  props.push_back({"enable.auto.commit", "false"});
  props.push_back({"fetch.wait.max.ms", "10"});
  auto consumer = kafka::make_client(RD_KAFKA_CONSUMER, kafka::make_conf(props));
  kafka::PartitionListHandle assignment(rd_kafka_topic_partition_list_new(partitions));
  for (int p = 0; p < partitions; ++p) {
    rd_kafka_topic_partition_list_add(assignment.get(), topic.c_str(), p)->offset = RD_KAFKA_OFFSET_BEGINNING;
  }
  rd_kafka_assign(consumer.get(), assignment.get());
  while (!stop_.load()) {
    kafka::MessageHandle message(rd_kafka_consumer_poll(consumer.get(), 50));
    if (!message || message->err != RD_KAFKA_RESP_ERR_NO_ERROR) continue;
    const auto append_ms = rd_kafka_message_timestamp(message.get(), nullptr);
    std::optional<std::string_view> event_id;
    rd_kafka_headers_t* headers = nullptr;  // owned by the message
    const void* value = nullptr;
    std::size_t size = 0;
    if (rd_kafka_message_headers(message.get(), &headers) == RD_KAFKA_RESP_ERR_NO_ERROR &&
        rd_kafka_header_get_last(headers, kEventIdHeader, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR &&
        value != nullptr) {
      event_id = std::string_view(static_cast<const char*>(value), size);
    }
    std::lock_guard lock(mutex_);
    tally_.record(event_id, append_ms);
  }
  rd_kafka_consumer_close(consumer.get());
}

}  // namespace outflow::bench
