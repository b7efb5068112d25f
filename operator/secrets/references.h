#pragma once

// The Secrets a pipeline depends on, checked against what the API server has.
// A missing Secret (or key) is the most common first-day mistake, so the
// operator names each one and what it is for instead of letting agent pods hang
// in ContainerCreating or the Kafka client fail to authenticate.

#include "common/pipeline/spec.h"

#include <map>
#include <string>
#include <vector>

namespace outflow::op::secrets {

// Secrets as read: name -> key -> decoded value. A Secret absent from the map
// does not exist. Values are secret: never log, event or report them.
using SecretData = std::map<std::string, std::map<std::string, std::string>>;

struct MissingSecret {
  std::string secret;
  std::string key;  // empty: the whole Secret is missing
  std::string purpose;  // "Kafka SASL credentials", "the outbox database URL", ...
  bool kafka = false;   // needed to talk to Kafka (blocks topics), else only the agents
  bool operator==(const MissingSecret&) const = default;
};

// Every referenced Secret or key that `data` lacks, in spec order, one entry
// per missing Secret (not per key of a missing Secret).
std::vector<MissingSecret> missing_secrets(const pipeline::PipelineSpec& spec, const SecretData& data);

// One line for a condition message, e.g.
// `Secret "app-kafka" (Kafka SASL credentials) not found; Secret "orders-db" has
// no key "url" (the outbox database URL)`.
std::string describe(const std::vector<MissingSecret>& missing);

// The parts of the roll-out checksum that come from Secrets: each referenced
// key's name and value, in a fixed order, so changing a password rolls the
// agent pods and nothing else does.
std::vector<std::string> checksum_parts(const pipeline::PipelineSpec& spec, const SecretData& data);

}  // namespace outflow::op::secrets
