#pragma once

// The EventPipeline spec as typed C++, parsed from the resource's JSON. The
// operator reconciles from it and renders the agent's config from it; the agent
// reads that config back through the same parser, so the two cannot disagree.

#include "common/kafka/client_config.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace outflow::pipeline {

// Every problem found in one spec, each naming its field
// ("spec.topics[1].partitions: must be at least 1").
class SpecError : public std::runtime_error {
 public:
  explicit SpecError(std::vector<std::string> problems);
  const std::vector<std::string>& problems() const { return problems_; }

 private:
  std::vector<std::string> problems_;
};

struct SecretKeyRef {
  std::string name;
  std::string key;
  bool operator==(const SecretKeyRef&) const = default;
};

struct TlsSpec {
  bool enabled = true;
  std::optional<SecretKeyRef> ca;                // key defaults to ca.crt
  std::optional<std::string> client_cert_secret;  // kubernetes.io/tls: tls.crt + tls.key
  bool operator==(const TlsSpec&) const = default;
};

struct SaslSpec {
  kafka::SaslMechanism mechanism = kafka::SaslMechanism::ScramSha512;
  std::string secret_name;
  std::string username_key = "username";
  std::string password_key = "password";
  bool operator==(const SaslSpec&) const = default;
};

struct KafkaSpec {
  std::vector<std::string> bootstrap_servers;
  std::optional<TlsSpec> tls;  // absent or enabled=false: plaintext
  std::optional<SaslSpec> sasl;
  int connect_timeout_ms = 10000;
  int request_timeout_ms = 30000;
  bool operator==(const KafkaSpec&) const = default;
};

struct TopicSpec {
  std::string name;
  int partitions = 1;
  int replication_factor = 1;
  std::map<std::string, std::string> config;
  bool operator==(const TopicSpec&) const = default;
};

struct BackoffSpec {
  std::int64_t initial_ms = 1000;
  int multiplier = 2;
  std::int64_t max_ms = 600000;
  bool operator==(const BackoffSpec&) const = default;
};

struct DeadLetterSpec {
  std::string topic;
  int max_attempts = 5;
  BackoffSpec backoff;
  int partitions = 1;
  int replication_factor = 1;
  std::map<std::string, std::string> config;
  bool operator==(const DeadLetterSpec&) const = default;
};

struct OutboxColumns {
  std::string id = "id";
  std::string event_id = "event_id";
  std::string topic = "topic";
  std::string key = "key";
  std::string payload = "payload";
  std::string headers = "headers";
  std::string created_at = "created_at";
  std::string published_at = "published_at";
  std::string attempts = "attempts";
  std::string last_error = "last_error";
  bool operator==(const OutboxColumns&) const = default;
};

struct OutboxSpec {
  SecretKeyRef database{"", "url"};
  std::string table = "outbox";
  OutboxColumns columns;
  std::string default_topic;
  int batch_size = 500;
  int poll_interval_ms = 1000;
  bool delete_after_publish = false;
  std::int64_t published_retention_ms = 604800000;
  bool operator==(const OutboxSpec&) const = default;
};

struct BreakerSpec {
  int failure_rate_threshold = 50;  // percent
  int minimum_calls = 20;
  int window_size = 100;
  std::int64_t open_duration_ms = 30000;
  int half_open_calls = 5;
  bool operator==(const BreakerSpec&) const = default;
};

struct AgentSpec {
  int replicas = 2;
  std::string image;              // empty: the operator's default agent image
  std::string image_pull_policy;  // empty: Kubernetes' default
  nlohmann::json resources = nlohmann::json::object();
  std::map<std::string, std::string> node_selector;
  nlohmann::json tolerations = nlohmann::json::array();
  nlohmann::json affinity = nlohmann::json::object();
  std::string priority_class_name;
  std::map<std::string, std::string> pod_annotations;
  bool operator==(const AgentSpec&) const = default;
};

struct AlertRule {
  std::string alert;
  std::string expr;
  std::string for_duration;  // Prometheus duration, empty: fire at once
  std::string severity = "warning";
  std::string summary;
  std::string description;
  std::map<std::string, std::string> labels;
  bool operator==(const AlertRule&) const = default;
};

struct AlertsSpec {
  bool defaults = true;
  std::map<std::string, std::string> labels;
  std::vector<AlertRule> rules;
  bool operator==(const AlertsSpec&) const = default;
};

enum class TopicDeletionPolicy { Retain, Delete };

struct PipelineSpec {
  KafkaSpec kafka;
  std::vector<TopicSpec> topics;
  std::optional<DeadLetterSpec> dead_letter;
  OutboxSpec outbox;
  BreakerSpec circuit_breaker;
  AgentSpec agent;
  AlertsSpec alerts;
  TopicDeletionPolicy topic_deletion_policy = TopicDeletionPolicy::Retain;
  bool paused = false;
  bool operator==(const PipelineSpec&) const = default;
};

// Parses `.spec` of an EventPipeline (or the agent config's copy of it),
// applying the CRD's defaults and re-checking its rules: objects stored before
// a CRD upgrade, or a hand-written agent config, never reached CEL.
// Throws SpecError listing every problem.
PipelineSpec parse_spec(const nlohmann::json& spec);

// The sections of an AgentConfig (agent/config/agent_config.h) that share the
// EventPipeline's schema: kafka, topics, deadLetter, outbox, circuitBreaker,
// by the same rules, with three differences for a file written by hand or
// rendered by the operator: an unknown field is a problem (a typo must not
// silently mean a default), Secrets are files or environment variables that
// agent/config reads (so no *SecretRef here), and a topic may leave out
// partitions and replicationFactor (0: not stated). Other top-level fields
// of `root` are not looked at. Problems name fields from the root
// ("kafka.bootstrapServers[0]: must be host:port"). Throws SpecError.
PipelineSpec parse_agent_config_sections(const nlohmann::json& root);

// The inverse of parse_spec, with every default spelled out.
nlohmann::json to_json(const PipelineSpec& spec);

}  // namespace outflow::pipeline
