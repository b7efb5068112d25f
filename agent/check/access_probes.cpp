#include "agent/check/access_probes.h"

#include "common/kafka/admin.h"
#include "common/kafka/handles.h"

#include <fmt/format.h>
#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <memory>
#include <thread>
#include <unistd.h>

namespace outflow::agent::check {

namespace {

using Clock = std::chrono::steady_clock;

// The probes' refusals are their answers, reported in the checklist; the
// same refusals as librdkafka log lines would only add noise to it.
void quiet(const rd_kafka_t* /*client*/, int /*level*/, const char* /*facility*/, const char* /*line*/) {}

kafka::ClientHandle probe_client(rd_kafka_type_t type, std::vector<kafka::Property> properties,
                                 void (*on_delivery)(rd_kafka_t*, const rd_kafka_message_t*, void*) = nullptr) {
  properties.push_back({"allow.auto.create.topics", "false", false});
  auto conf = kafka::make_conf(properties);
  rd_kafka_conf_set_log_cb(conf.get(), &quiet);
  if (on_delivery) rd_kafka_conf_set_dr_msg_cb(conf.get(), on_delivery);
  return kafka::make_client(type, std::move(conf));
}

std::string certificate_subject(const kafka::TlsSettings& tls) {
  std::unique_ptr<BIO, decltype(&BIO_free)> in(
      tls.cert_pem.empty() ? BIO_new_file(tls.cert_file.c_str(), "r")
                           : BIO_new_mem_buf(tls.cert_pem.data(), static_cast<int>(tls.cert_pem.size())),
      &BIO_free);
  if (!in) return {};
  std::unique_ptr<X509, decltype(&X509_free)> cert(PEM_read_bio_X509(in.get(), nullptr, nullptr, nullptr), &X509_free);
  if (!cert) return {};
  std::unique_ptr<BIO, decltype(&BIO_free)> out(BIO_new(BIO_s_mem()), &BIO_free);
  if (!out || X509_NAME_print_ex(out.get(), X509_get_subject_name(cert.get()), 0, XN_FLAG_RFC2253) < 0) return {};
  char* data = nullptr;
  const auto size = BIO_get_mem_data(out.get(), &data);
  return size > 0 ? std::string(data, static_cast<std::size_t>(size)) : std::string();
}

int ms_left(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left > 0 ? static_cast<int>(left) : 0;
}

Probed from_error(rd_kafka_resp_err_t err, rd_kafka_resp_err_t allowed) {
  if (err == allowed || err == RD_KAFKA_RESP_ERR_NO_ERROR) return {Access::Allowed, {}};
  if (err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED) return {Access::Denied, {}};
  return {Access::Unknown, rd_kafka_err2str(err)};
}

}  // namespace

std::string principal_of(const kafka::ConnectionSettings& settings) {
  if (settings.sasl) return "User:" + settings.sasl->username;
  if (settings.tls && (!settings.tls->cert_file.empty() || !settings.tls->cert_pem.empty())) {
    const auto subject = certificate_subject(*settings.tls);
    return "User:" + (subject.empty() ? std::string("<the client certificate's subject>") : subject);
  }
  return "User:ANONYMOUS";
}

namespace {

enum class Found { Exists, Hidden, Unknown };

// One metadata request for one topic.
Found look_up_topic(rd_kafka_t* client, const std::string& name, Clock::time_point deadline, TopicLookup& out) {
  kafka::TopicHandle topic(rd_kafka_topic_new(client, name.c_str(), nullptr));
  if (!topic) {
    throw kafka::AdminError(rd_kafka_last_error(),
                            fmt::format("topic {}: {}", name, rd_kafka_err2str(rd_kafka_last_error())));
  }
  const rd_kafka_metadata_t* raw = nullptr;
  const auto err = rd_kafka_metadata(client, 0, topic.get(), &raw, std::max(1, ms_left(deadline)));
  kafka::MetadataHandle metadata(raw);
  if (err) throw kafka::AdminError(err, fmt::format("metadata: {}", rd_kafka_err2str(err)));
  for (int i = 0; i < metadata->topic_cnt; ++i) {
    const auto& t = metadata->topics[i];
    if (name != t.topic) continue;
    if (t.err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED) {
      out.hidden.insert(name);
      return Found::Hidden;
    }
    if (t.err == RD_KAFKA_RESP_ERR_NO_ERROR || t.partition_cnt > 0) {
      out.partitions[name] = t.partition_cnt;
      return Found::Exists;
    }
    if (t.err != RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
      throw kafka::AdminError(t.err, fmt::format("metadata of {}: {}", name, rd_kafka_err2str(t.err)));
    }
  }
  return Found::Unknown;
}

}  // namespace

TopicLookup look_up_topics(rd_kafka_t* client, const std::vector<std::string>& names,
                           std::chrono::milliseconds timeout) {
  TopicLookup out;
  const auto deadline = Clock::now() + timeout;
  // A topic created a moment ago may not be in the broker's metadata yet (it
  // trails the controller's commit): one unknown is asked about again, up
  // to three times in all, as the operator does before calling it Pending.
  constexpr int kLookups = 3;
  constexpr auto kPause = std::chrono::milliseconds(500);
  for (const auto& name : names) {
    for (int lookup = 1; look_up_topic(client, name, deadline, out) == Found::Unknown && lookup < kLookups; ++lookup) {
      if (ms_left(deadline) <= kPause.count()) break;
      std::this_thread::sleep_for(kPause);
    }
  }
  return out;
}

std::map<std::string, Probed> probe_describe_configs(rd_kafka_t* client, const std::vector<std::string>& names,
                                                     std::chrono::milliseconds timeout) {
  std::map<std::string, Probed> out;
  if (names.empty()) return out;
  std::vector<kafka::ConfigResourceHandle> owned;
  std::vector<rd_kafka_ConfigResource_t*> raw;
  for (const auto& name : names) {
    owned.emplace_back(rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, name.c_str()));
    raw.push_back(owned.back().get());
    out[name] = {Access::Unknown, "no answer in time"};
  }
  kafka::QueueHandle queue(rd_kafka_queue_new(client));
  kafka::AdminOptionsHandle options(rd_kafka_AdminOptions_new(client, RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS));
  std::array<char, 256> error{};
  rd_kafka_AdminOptions_set_request_timeout(options.get(), static_cast<int>(timeout.count()), error.data(),
                                            error.size());
  rd_kafka_DescribeConfigs(client, raw.data(), raw.size(), options.get(), queue.get());
  kafka::EventHandle event(rd_kafka_queue_poll(queue.get(), static_cast<int>(timeout.count()) + 1000));
  if (!event) return out;
  if (const auto err = rd_kafka_event_error(event.get())) {
    for (auto& [name, probed] : out) probed.reason = rd_kafka_event_error_string(event.get());
    (void)err;
    return out;
  }
  size_t count = 0;
  const auto* resources =
      rd_kafka_DescribeConfigs_result_resources(rd_kafka_event_DescribeConfigs_result(event.get()), &count);
  for (size_t i = 0; i < count; ++i) {
    const std::string name = rd_kafka_ConfigResource_name(resources[i]);
    if (out.contains(name)) out[name] = from_error(rd_kafka_ConfigResource_error(resources[i]), RD_KAFKA_RESP_ERR_NO_ERROR);
  }
  return out;
}

