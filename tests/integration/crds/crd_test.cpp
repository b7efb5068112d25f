// The EventPipeline CRD (crds/eventpipeline.yaml) against the real API server:
// it installs and is served, kubectl shows the right columns under the short
// name `evp`, and its examples apply and read back with their defaults.

#include "crd_fixture.h"

#include <gtest/gtest.h>

#include <thread>

using namespace outflow;
using namespace outflow::crd_tests;
using nlohmann::json;

// ---------------------------------------------------------------------------
// Installing the CRD

TEST(CrdInstall, AppliesServerSideAndBecomesEstablished) {
  auto api = testenv::admin_client();
  ASSERT_NO_THROW(testenv::apply_crd_and_wait_established(api));
  // A second apply of the same manifest is a no-op, not an error.
  ASSERT_NO_THROW(testenv::apply_crd_and_wait_established(api));

  const auto crd = api.get(kCrdPath);
  ASSERT_EQ(crd.status, 200) << crd.text;
  std::set<std::string> true_conditions;
  for (const auto& c : crd.body["status"]["conditions"]) {
    if (c["status"] == "True") true_conditions.insert(c["type"].get<std::string>());
  }
  EXPECT_TRUE(true_conditions.count("Established")) << crd.body["status"].dump();
  EXPECT_TRUE(true_conditions.count("NamesAccepted")) << crd.body["status"].dump();

  bool applied_by_tests = false;
  for (const auto& m : crd.body["metadata"]["managedFields"]) {
    if (m["manager"] == "outflow-tests" && m["operation"] == "Apply") applied_by_tests = true;
  }
  EXPECT_TRUE(applied_by_tests) << crd.body["metadata"]["managedFields"].dump();

  const auto& versions = crd.body["spec"]["versions"];
  ASSERT_EQ(versions.size(), 1u);
  EXPECT_EQ(versions[0]["name"], "v1alpha1");
  EXPECT_EQ(versions[0]["served"], true);
  EXPECT_EQ(versions[0]["storage"], true);
  EXPECT_EQ(crd.body["spec"]["scope"], "Namespaced");
}

TEST(CrdInstall, ConcurrentAppliesAllSucceed) {
  // What ctest -j does: several test processes apply the CRD at the same moment.
  constexpr int kAppliers = 4;
  std::vector<std::string> errors(kAppliers);
  std::vector<std::thread> appliers;
  for (int i = 0; i < kAppliers; ++i) {
    appliers.emplace_back([&errors, i] {
      try {
        auto api = testenv::admin_client();
        testenv::apply_crd_and_wait_established(api);
      } catch (const std::exception& e) {
        errors[i] = e.what();
      }
    });
  }
  for (auto& t : appliers) t.join();
  for (int i = 0; i < kAppliers; ++i) EXPECT_EQ(errors[i], "") << "applier " << i;
}

// ---------------------------------------------------------------------------
// Names and printer columns, as kubectl sees them

class CrdNames : public CrdTest {};

TEST_F(CrdNames, PrinterColumnsAreReadyTopicsAgentsBreakersAge) {
  const auto crd = api().get(kCrdPath);
  ASSERT_EQ(crd.status, 200) << crd.text;
  std::vector<std::string> columns;
  for (const auto& c : crd.body["spec"]["versions"][0]["additionalPrinterColumns"]) {
    columns.push_back(c["name"].get<std::string>());
  }
  EXPECT_EQ(columns, (std::vector<std::string>{"Ready", "Topics", "Agents", "Breakers", "Age"}));
}

