#include "operator/secrets/references.h"

#include "operator/workloads/agent_config.h"

#include <fmt/format.h>

#include <algorithm>

namespace outflow::op::secrets {
namespace {

std::string purpose_of(const std::string& volume) {
  if (volume == "database") return "the outbox database URL";
  if (volume == "kafka-ca") return "the Kafka CA certificate";
  if (volume == "kafka-client-cert") return "the Kafka client certificate";
  if (volume == "kafka-sasl") return "Kafka SASL credentials";
  return volume;
}

}  // namespace

std::vector<MissingSecret> missing_secrets(const pipeline::PipelineSpec& spec, const SecretData& data) {
  std::vector<MissingSecret> missing;
  for (const auto& mount : workloads::secret_mounts(spec)) {
    const bool kafka = mount.volume != "database";
    const auto found = data.find(mount.secret);
    if (found == data.end()) {
      // One entry per Secret, even when it backs several mounts: it blocks
      // Kafka if any of them is for Kafka, and names every purpose.
      auto already = std::find_if(missing.begin(), missing.end(), [&](const MissingSecret& m) {
        return m.secret == mount.secret && m.key.empty();
      });
      if (already == missing.end()) {
        missing.push_back({mount.secret, "", purpose_of(mount.volume), kafka});
      } else {
        already->kafka = already->kafka || kafka;
        already->purpose += " and " + purpose_of(mount.volume);
      }
      continue;
    }
    for (const auto& [key, file] : mount.items) {
      if (!found->second.contains(key)) {
        missing.push_back({mount.secret, key, purpose_of(mount.volume), kafka});
      }
    }
  }
  return missing;
}

std::string describe(const std::vector<MissingSecret>& missing) {
  std::string text;
  for (const auto& m : missing) {
    if (!text.empty()) text += "; ";
    if (m.key.empty()) {
      text += fmt::format("Secret \"{}\" ({}) not found", m.secret, m.purpose);
    } else {
      text += fmt::format("Secret \"{}\" has no key \"{}\" ({})", m.secret, m.key, m.purpose);
    }
  }
  return text;
}

std::vector<std::string> checksum_parts(const pipeline::PipelineSpec& spec, const SecretData& data) {
  std::vector<std::string> parts;
  for (const auto& mount : workloads::secret_mounts(spec)) {
    for (const auto& [key, file] : mount.items) {
      parts.push_back(mount.secret + "/" + key);
      const auto secret = data.find(mount.secret);
      const bool present = secret != data.end() && secret->second.contains(key);
      // A prefix keeps "absent" apart from any value, including an empty one.
      parts.push_back(present ? "=" + secret->second.at(key) : "-");
    }
  }
  return parts;
}

}  // namespace outflow::op::secrets
