// The EventPipeline CRD (crds/eventpipeline.yaml) against the real API server:
// it installs and is served, its examples apply and read back with their
// defaults, every manifest in invalid/ is rejected by the API server itself
// with the message its `# expect:` line names, spec.deadLetter.topic cannot
// change, status is a subresource whose agents each own their entry, and
// kubectl shows the right columns under the short name `evp`.

#include "common/kube/rest_client.h"
#include "kube_helpers.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

using namespace outflow;
using nlohmann::json;

namespace {

const std::string kApiVersion = "outflow.dev/v1alpha1";
const std::string kCrdPath =
    "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/" + std::string(testenv::kCrdName);

std::string pipelines_path(const std::string& ns) {
  return "/apis/outflow.dev/v1alpha1/namespaces/" + ns + "/eventpipelines";
}

std::string pipeline_path(const std::string& ns, const std::string& name,
                          const std::string& subresource = "") {
  return pipelines_path(ns) + "/" + name + (subresource.empty() ? "" : "/" + subresource);
}

// The .yaml files of a source directory, sorted, as absolute paths. Empty when
// the directory is missing: the coverage tests below then fail by name.
std::vector<std::string> yaml_files_in(std::string_view relative_dir) {
  std::vector<std::string> files;
  std::error_code error;
  for (std::filesystem::directory_iterator it(testenv::source_path(relative_dir), error), end;
       !error && it != end; it.increment(error)) {
    if (it->path().extension() == ".yaml") files.push_back(it->path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::string stem(const std::string& path) { return std::filesystem::path(path).stem().string(); }

// "dead-letter-topic-in-topics.yaml" -> "dead_letter_topic_in_topics": the test's name.
std::string named_after_the_file(const ::testing::TestParamInfo<std::string>& param) {
  auto name = stem(param.param);
  for (auto& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return name;
}


// The text after "# expect:" in the manifest's leading comment block; nullopt
// when that block has no such line.
std::optional<std::string> expected_message(const std::string& text) {
  std::istringstream lines(text);
  const std::string marker = "# expect:";
  for (std::string line; std::getline(lines, line);) {
    if (line.empty() || line[0] != '#') break;
    if (line.rfind(marker, 0) == 0) {
      auto message = line.substr(marker.size());
      message.erase(0, message.find_first_not_of(' '));
      while (!message.empty() && (message.back() == ' ' || message.back() == '\r')) {
        message.pop_back();
      }
      return message;
    }
  }
  return std::nullopt;
}

// Where `actual` departs from `expected`, ignoring members `expected` does not
// have (the defaults the API server added); nullopt when it keeps all of them.
std::optional<std::string> first_difference(const json& expected, const json& actual,
                                            const std::string& path) {
  if (expected.is_object() && actual.is_object()) {
    for (const auto& [key, value] : expected.items()) {
      if (!actual.contains(key)) return path + "." + key + " is missing";
      if (auto d = first_difference(value, actual[key], path + "." + key)) return d;
    }
    return std::nullopt;
  }
  if (expected.is_array() && actual.is_array()) {
    if (expected.size() != actual.size()) {
      return path + " has " + std::to_string(actual.size()) + " items, expected " +
             std::to_string(expected.size());
    }
    for (std::size_t i = 0; i < expected.size(); ++i) {
      if (auto d = first_difference(expected[i], actual[i], path + "[" + std::to_string(i) + "]")) {
        return d;
      }
    }
    return std::nullopt;
  }
  if (expected != actual) return path + " is " + actual.dump() + ", expected " + expected.dump();
  return std::nullopt;
}

// A namespace of its own, the CRD installed and served, and an admin client.
class CrdTest : public ::testing::Test {
 protected:
  void SetUp() override {
    client_ = std::make_unique<kube::RestClient>(testenv::admin_client());
    ASSERT_NO_THROW(testenv::apply_crd_and_wait_established(*client_));
    ns_ = std::make_unique<testenv::ScopedNamespace>(*client_, "crd-test");
  }
  void TearDown() override {
    ns_.reset();  // before the client it uses
  }

  const std::string& ns() const { return ns_->name(); }
  kube::RestClient& api() { return *client_; }

  // POST, as `kubectl create` does; fields the schema does not know are an
  // error rather than silently pruned, so a typo in a manifest cannot pass.
  kube::Response create(const json& manifest) {
    return api().request(kube::Method::Post, pipelines_path(ns()) + "?fieldValidation=Strict",
                         &manifest);
  }
  kube::Response create_example(const std::string& file) {
    return create(testenv::read_manifest(testenv::source_path("crds/examples/" + file)));
  }
  kube::Response get(const std::string& name, const std::string& subresource = "") {
    return api().get(pipeline_path(ns(), name, subresource));
  }
  kube::Response merge_patch(const std::string& name, const json& patch,
                             const std::string& subresource = "") {
    return api().request(kube::Method::Patch, pipeline_path(ns(), name, subresource), &patch,
                         "application/merge-patch+json");
  }
  kube::Response update(const std::string& name, const json& object,
                        const std::string& subresource = "") {
    return api().request(kube::Method::Put, pipeline_path(ns(), name, subresource), &object);
  }

 private:
  std::unique_ptr<kube::RestClient> client_;
  std::unique_ptr<testenv::ScopedNamespace> ns_;
};

// The API server's error message (a metav1.Status) contains `expected`.
::testing::AssertionResult MessageContains(const kube::Response& response,
                                           const std::string& expected) {
  const auto message =
      response.body.is_object() ? response.body.value("message", "") : std::string();
  if (message.find(expected) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "\n  expected a message containing: " << expected
                                       << "\n  the API server said:             " << message;
}

}  // namespace

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

// ---------------------------------------------------------------------------
// Invalid manifests in tests/integration/crds/invalid/: one mistake each,
// rejected by the API server with the message the file's `# expect:` names.

std::vector<std::string> invalid_manifests() {
  return yaml_files_in("tests/integration/crds/invalid");
}

TEST(CrdInvalidManifests, CoverEveryMistakeTheCrdMustCatch) {
  std::set<std::string> present;
  for (const auto& file : invalid_manifests()) present.insert(stem(file));
  for (const char* required : {
           "duplicate-topic-names", "partitions-zero", "replication-factor-zero",
           "topic-name-invalid", "sasl-without-secret-ref", "sasl-unknown-mechanism",
           "default-topic-not-declared", "dead-letter-topic-in-topics",
           "breaker-minimum-calls-over-window", "backoff-max-below-initial",
           "bootstrap-server-without-port", "outbox-table-not-identifier",
           "alert-for-not-duration", "topic-deletion-policy-unknown", "outbox-missing"}) {
    EXPECT_TRUE(present.count(required)) << "missing tests/integration/crds/invalid/" << required
                                         << ".yaml";
  }
}

TEST(CrdInvalidManifests, EachNamesTheMessageItExpects) {
  const auto files = invalid_manifests();
  ASSERT_FALSE(files.empty());
  for (const auto& file : files) {
    const auto expect = expected_message(testenv::read_text(file));
    EXPECT_TRUE(expect && !expect->empty())
        << file << " needs a leading comment `# expect: <part of the API server's message>`";
    EXPECT_NO_THROW(testenv::read_manifest(file)) << file;
  }
}

class CrdInvalidManifest : public CrdTest, public ::testing::WithParamInterface<std::string> {};

TEST_P(CrdInvalidManifest, IsRejectedWithTheExpectedMessage) {
  const auto& file = GetParam();
  SCOPED_TRACE(file);
  const auto expect = expected_message(testenv::read_text(file));
  ASSERT_TRUE(expect) << file << " has no `# expect:` line";

  const auto created = create(testenv::read_manifest(file));
  ASSERT_EQ(created.status, 422) << file << " was not rejected as invalid: " << created.text;
  EXPECT_EQ(created.body["reason"], "Invalid") << created.text;
  EXPECT_TRUE(MessageContains(created, *expect)) << "\n  in " << file;
}

INSTANTIATE_TEST_SUITE_P(Crd, CrdInvalidManifest, ::testing::ValuesIn(invalid_manifests()),
                         named_after_the_file);

// ---------------------------------------------------------------------------
// spec.deadLetter.topic is immutable; everything else may change.

class CrdImmutability : public CrdTest {
 protected:
  void SetUp() override {
    CrdTest::SetUp();
    if (HasFatalFailure()) return;
    const auto created = create_example("dead-letter-alerts.yaml");
    ASSERT_EQ(created.status, 201) << created.text;
  }
  static constexpr const char* kName = "shipping";
  static constexpr const char* kImmutable = "spec.deadLetter.topic is immutable";
};

TEST_F(CrdImmutability, DeadLetterTopicCannotChangeByMergePatch) {
  const auto patched =
      merge_patch(kName, {{"spec", {{"deadLetter", {{"topic", "shipping.dispatched.dead"}}}}}});
  ASSERT_EQ(patched.status, 422) << patched.text;
  EXPECT_TRUE(MessageContains(patched, kImmutable));

  const auto read = get(kName);
  EXPECT_EQ(read.body["spec"]["deadLetter"]["topic"], "shipping.dispatched.dlq");
  EXPECT_EQ(read.body["metadata"]["generation"], 1);
}

TEST_F(CrdImmutability, DeadLetterTopicCannotChangeByUpdate) {
  auto object = get(kName).body;
  object["spec"]["deadLetter"]["topic"] = "shipping.dispatched.dead";
  const auto updated = update(kName, object);
  ASSERT_EQ(updated.status, 422) << updated.text;
  EXPECT_TRUE(MessageContains(updated, kImmutable));
}

TEST_F(CrdImmutability, OtherFieldsCanChange) {
  // The rest of the dead-letter block, topics, agents: all by merge patch...
  const json patch = {
      {"spec",
       {{"deadLetter", {{"maxAttempts", 8}, {"partitions", 6}, {"backoff", {{"maxMs", 900000}}}}},
        {"topics", json::array({{{"name", "shipping.dispatched"}, {"partitions", 12}, {"replicationFactor", 3}}})},
        {"agent", {{"replicas", 4}}},
        {"paused", true}}}};
  const auto patched = merge_patch(kName, patch);
  ASSERT_EQ(patched.status, 200) << patched.text;
  EXPECT_EQ(patched.body["metadata"]["generation"], 2);
  EXPECT_EQ(patched.body["spec"]["deadLetter"]["maxAttempts"], 8);
  EXPECT_EQ(patched.body["spec"]["deadLetter"]["backoff"]["maxMs"], 900000);
  EXPECT_EQ(patched.body["spec"]["topics"][0]["partitions"], 12);
  EXPECT_EQ(patched.body["spec"]["agent"]["replicas"], 4);

  // ...and by a full update that keeps the topic as it is.
  auto object = patched.body;
  object["spec"]["topicDeletionPolicy"] = "Retain";
  object["spec"]["deadLetter"]["topic"] = "shipping.dispatched.dlq";
  const auto updated = update(kName, object);
  ASSERT_EQ(updated.status, 200) << updated.text;
  EXPECT_EQ(updated.body["metadata"]["generation"], 3);
  EXPECT_EQ(updated.body["spec"]["topicDeletionPolicy"], "Retain");
}

TEST_F(CrdImmutability, DeadLetterCanBeAddedToAPipelineWithoutOne) {
  ASSERT_EQ(create_example("minimal.yaml").status, 201);
  const auto patched =
      merge_patch("orders", {{"spec", {{"deadLetter", {{"topic", "shop.orders.dlq"}}}}}});
  ASSERT_EQ(patched.status, 200) << patched.text;
  EXPECT_EQ(patched.body["spec"]["deadLetter"]["topic"], "shop.orders.dlq");
}

// ---------------------------------------------------------------------------
// status is a subresource: written through /status only, validated, and
// status.agents is a map keyed by pod whose entries the agents own one each.

class CrdStatusSubresource : public CrdTest {
 protected:
  void SetUp() override {
    CrdTest::SetUp();
    if (HasFatalFailure()) return;
    const auto created = create_example("minimal.yaml");
    ASSERT_EQ(created.status, 201) << created.text;
  }

  static json agent(const std::string& pod, const std::string& breaker) {
    return {{"pod", pod},
            {"breaker", breaker},
            {"since", "2026-01-02T03:04:05Z"},
            {"outboxBacklog", 17},
            {"oldestPendingAgeSeconds", 4},
            {"publishedTotal", 12345},
            {"dlqPending", 0},
            {"parkedTotal", 0},
            {"heartbeatTime", "2026-01-02T03:05:00Z"}};
  }

  // What an agent's status reporter sends: a server-side apply of its own entry.
  kube::Response apply_agent_entry(const json& entry) {
    const json body = {{"apiVersion", kApiVersion},
                       {"kind", "EventPipeline"},
                       {"metadata", {{"name", kName}}},
                       {"status", {{"agents", json::array({entry})}}}};
    return api().request(kube::Method::Patch,
                         pipeline_path(ns(), kName, "status") +
                             "?fieldManager=outflow-agent%2F" + entry["pod"].get<std::string>(),
                         &body, "application/apply-patch+yaml");
  }

  static constexpr const char* kName = "orders";
};

TEST_F(CrdStatusSubresource, MergePatchOfStatusIsAccepted) {
  const json status = {{"status",
                        {{"agents", json::array({agent("orders-agent-0", "Closed")})},
                         {"summary", {{"topics", "1/1"}, {"agents", "1/2"}, {"breakers", "1 closed"}}}}}};
  const auto patched = merge_patch(kName, status, "status");
  ASSERT_EQ(patched.status, 200) << patched.text;
  EXPECT_EQ(patched.body["status"]["agents"], json::array({agent("orders-agent-0", "Closed")}));

  const auto read = get(kName);
  EXPECT_EQ(read.body["status"]["agents"][0]["pod"], "orders-agent-0");
  EXPECT_EQ(read.body["status"]["summary"]["agents"], "1/2");
  EXPECT_EQ(read.body["metadata"]["generation"], 1) << "a status write is not a spec change";
}

TEST_F(CrdStatusSubresource, StatusInAMainResourceWriteIsIgnored) {
  ASSERT_EQ(merge_patch(kName, {{"status", {{"agents", json::array({agent("orders-agent-0", "Closed")})}}}},
                        "status")
                .status,
            200);

  // A full update of the object with a different status...
  auto object = get(kName).body;
  object["status"]["agents"] = json::array({agent("intruder", "Open")});
  const auto updated = update(kName, object);
  ASSERT_EQ(updated.status, 200) << updated.text;
  EXPECT_EQ(updated.body["status"]["agents"], json::array({agent("orders-agent-0", "Closed")}));

  // ...or a merge patch of the main resource leaves status alone.
  const auto patched = merge_patch(kName, {{"status", {{"agents", json::array({agent("intruder", "Open")})}}}});
  ASSERT_EQ(patched.status, 200) << patched.text;
  EXPECT_EQ(patched.body["status"]["agents"], json::array({agent("orders-agent-0", "Closed")}));

  const auto read = get(kName);
  EXPECT_EQ(read.body["status"]["agents"], json::array({agent("orders-agent-0", "Closed")}));
  EXPECT_EQ(read.body["metadata"]["generation"], 1);

  // A create does not take a status either.
  auto manifest = testenv::read_manifest(testenv::source_path("crds/examples/minimal.yaml"));
  manifest["metadata"]["name"] = "with-status";
  manifest["status"] = {{"agents", json::array({agent("intruder", "Open")})}};
  const auto created = create(manifest);
  ASSERT_EQ(created.status, 201) << created.text;
  EXPECT_FALSE(created.body.contains("status") && created.body["status"].contains("agents"))
      << created.body.dump();
}

TEST_F(CrdStatusSubresource, StatusWriteCannotChangeSpec) {
  const auto patched = merge_patch(
      kName,
      {{"spec", {{"paused", true}}}, {"status", {{"agents", json::array({agent("orders-agent-0", "Closed")})}}}},
      "status");
  ASSERT_EQ(patched.status, 200) << patched.text;
  EXPECT_EQ(patched.body["spec"]["paused"], false);
  EXPECT_EQ(patched.body["status"]["agents"][0]["pod"], "orders-agent-0");
}

TEST_F(CrdStatusSubresource, StatusIsValidatedAgainstItsSchema) {
  const auto patched =
      merge_patch(kName, {{"status", {{"agents", json::array({agent("orders-agent-0", "Broken")})}}}}, "status");
  ASSERT_EQ(patched.status, 422) << patched.text;
  EXPECT_TRUE(MessageContains(patched, "status.agents[0].breaker: Unsupported value: \"Broken\""));
}

TEST_F(CrdStatusSubresource, EachAgentServerSideAppliesItsOwnEntry) {
  // No force: two agents' entries never conflict, because agents is a map keyed by pod.
  auto a = apply_agent_entry(agent("orders-agent-a", "Closed"));
  ASSERT_EQ(a.status, 200) << a.text;
  auto b = apply_agent_entry(agent("orders-agent-b", "Closed"));
  ASSERT_EQ(b.status, 200) << b.text;
  EXPECT_EQ(b.body["status"]["agents"].size(), 2u) << b.body["status"].dump();

  // Agent a's breaker opens: its apply changes its entry and leaves b's alone.
  a = apply_agent_entry(agent("orders-agent-a", "Open"));
  ASSERT_EQ(a.status, 200) << a.text;

  const auto read = get(kName);
  std::map<std::string, std::string> breakers;
  for (const auto& entry : read.body["status"]["agents"]) {
    breakers[entry["pod"].get<std::string>()] = entry["breaker"].get<std::string>();
  }
  EXPECT_EQ(breakers, (std::map<std::string, std::string>{{"orders-agent-a", "Open"},
                                                          {"orders-agent-b", "Closed"}}));

  std::set<std::string> managers;
  for (const auto& m : read.body["metadata"]["managedFields"]) {
    if (m.value("subresource", "") == "status") managers.insert(m["manager"].get<std::string>());
  }
  EXPECT_TRUE(managers.count("outflow-agent/orders-agent-a")) << read.body["metadata"].dump();
  EXPECT_TRUE(managers.count("outflow-agent/orders-agent-b")) << read.body["metadata"].dump();
}
