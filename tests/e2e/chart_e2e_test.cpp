// The Helm chart as chart-testing holds charts to, on the test environment's
// real node: every values variant in charts/outflow/ci/ installs, passes its
// own `helm test` (outflow-operator check: every replica Ready and answering,
// one leader on a fresh Lease) and uninstalls; the test fails, saying why,
// on an install that is not healthy; and a release of the previous chart
// version upgrades to this one with its pipelines running throughout.

#include "agent/outbox_fixture.h"
#include "e2e/node_fixture.h"
#include "child_process.h"

#include <algorithm>

namespace outflow::node_e2e {
namespace {

using namespace std::chrono_literals;
using testenv::eventually;

// The chart as published at version 0.1.0 (git 1abda2c: before the values
// schema was closed and the PDB, NetworkPolicies and monitors were added),
// packaged with `helm package`: what an installed base upgrades from.
constexpr const char* kPreviousChart = "tests/e2e/fixtures/outflow-0.1.0.tgz";

std::vector<std::string> ci_values_files() {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(testenv::source_path("charts/outflow/ci"))) {
    const auto name = entry.path().filename().string();
    if (name.ends_with("-values.yaml")) names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  return names;
}

class ChartE2eTest : public NodeE2eTest {
 protected:
  ShellResult helm_test() {
    return shell(bin_ + "/helm test " + release_ + " -n " + ns_ + " --logs --timeout 180s");
  }

  std::string operator_selector() const {
    return "app.kubernetes.io/instance=" + release_ + ",app.kubernetes.io/name=outflow-operator";
  }

  // The test hook's grant, by kind, where it is still there.
  std::string hook_grant_leftovers() {
    const auto name = release_ + "-outflow-test";
    std::string left;
    for (const auto* kind : {"serviceaccount", "role", "rolebinding"}) {
      if (kubectl(std::string("get ") + kind + " " + name).exit_code == 0) left += std::string(kind) + " ";
    }
    return left;
  }
};

class ChartVariantTest : public ChartE2eTest, public ::testing::WithParamInterface<std::string> {};

TEST_P(ChartVariantTest, InstallsPassesItsHelmTestAndUninstallsClean) {
  const auto values = testenv::source_path("charts/outflow/ci/" + GetParam());
  const auto t0 = Clock::now();
  const auto install = helm("install", "-f " + values);
  ASSERT_EQ(install.exit_code, 0) << install.output;
  figure("helm install --wait, " + GetParam(), fmt::format("{:.1f} s", seconds_since(t0)));

  const auto test = helm_test();
  EXPECT_EQ(test.exit_code, 0) << test.output;
  EXPECT_NE(test.output.find("verdict: ready, every check passed"), std::string::npos) << test.output;
  EXPECT_NE(test.output.find("Phase:          Succeeded"), std::string::npos) << test.output;
  std::cout << test.output.substr(std::min(test.output.find("POD LOGS"), test.output.size())) << std::endl;
  // A passed test leaves no grant behind (hook-delete-policy hook-succeeded).
  EXPECT_TRUE(eventually([&] { return hook_grant_leftovers().empty(); }, 30s, 500ms)) << hook_grant_leftovers();

  const auto uninstall = shell(bin_ + "/helm uninstall " + release_ + " -n " + ns_ + " --wait --timeout 120s");
  ASSERT_EQ(uninstall.exit_code, 0) << uninstall.output;
  EXPECT_TRUE(eventually([&] { return pods(operator_selector()).empty(); }, 60s, 500ms));
}

INSTANTIATE_TEST_SUITE_P(CiValues, ChartVariantTest, ::testing::ValuesIn(ci_values_files()),
                         [](const ::testing::TestParamInfo<std::string>& file) {
                           auto name = file.param.substr(0, file.param.size() - std::string("-values.yaml").size());
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

TEST_F(ChartE2eTest, EveryValuesVariantIsFound) {
  // The suite above runs one test per file; a renamed folder must not turn
  // it into zero tests that all pass.
  EXPECT_GE(ci_values_files().size(), 3u);
}

TEST_F(ChartE2eTest, HelmTestFailsAndSaysWhyWhenTwoReplicasRunWithoutLeaderElection) {
  const auto install = helm("install", "--set replicas=2 --set leaderElection=false");
  ASSERT_EQ(install.exit_code, 0) << install.output;
  const auto test = helm_test();
  EXPECT_NE(test.exit_code, 0) << test.output;
  EXPECT_NE(test.output.find("leader election is off with 2 replicas"), std::string::npos) << test.output;
  EXPECT_NE(test.output.find("verdict: NOT READY"), std::string::npos) << test.output;
  // A failed test pod stays for `kubectl logs`.
  EXPECT_EQ(kubectl("get pod " + release_ + "-outflow-test").exit_code, 0);
}

TEST_F(ChartE2eTest, AReleaseOfThePreviousChartVersionUpgradesWithItsPipelineRunningThroughout) {
  const auto install = helm_chart("install", testenv::source_path(kPreviousChart));
  ASSERT_EQ(install.exit_code, 0) << install.output;
  testenv::OutboxDb db;
  const auto topic = testenv::unique_name("e2e-chart-upgrade");
  create_db_secret("orders", testenv::require("OUTFLOW_TEST_PG_POD_URL"));
  apply(pipeline("orders", topic, db.table(), 1));
  ASSERT_TRUE(eventually([&] { return agents_ready("orders", 1); }, 180s, 500ms));
  const auto agents_before = pods("app.kubernetes.io/instance=orders,app.kubernetes.io/name=outflow-agent");
  ASSERT_EQ(agents_before.size(), 1u);

  const auto t0 = Clock::now();
  const auto upgrade = helm("upgrade");
  ASSERT_EQ(upgrade.exit_code, 0) << upgrade.output;
  figure("helm upgrade from chart 0.1.0 --wait", fmt::format("{:.1f} s", seconds_since(t0)));
  std::vector<json> operators;
  ASSERT_TRUE(eventually(
      [&] {
        operators = pods(operator_selector());
        return operators.size() == 2 && std::all_of(operators.begin(), operators.end(), [](const json& p) {
                 return ready(p) && p["metadata"]["labels"].value("helm.sh/chart", "") == "outflow-0.2.0";
               });
      },
      120s, 500ms))
      << operators.size() << " operator pods";
  const auto test = helm_test();
  EXPECT_EQ(test.exit_code, 0) << test.output;

  // The pipeline kept its agent (an operator upgrade rolls no agent whose
  // Deployment did not change) and still delivers.
  EXPECT_TRUE(agents_ready("orders", 1));
  const auto agents_after = pods("app.kubernetes.io/instance=orders,app.kubernetes.io/name=outflow-agent");
  ASSERT_EQ(agents_after.size(), 1u);
  EXPECT_EQ(agents_after[0]["metadata"]["uid"], agents_before[0]["metadata"]["uid"]);
  db.insert_many(50, 5);
  const auto got = testenv::read_topic(topic, 50, 60s);
  const auto d = check_delivery(got, 0, 50);
  EXPECT_EQ(d.lost, 0u);
  EXPECT_EQ(d.out_of_order, 0u);
}

}  // namespace
}  // namespace outflow::node_e2e
