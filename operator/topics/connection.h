#pragma once

// How the operator reaches a pipeline's Kafka cluster: spec.kafka plus the
// referenced Secrets' contents, kept in memory (the operator's root filesystem
// is read-only, and key material has no business on a disk).

#include "common/kafka/client_config.h"
#include "common/pipeline/spec.h"
#include "operator/secrets/references.h"

#include <string>

namespace outflow::op::topics {

// Precondition: secrets::missing_secrets() reported no Kafka Secret missing;
// throws std::invalid_argument naming the Secret otherwise.
kafka::ConnectionSettings connection_settings(const pipeline::KafkaSpec& spec,
                                              const secrets::SecretData& data);

// A key that identifies the cluster *and* the credentials, for sharing one
// admin client between pipelines that connect identically. A hash: the
// settings include passwords and private keys.
std::string connection_key(const kafka::ConnectionSettings& settings);

}  // namespace outflow::op::topics
