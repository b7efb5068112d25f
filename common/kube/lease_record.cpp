#include "common/kube/lease_record.h"

#include <fmt/format.h>

#include <ctime>
#include <stdexcept>

namespace outflow::kube {
namespace {

using nlohmann::json;

json lease_base(const std::optional<json>& current, const LeaseConfig& config) {
  if (current) {
    json object = *current;
    if (!object["spec"].is_object()) object["spec"] = json::object();
    return object;
  }
  return {{"apiVersion", "coordination.k8s.io/v1"},
          {"kind", "Lease"},
          {"metadata", {{"name", config.name}, {"namespace", config.namespace_name}}},
          {"spec", json::object()}};
}

int int_or_zero(const json& spec, const char* key) {
  const auto it = spec.find(key);
  return it != spec.end() && it->is_number_integer() ? it->get<int>() : 0;
}

}  // namespace

std::string format_micro_time(std::chrono::system_clock::time_point time) {
  using namespace std::chrono;
  // floor, not duration_cast: a time before the epoch must not round towards it.
  const auto micros = floor<microseconds>(time).time_since_epoch();
  const auto secs = floor<seconds>(micros);
  const std::time_t seconds_since_epoch = static_cast<std::time_t>(secs.count());
  std::tm tm{};
  gmtime_r(&seconds_since_epoch, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z", tm.tm_year + 1900,
                     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                     (micros - secs).count());
}

int lease_duration_seconds(std::chrono::milliseconds duration) {
  const auto seconds = std::chrono::ceil<std::chrono::seconds>(duration).count();
  return seconds < 1 ? 1 : static_cast<int>(seconds);
}

json lease_to_write(const std::optional<json>& current, LeaseAction action,
                    const LeaseConfig& config, std::chrono::system_clock::time_point now) {
  if (action == LeaseAction::Wait) {
    throw std::invalid_argument("lease_to_write: Wait writes nothing");
  }
  if (action != LeaseAction::Create && !current) {
    throw std::invalid_argument("lease_to_write: Acquire and Renew update the Lease as read");
  }
  json lease = lease_base(action == LeaseAction::Create ? std::nullopt : current, config);
  json& spec = lease["spec"];
  const std::string time = format_micro_time(now);
  const int transitions = int_or_zero(spec, "leaseTransitions");

  spec["holderIdentity"] = config.identity;
  spec["leaseDurationSeconds"] = lease_duration_seconds(config.lease_duration);
  spec["renewTime"] = time;
  switch (action) {
    case LeaseAction::Create:
      spec["acquireTime"] = time;
      spec["leaseTransitions"] = 0;
      break;
    case LeaseAction::Acquire:
      spec["acquireTime"] = time;
      spec["leaseTransitions"] = transitions + 1;
      break;
    case LeaseAction::Renew:
      // A renewal is the same term of office: it keeps when the term began.
      if (!spec.contains("acquireTime") || !spec["acquireTime"].is_string()) {
        spec["acquireTime"] = time;
      }
      spec["leaseTransitions"] = transitions;
      break;
    case LeaseAction::Wait:
      break;
  }
  return lease;
}

json released_lease(const json& current, std::chrono::system_clock::time_point now) {
  json lease = current;
  if (!lease["spec"].is_object()) lease["spec"] = json::object();
  json& spec = lease["spec"];
  const std::string time = format_micro_time(now);
  spec["holderIdentity"] = "";
  spec["leaseDurationSeconds"] = 1;
  spec["acquireTime"] = time;
  spec["renewTime"] = time;
  spec["leaseTransitions"] = int_or_zero(spec, "leaseTransitions");
  return lease;
}

}  // namespace outflow::kube