namespace {

struct WriteProbe {
  std::map<std::string, Probed>* results;
  std::string topic;
};

void on_write_probe(rd_kafka_t* /*client*/, const rd_kafka_message_t* message, void* /*opaque*/) {
  auto* probe = static_cast<WriteProbe*>(message->_private);
  // INVALID_REQUIRED_ACKS: WRITE allowed, the request refused before the
  // append. (NO_ERROR would be a broker that took acks=2; it did write then.)
  (*probe->results)[probe->topic] = from_error(message->err, RD_KAFKA_RESP_ERR_INVALID_REQUIRED_ACKS);
}

}  // namespace

std::map<std::string, Probed> probe_write(const kafka::ConnectionSettings& settings,
                                          const std::vector<std::string>& names, std::chrono::milliseconds timeout) {
  std::map<std::string, Probed> out;
  if (names.empty()) return out;
  auto properties = kafka::client_properties(settings);
  // acks=2 is what makes the probe write nothing (see the header); the
  // idempotent producer would insist on acks=all, a retry would only repeat
  // the refusal.
  properties.insert(properties.end(), {{"enable.idempotence", "false", false},
                                       {"acks", "2", false},
                                       {"retries", "0", false},
                                       {"linger.ms", "0", false},
                                       {"message.timeout.ms", std::to_string(std::max<std::int64_t>(1, timeout.count())), false}});
  auto producer = probe_client(RD_KAFKA_PRODUCER, std::move(properties), &on_write_probe);
  std::vector<std::unique_ptr<WriteProbe>> probes;
  for (const auto& name : names) {
    out[name] = {Access::Unknown, "no answer in time"};
    probes.push_back(std::make_unique<WriteProbe>(WriteProbe{&out, name}));
    static constexpr char kProbe[] = "outflow-agent check";
    const auto err = rd_kafka_producev(producer.get(), RD_KAFKA_V_TOPIC(name.c_str()), RD_KAFKA_V_PARTITION(0),
                                       RD_KAFKA_V_VALUE(const_cast<char*>(kProbe), sizeof kProbe - 1),
                                       RD_KAFKA_V_OPAQUE(probes.back().get()), RD_KAFKA_V_END);
    if (err) out[name] = {Access::Unknown, rd_kafka_err2str(err)};
  }
  rd_kafka_flush(producer.get(), static_cast<int>(timeout.count()) + 1000);
  // Anything still queued must not go out later: purge before the handle is destroyed.
  rd_kafka_purge(producer.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
  rd_kafka_poll(producer.get(), 0);
  return out;
}

std::map<std::string, Probed> probe_read(const kafka::ConnectionSettings& settings,
                                         const std::vector<std::string>& names, std::chrono::milliseconds timeout) {
  std::map<std::string, Probed> out;
  if (names.empty()) return out;
  auto properties = kafka::client_properties(settings);
  // librdkafka 2.0 refuses assign() without a group.id; this one is never
  // joined and nothing is committed to it.
  properties.insert(properties.end(),
                    {{"group.id", fmt::format("outflow-check-{}-{}", ::getpid(), Clock::now().time_since_epoch().count()),
                      false},
                     {"enable.auto.commit", "false", false},
                     {"enable.auto.offset.store", "false", false},
                     {"enable.partition.eof", "true", false},
                     {"auto.offset.reset", "latest", false}});
  auto consumer = probe_client(RD_KAFKA_CONSUMER, std::move(properties));
  kafka::PartitionListHandle partitions(rd_kafka_topic_partition_list_new(static_cast<int>(names.size())));
  for (const auto& name : names) {
    rd_kafka_topic_partition_list_add(partitions.get(), name.c_str(), 0)->offset = RD_KAFKA_OFFSET_END;
    out[name] = {Access::Unknown, "no answer in time"};
  }
  if (const auto err = rd_kafka_assign(consumer.get(), partitions.get())) {
    for (auto& [name, probed] : out) probed.reason = rd_kafka_err2str(err);
    return out;
  }
  std::set<std::string> open(names.begin(), names.end());
  const auto deadline = Clock::now() + timeout;
  while (!open.empty() && ms_left(deadline) > 0) {
    kafka::MessageHandle message(rd_kafka_consumer_poll(consumer.get(), std::min(200, ms_left(deadline))));
    if (!message || !message->rkt) continue;  // group-level errors: this probe uses no group
    const std::string name = rd_kafka_topic_name(message->rkt);
    if (!open.contains(name)) continue;
    // A message or the end of the partition: the Fetch was allowed.
    const auto probed = from_error(message->err, RD_KAFKA_RESP_ERR__PARTITION_EOF);
    out[name] = probed;
    if (probed.access != Access::Unknown) open.erase(name);
  }
  rd_kafka_assign(consumer.get(), nullptr);
  return out;
}

}  // namespace outflow::agent::check
