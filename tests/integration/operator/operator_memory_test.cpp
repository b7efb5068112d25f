// What the operator keeps in memory: Secrets no pipeline references cost it
// nothing, however large they are.

#include "operator_fixture.h"

#include "testenv.h"

#include <fstream>
#include <iostream>

namespace outflow::operator_tests {
namespace {

namespace kinds = kube::kinds;

using OperatorMemoryTest = OperatorTest;

// VmHWM: the most resident memory the process ever had, in KiB. A peak, so a
// list read whole and dropped a moment later still shows.
long peak_rss_kib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6));
  }
  throw std::runtime_error("no VmHWM for pid " + std::to_string(pid));
}

TEST_F(OperatorMemoryTest, LargeSecretsNoPipelineReferencesCostItNoMemory) {
  auto p = pipeline("mem", json::array({{{"name", unique_topic("mem")}, {"partitions", 1}, {"replicationFactor", 1}}}));
  apply(p);
  auto& before = start_operator();
  wait_for_condition("mem", "TopicsReady", "True");
  const long baseline_kib = peak_rss_kib(before.pid());
  before.terminate();

  // 48 MiB of Secret data (64 MiB as base64) in Secrets no pipeline names,
  // there before the operator starts: its first list meets all of them.
  constexpr int kSecrets = 48;
  const std::string value(1 << 20, 'x');
  for (int i = 0; i < kSecrets; ++i) create_secret("unrelated-" + std::to_string(i), {{"blob", value}});

  auto& after = start_operator();
  // A Secret the pipeline does name, created last: once the operator has
  // reacted to it, it has listed or watched past every large one.
  p["spec"]["outbox"]["databaseSecretRef"]["name"] = "mem-db";
  apply(p);
  wait_for_condition("mem", "AgentsReady", "False", "SecretNotFound");
  create_secret("mem-db", {{"url", "postgresql://outflow@127.0.0.1/orders"}});
  ASSERT_TRUE(eventually(
      [&] {
        const auto c = condition(get("mem"), "AgentsReady");
        return c && c->value("reason", "") != "SecretNotFound";
      },
      60s));
  const long peak_kib = peak_rss_kib(after.pid());
  std::cout << "operator peak RSS: " << baseline_kib / 1024 << " MiB without the large Secrets, "
            << peak_kib / 1024 << " MiB with " << kSecrets << " MiB of them\n";
  // Reading them would take at least their size (the base64 text alone is
  // 64 MiB); a metadata-only watch adds well under a MiB.
  EXPECT_LT(peak_kib - baseline_kib, 16 * 1024) << "the operator held the data of Secrets it does not use";
}

}  // namespace
}  // namespace outflow::operator_tests