TEST_F(CrdNames, ShortNameIsEvpBecauseEpBelongsToEndpoints) {
  const auto crd = api().get(kCrdPath);
  ASSERT_EQ(crd.status, 200) << crd.text;
  const auto short_names = crd.body["spec"]["names"]["shortNames"];
  EXPECT_NE(std::find(short_names.begin(), short_names.end(), "evp"), short_names.end())
      << short_names.dump();
  EXPECT_EQ(std::find(short_names.begin(), short_names.end(), "ep"), short_names.end())
      << "\"ep\" is the short name of Endpoints, which kubectl resolves first: "
      << short_names.dump();
  EXPECT_EQ(crd.body["status"]["acceptedNames"]["shortNames"], short_names);

  // What kubectl resolves names from: the discovery documents.
  const auto ours = api().get("/apis/outflow.dev/v1alpha1");
  ASSERT_EQ(ours.status, 200) << ours.text;
  std::optional<json> pipelines;
  for (const auto& r : ours.body["resources"]) {
    if (r["name"] == "eventpipelines") pipelines = r;
  }
  ASSERT_TRUE(pipelines) << ours.text;
  EXPECT_EQ((*pipelines)["kind"], "EventPipeline");
  EXPECT_EQ((*pipelines)["shortNames"], json::array({"evp"}));
  EXPECT_EQ((*pipelines)["categories"], json::array({"outflow"}));

  const auto core = api().get("/api/v1");
  ASSERT_EQ(core.status, 200) << core.text;
  for (const auto& r : core.body["resources"]) {
    if (r["name"] == "endpoints") {
      EXPECT_EQ(r["shortNames"], json::array({"ep"}));
    }
  }
}

// ---------------------------------------------------------------------------
// The examples in crds/examples/

class CrdEveryExample : public CrdTest, public ::testing::WithParamInterface<std::string> {};

TEST_P(CrdEveryExample, AppliesCleanlyAndKeepsEveryFieldItSets) {
  const auto& file = GetParam();
  SCOPED_TRACE(file);
  const auto manifest = testenv::read_manifest(file);
  const auto created = create(manifest);
  ASSERT_EQ(created.status, 201) << file << " was not accepted: " << created.text;

  const auto read = get(manifest["metadata"]["name"].get<std::string>());
  ASSERT_EQ(read.status, 200) << read.text;
  EXPECT_EQ(first_difference(manifest["spec"], read.body["spec"], "spec"), std::nullopt)
      << file << " reads back differently: " << read.body["spec"].dump(2);
}

INSTANTIATE_TEST_SUITE_P(Crd, CrdEveryExample, ::testing::ValuesIn(yaml_files_in("crds/examples")),
                         named_after_the_file);

class CrdExampleDefaults : public CrdTest {};

TEST_F(CrdExampleDefaults, MinimalGetsTheDocumentedDefaults) {
  ASSERT_EQ(create_example("minimal.yaml").status, 201);
  const auto read = get("orders");
  ASSERT_EQ(read.status, 200) << read.text;
  const auto& spec = read.body["spec"];

  EXPECT_EQ(spec["kafka"]["connectTimeoutMs"], 10000);
  EXPECT_EQ(spec["kafka"]["requestTimeoutMs"], 30000);
  EXPECT_FALSE(spec["kafka"].contains("tls")) << "no TLS block unless asked for";
  EXPECT_FALSE(spec["kafka"].contains("sasl"));

  EXPECT_EQ(spec["outbox"]["table"], "outbox");
  EXPECT_EQ(spec["outbox"]["databaseSecretRef"]["key"], "url");
  EXPECT_EQ(spec["outbox"]["batchSize"], 500);
  EXPECT_EQ(spec["outbox"]["pollIntervalMs"], 1000);
  EXPECT_EQ(spec["outbox"]["deleteAfterPublish"], false);

  EXPECT_EQ(spec["circuitBreaker"]["failureRateThreshold"], 50);
  EXPECT_EQ(spec["circuitBreaker"]["minimumCalls"], 20);
  EXPECT_EQ(spec["circuitBreaker"]["windowSize"], 100);
  EXPECT_EQ(spec["circuitBreaker"]["openDurationMs"], 30000);
  EXPECT_EQ(spec["circuitBreaker"]["halfOpenCalls"], 5);

  EXPECT_EQ(spec["agent"]["replicas"], 2);
  EXPECT_EQ(spec["alerts"]["defaults"], true);
  EXPECT_EQ(spec["topicDeletionPolicy"], "Retain");
  EXPECT_EQ(spec["paused"], false);
  EXPECT_FALSE(spec.contains("deadLetter")) << "dead letters are opt-in";
}

