#include "operator/check/verdict.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

namespace outflow::op::check {

namespace {

constexpr std::string_view kLeaderGauge = "outflow_operator_leader";

// An error body in one line, short enough for a checklist.
std::string excerpt(std::string_view body) {
  std::string out(body.substr(0, 160));
  std::replace(out.begin(), out.end(), '\n', ' ');
  return out;
}

std::string join(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

Item pods_item(const std::vector<ReplicaSeen>& replicas, const Expected& expected) {
  std::vector<std::string> unready;
  for (const auto& r : replicas) {
    if (!r.kubelet_ready) unready.push_back(r.pod);
  }
  const auto ready = static_cast<int>(replicas.size() - unready.size());
  if (static_cast<int>(replicas.size()) == expected.replicas && unready.empty()) {
    return {"operator pods", Outcome::Ok, fmt::format("{} of {} Ready", ready, expected.replicas)};
  }
  std::string detail = fmt::format("{} found, {} Ready, {} expected", replicas.size(), ready, expected.replicas);
  if (!unready.empty()) detail += fmt::format("; not Ready: {}", join(unready));
  return {"operator pods", Outcome::Failed, detail + " (kubectl describe pod, and the operator's log, say why)"};
}

// One pod's own answers. `leading` is set from its leader gauge.
Item replica_item(const ReplicaSeen& r, std::optional<bool>& leading) {
  const std::string subject = "pod " + r.pod;
  if (r.ip.empty()) return {subject, Outcome::Failed, "has no pod IP yet (not started)"};
  if (r.readyz.status == 0) {
    return {subject, Outcome::Failed,
            fmt::format("the health port did not answer /readyz: {} (healthPort, or a NetworkPolicy in the way)",
                        r.readyz.error)};
  }
  if (r.readyz.status != 200) {
    return {subject, Outcome::Failed, fmt::format("/readyz answered {}: {}", r.readyz.status, excerpt(r.readyz.body))};
  }
  if (r.metrics.status == 0) {
    return {subject, Outcome::Failed,
            fmt::format("the metrics port did not answer /metrics: {} (metricsPort, or networkPolicy.metricsFrom "
                        "without this checker)",
                        r.metrics.error)};
  }
  if (r.metrics.status != 200) {
    return {subject, Outcome::Failed,
            fmt::format("/metrics answered {}: {}", r.metrics.status, excerpt(r.metrics.body))};
  }
  const auto gauge = metric_value(r.metrics.body, kLeaderGauge);
  if (!gauge) {
    return {subject, Outcome::Failed,
            fmt::format("/metrics has no {}: the metrics port serves something other than the operator",
                        kLeaderGauge)};
  }
  leading = *gauge == 1;
  return {subject, Outcome::Ok, fmt::format("/readyz 200, metrics served, {}", *leading ? "leading" : "standing by")};
}

Item leader_item(const std::vector<std::string>& leaders, const Expected& expected, int answered) {
  if (expected.lease.empty()) {
    if (expected.replicas > 1) {
      return {"leader", Outcome::Failed,
              fmt::format("leader election is off with {} replicas: all of them reconcile at once; set "
                          "leaderElection=true or replicas=1",
                          expected.replicas)};
    }
    return {"leader", Outcome::Skipped, "leader election is off; the one replica reconciles"};
  }
  if (answered == 0) return {"leader", Outcome::Failed, "no replica answered (above)"};
  if (leaders.size() == 1) return {"leader", Outcome::Ok, leaders.front() + " leads"};
  if (leaders.empty()) {
    return {"leader", Outcome::Failed,
            fmt::format("none of the {} replicas that answered holds lease {} (the operator's log says "
                        "\"leader is ...\" or why it cannot write the Lease)",
                        answered, expected.lease)};
  }
  return {"leader", Outcome::Failed,
          fmt::format("{} all report leading: two operators reconcile at once (do they use different leases?)",
                      join(leaders))};
}

Item lease_item(const std::optional<LeaseSeen>& lease, const Expected& expected,
                const std::vector<std::string>& leaders, std::int64_t now) {
  const std::string subject = "lease " + expected.lease;
  if (!lease) {
    return {subject, Outcome::Failed, "does not exist: no replica has campaigned (are the pods running with --leader-elect?)"};
  }
  if (lease->holder.empty()) return {subject, Outcome::Failed, "has no holder (released, and nobody took it)"};
  // Identities are "<pod name>_<random>" (operator/main.cpp).
  if (leaders.size() == 1 && lease->holder.rfind(leaders.front() + "_", 0) != 0) {
    return {subject, Outcome::Failed,
            fmt::format("is held by {}, but {} reports leading", lease->holder, leaders.front())};
  }
  if (!lease->renewed_at) return {subject, Outcome::Failed, "has no renewTime"};
  const auto age = now - *lease->renewed_at;
  if (age > lease->duration_seconds) {
    return {subject, Outcome::Failed,
            fmt::format("held by {} but not renewed for {} s (lease duration {} s): the holder lost the API server",
                        lease->holder, age, lease->duration_seconds)};
  }
  return {subject, Outcome::Ok, fmt::format("held by {}, renewed {} s ago", lease->holder, std::max<std::int64_t>(age, 0))};
}

}  // namespace

std::optional<double> metric_value(std::string_view text, std::string_view name) {
  std::size_t start = 0;
  while (start < text.size()) {
    auto end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    const auto line = text.substr(start, end - start);
    start = end + 1;
    if (line.size() <= name.size() || line.substr(0, name.size()) != name || line[name.size()] != ' ') continue;
    auto value = line.substr(name.size() + 1);
    double parsed = 0;
    const auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), parsed);
    if (ec == std::errc()) return parsed;
  }
  return std::nullopt;
}

std::vector<Item> judge(const std::vector<ReplicaSeen>& replicas, const Expected& expected,
                        const std::optional<LeaseSeen>& lease, std::int64_t now_epoch_seconds) {
  std::vector<Item> items{pods_item(replicas, expected)};
  std::vector<std::string> leaders;
  int answered = 0;
  for (const auto& r : replicas) {
    std::optional<bool> leading;
    items.push_back(replica_item(r, leading));
    if (leading) ++answered;
    if (leading.value_or(false)) leaders.push_back(r.pod);
  }
  items.push_back(leader_item(leaders, expected, answered));
  if (!expected.lease.empty()) items.push_back(lease_item(lease, expected, leaders, now_epoch_seconds));
  return items;
}

}  // namespace outflow::op::check
