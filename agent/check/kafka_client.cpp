#include "agent/check/kafka_client.h"

#include <fmt/format.h>

namespace outflow::agent::check {

void KafkaClient::on_error(rd_kafka_t* /*client*/, int /*code*/, const char* reason, void* opaque) {
  auto* errors = static_cast<Errors*>(opaque);
  std::lock_guard lock(errors->mutex);
  if (errors->first.empty()) errors->first = reason;
}

KafkaClient::KafkaClient(const kafka::ConnectionSettings& settings) : errors_(std::make_unique<Errors>()) {
  auto properties = kafka::client_properties(settings);
  // A command, not a service: give up on a dead broker quickly, and never
  // create a topic by asking for its metadata.
  properties.push_back({"allow.auto.create.topics", "false", false});
  properties.push_back({"reconnect.backoff.max.ms", "1000", false});
  auto conf = kafka::make_conf(properties);
  rd_kafka_conf_set_error_cb(conf.get(), &KafkaClient::on_error);
  rd_kafka_conf_set_opaque(conf.get(), errors_.get());
  client_ = kafka::make_client(RD_KAFKA_PRODUCER, std::move(conf));
}

std::string KafkaClient::first_error() {
  rd_kafka_poll(client_.get(), 0);  // runs the error callbacks queued so far
  std::lock_guard lock(errors_->mutex);
  return errors_->first;
}

std::string KafkaClient::explain(const std::string& what) {
  const auto reason = first_error();
  return reason.empty() ? what : fmt::format("{}: {}", what, reason);
}

}  // namespace outflow::agent::check
