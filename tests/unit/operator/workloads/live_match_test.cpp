#include "operator/workloads/live_match.h"

#include <gtest/gtest.h>

using outflow::op::workloads::contains;
using nlohmann::json;

namespace {

// What the operator applies for a small Service.
json applied_service() {
  return {{"apiVersion", "v1"},
          {"kind", "Service"},
          {"metadata", {{"name", "orders-agent"}, {"namespace", "shop"}, {"labels", {{"app", "outflow"}}}}},
          {"spec", {{"selector", {{"app", "outflow"}}},
                    {"ports", json::array({{{"name", "metrics"}, {"port", 9090}}})}}}};
}

// The same Service as the API server returns it: defaults, status and
// server-set metadata added.
json live_service() {
  auto live = applied_service();
  live["metadata"]["uid"] = "0b5c1f0e";
  live["metadata"]["resourceVersion"] = "12345";
  live["metadata"]["managedFields"] = json::array({{{"manager", "outflow-operator"}}});
  live["spec"]["clusterIP"] = "10.96.0.17";
  live["spec"]["type"] = "ClusterIP";
  live["spec"]["ports"][0]["protocol"] = "TCP";
  live["spec"]["ports"][0]["targetPort"] = 9090;
  live["status"] = {{"loadBalancer", json::object()}};
  return live;
}

}  // namespace

TEST(LiveMatch, ALiveObjectWithServerDefaultsStillContainsWhatWasApplied) {
  EXPECT_TRUE(contains(live_service(), applied_service()));
}

TEST(LiveMatch, AnObjectContainsItself) {
  EXPECT_TRUE(contains(applied_service(), applied_service()));
}

TEST(LiveMatch, AChangedValueIsNotContained) {
  auto live = live_service();
  live["metadata"]["labels"]["app"] = "edited-by-hand";
  EXPECT_FALSE(contains(live, applied_service()));
}

TEST(LiveMatch, AFieldMissingFromTheLiveObjectIsNotContained) {
  auto live = live_service();
  live["metadata"]["labels"].erase("app");
  EXPECT_FALSE(contains(live, applied_service()));
  auto applied = applied_service();
  applied["metadata"]["annotations"] = {{"outflow.dev/checksum", "abc"}};
  EXPECT_FALSE(contains(live_service(), applied));
}

TEST(LiveMatch, ADifferenceDeepInsideAnArrayElementIsFound) {
  auto live = live_service();
  live["spec"]["ports"][0]["port"] = 9091;
  EXPECT_FALSE(contains(live, applied_service()));
}

TEST(LiveMatch, ArraysMustHaveTheSameLength) {
  auto longer = live_service();
  longer["spec"]["ports"].push_back({{"name", "extra"}, {"port", 1}});
  EXPECT_FALSE(contains(longer, applied_service()));

  auto shorter = live_service();
  shorter["spec"]["ports"] = json::array();
  EXPECT_FALSE(contains(shorter, applied_service()));
}

TEST(LiveMatch, ArraysAreComparedInOrder) {
  const json applied = {{"args", json::array({"--a", "--b"})}};
  EXPECT_TRUE(contains(json{{"args", json::array({"--a", "--b"})}}, applied));
  EXPECT_FALSE(contains(json{{"args", json::array({"--b", "--a"})}}, applied));
}

TEST(LiveMatch, ScalarsMustBeEqualIncludingTheirType) {
  EXPECT_TRUE(contains(json(3), json(3)));
  EXPECT_TRUE(contains(json("x"), json("x")));
  EXPECT_FALSE(contains(json(3), json("3")));
  EXPECT_FALSE(contains(json(true), json(1)));
  EXPECT_FALSE(contains(json(nullptr), json(false)));
}

TEST(LiveMatch, AnEquivalentSpellingIsStillADifference) {
  // The server reads "0.5" CPU back as "500m"; that costs one no-op apply.
  EXPECT_FALSE(contains(json{{"cpu", "500m"}}, json{{"cpu", "0.5"}}));
}

TEST(LiveMatch, AShapeMismatchIsNotContained) {
  EXPECT_FALSE(contains(json("text"), json{{"a", 1}}));
  EXPECT_FALSE(contains(json{{"a", 1}}, json::array({1})));
  EXPECT_FALSE(contains(json::array({1}), json{{"a", 1}}));
  EXPECT_FALSE(contains(json{{"a", {{"b", 1}}}}, json{{"a", 1}}));
  EXPECT_FALSE(contains(json{{"a", 1}}, json{{"a", {{"b", 1}}}}));
}

TEST(LiveMatch, AnEmptyObjectAsksForNothing) {
  EXPECT_TRUE(contains(live_service(), json::object()));
  EXPECT_FALSE(contains(json(nullptr), json::object()));
}

TEST(LiveMatch, AnEmptyArrayNeedsAnEmptyLiveArray) {
  // Applying [] clears the field, so a live list with entries differs.
  EXPECT_TRUE(contains(json{{"tolerations", json::array()}}, json{{"tolerations", json::array()}}));
  EXPECT_FALSE(contains(json{{"tolerations", json::array({{{"key", "x"}}})}},
                        json{{"tolerations", json::array()}}));
}

using outflow::op::workloads::without_immutable_changes;

TEST(ImmutableFields, AServiceWithAClusterAddressKeepsItRatherThanFailTheApply) {
  auto headless = applied_service();
  headless["spec"]["clusterIP"] = "None";
  const auto body = without_immutable_changes("services", headless, live_service());
  EXPECT_FALSE(body["spec"].contains("clusterIP")) << "the API server refuses to change spec.clusterIP in place";
  EXPECT_EQ(body["spec"]["ports"], headless["spec"]["ports"]) << "everything else is still applied";
  EXPECT_TRUE(contains(live_service(), body)) << "and then matches, so no apply is sent at every reconcile";
}

TEST(ImmutableFields, AHeadlessServiceStaysHeadless) {
  auto headless = applied_service();
  headless["spec"]["clusterIP"] = "None";
  auto live = live_service();
  live["spec"]["clusterIP"] = "None";
  EXPECT_EQ(without_immutable_changes("services", headless, live), headless);
}

TEST(ImmutableFields, AServiceNotCreatedYetIsAppliedAsDesired) {
  auto headless = applied_service();
  headless["spec"]["clusterIP"] = "None";
  EXPECT_EQ(without_immutable_changes("services", headless, json::object()), headless);
}

TEST(ImmutableFields, OtherKindsAreAppliedAsDesired) {
  json deployment = {{"spec", {{"clusterIP", "None"}, {"replicas", 2}}}};
  EXPECT_EQ(without_immutable_changes("deployments", deployment, live_service()), deployment);
}