TEST_F(CrdExampleDefaults, TlsScramEnablesTlsAndKeepsItsCredentialsAndTopicConfig) {
  ASSERT_EQ(create_example("tls-scram.yaml").status, 201);
  const auto read = get("payments");
  ASSERT_EQ(read.status, 200) << read.text;
  const auto& spec = read.body["spec"];

  EXPECT_EQ(spec["kafka"]["tls"]["enabled"], true) << "a tls block means TLS on";
  EXPECT_EQ(spec["kafka"]["tls"]["caSecretRef"], json({{"name", "kafka-ca"}, {"key", "ca.crt"}}));
  EXPECT_EQ(spec["kafka"]["sasl"]["mechanism"], "SCRAM-SHA-512");
  EXPECT_EQ(spec["kafka"]["sasl"]["secretRef"],
            json({{"name", "payments-kafka"}, {"usernameKey", "username"}, {"passwordKey", "password"}}));
  EXPECT_EQ(spec["kafka"]["bootstrapServers"].size(), 3u);

  ASSERT_EQ(spec["topics"].size(), 2u);
  EXPECT_EQ(spec["topics"][0]["config"]["retention.ms"], "604800000") << "topic configs stay strings";
  EXPECT_EQ(spec["topics"][0]["config"]["compression.type"], "zstd");

  EXPECT_EQ(spec["outbox"]["table"], "billing.outbox");
  EXPECT_EQ(spec["outbox"]["batchSize"], 1000);
  EXPECT_EQ(spec["agent"]["replicas"], 3);
  EXPECT_EQ(spec["agent"]["resources"]["limits"]["memory"], "256Mi")
      << "resources pass through unpruned";
  EXPECT_EQ(spec["circuitBreaker"]["windowSize"], 100);
  EXPECT_EQ(spec["topicDeletionPolicy"], "Retain");
}

TEST_F(CrdExampleDefaults, DeadLetterAlertsKeepsItsLadderRulesAndDeletePolicy) {
  ASSERT_EQ(create_example("dead-letter-alerts.yaml").status, 201);
  const auto read = get("shipping");
  ASSERT_EQ(read.status, 200) << read.text;
  const auto& spec = read.body["spec"];

  EXPECT_EQ(spec["kafka"]["tls"]["enabled"], true);
  EXPECT_EQ(spec["kafka"]["tls"]["caSecretRef"]["key"], "ca.crt") << "the CA key defaults";
  EXPECT_EQ(spec["kafka"]["tls"]["clientCertSecretRef"]["name"], "shipping-kafka-tls");

  EXPECT_EQ(spec["deadLetter"]["topic"], "shipping.dispatched.dlq");
  EXPECT_EQ(spec["deadLetter"]["maxAttempts"], 5);
  EXPECT_EQ(spec["deadLetter"]["backoff"],
            json({{"initialMs", 1000}, {"multiplier", 2}, {"maxMs", 600000}}));
  EXPECT_EQ(spec["deadLetter"]["partitions"], 3);

  ASSERT_EQ(spec["alerts"]["rules"].size(), 1u);
  EXPECT_EQ(spec["alerts"]["rules"][0]["alert"], "ShippingOutboxStalled");
  EXPECT_EQ(spec["alerts"]["rules"][0]["for"], "5m");
  EXPECT_EQ(spec["alerts"]["rules"][0]["severity"], "critical");
  EXPECT_EQ(spec["alerts"]["labels"]["release"], "prometheus");

  EXPECT_EQ(spec["outbox"]["deleteAfterPublish"], true);
  EXPECT_EQ(spec["topicDeletionPolicy"], "Delete");
}

TEST_F(CrdExampleDefaults, DeadLetterWithOnlyATopicGetsTheWholeLadder) {
  auto manifest = testenv::read_manifest(testenv::source_path("crds/examples/minimal.yaml"));
  manifest["spec"]["deadLetter"] = {{"topic", "shop.orders.dlq"}};
  manifest["spec"]["alerts"] = {{"rules", json::array({{{"alert", "OrdersStalled"}, {"expr", "vector(1)"}}})}};
  const auto created = create(manifest);
  ASSERT_EQ(created.status, 201) << created.text;

  const auto& spec = created.body["spec"];
  EXPECT_EQ(spec["deadLetter"]["maxAttempts"], 5);
  EXPECT_EQ(spec["deadLetter"]["backoff"],
            json({{"initialMs", 1000}, {"multiplier", 2}, {"maxMs", 600000}}));
  EXPECT_EQ(spec["deadLetter"]["partitions"], 1);
  EXPECT_EQ(spec["deadLetter"]["replicationFactor"], 1);
  EXPECT_EQ(spec["alerts"]["rules"][0]["severity"], "warning");
  EXPECT_EQ(spec["alerts"]["defaults"], true);
}
