#pragma once

// Fixtures shared by the ApiClient integration tests: an admin client with a
// namespace of the test's own, and a Widget CRD shaped like EventPipeline's
// status (an agents-like map list keyed by pod, conditions keyed by type).

#include "common/kube/api_client.h"
#include "kube_helpers.h"
#include "testenv.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace outflow::kube_tests {

using namespace std::chrono_literals;
using kube::ErrorKind;
using nlohmann::json;

// The ApiError `action` throws, or nullopt (and a test failure) when it throws
// none. Any other exception propagates and fails the test with its message.
inline std::optional<kube::ApiError> api_error_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const kube::ApiError& e) {
    return e;
  }
  ADD_FAILURE() << "expected an ApiError, but the request succeeded";
  return std::nullopt;
}

// Polls `condition` until it holds or `timeout` passes. For the API server's
// eventually-consistent corners only: a new CRD being served, a new RoleBinding
// reaching the RBAC authorizer's cache.
inline bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout = 30s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(50ms);
  }
  return true;
}

// Leaves out empty maps: an applied `labels: {}` makes its manager own the
// whole map (see AnAppliedEmptyMapIsOwnedWhole).
inline json config_map(const std::string& name, json data, json labels = json::object()) {
  json object = {{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", {{"name", name}}}};
  if (!labels.empty()) object["metadata"]["labels"] = std::move(labels);
  if (!data.empty()) object["data"] = std::move(data);
  return object;
}

inline std::string resource_version(const json& object) {
  return object.at("metadata").at("resourceVersion").get<std::string>();
}

inline std::vector<std::string> names_of(const json& list) {
  std::vector<std::string> names;
  for (const auto& item : list.at("items")) names.push_back(item["metadata"]["name"]);
  std::sort(names.begin(), names.end());
  return names;
}

inline kube::ClusterEndpoint unprivileged_endpoint() {
  return testenv::endpoint_with_token(testenv::require("OUTFLOW_TEST_KUBE_USER_TOKEN"));
}

// An admin client and a namespace of the test's own, deleted afterwards.
class KubeApiClient : public ::testing::Test {
 protected:
  void SetUp() override {
    rest_ = std::make_unique<kube::RestClient>(testenv::admin_client());
    api_ = std::make_unique<kube::ApiClient>(*rest_);
    ns_ = testenv::unique_name("outflow-api");
    api_->create(kube::kinds::namespaces(), "",
                 {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", ns_}}}});
  }

  void TearDown() override {
    if (!api_ || ns_.empty()) return;
    try {
      api_->remove(kube::kinds::namespaces(), "", ns_);
    } catch (const std::exception& e) {
      ADD_FAILURE() << "cleanup: " << e.what();
    }
  }

  kube::ApiClient& api() { return *api_; }

  std::unique_ptr<kube::RestClient> rest_;
  std::unique_ptr<kube::ApiClient> api_;
  std::string ns_;
};

// A namespace plus a Widget CRD in an API group of the test's own, with a
// status subresource shaped like EventPipeline's: status.entries is a map list
// keyed by `pod` (like status.agents), status.conditions one keyed by `type`.
class KubeApiClientWidgets : public KubeApiClient {
 protected:
  void SetUp() override {
    KubeApiClient::SetUp();
    group_ = testenv::unique_name("widgets") + ".test.outflow.dev";
    widgets_ = {group_, "v1", "widgets", true};
    crd_name_ = "widgets." + group_;
    api().create(kube::kinds::custom_resource_definitions(), "", widget_crd());
    // A new CRD is not usable at once, whatever its Established condition says:
    // first its resource may be unknown (404 without a name in it), then,
    // while the resource's watch cache fills, reads are refused with 429
    // "storage is (re)initializing" (retryAfterSeconds 1). A list that
    // succeeds is the one reliable sign.
    std::string last_refusal;
    ASSERT_TRUE(eventually([&] {
      try {
        api().list(widgets_, ns_);
        return true;
      } catch (const kube::ApiError& e) {
        if (e.kind() != ErrorKind::NotFound && !e.retryable()) throw;
        last_refusal = e.what();
        return false;
      }
    })) << crd_name_ << " never got served: " << last_refusal;
  }

  void TearDown() override {
    if (!crd_name_.empty()) {
      try {
        api().remove(kube::kinds::custom_resource_definitions(), "", crd_name_);
      } catch (const std::exception& e) {
        ADD_FAILURE() << "cleanup: " << e.what();
      }
    }
    KubeApiClient::TearDown();
  }

  json widget_crd() const {
    const json entry = {{"type", "object"},
                        {"required", {"pod"}},
                        {"properties",
                         {{"pod", {{"type", "string"}}},
                          {"breaker", {{"type", "string"}}},
                          {"backlog", {{"type", "integer"}}}}}};
    const json condition = {{"type", "object"},
                            {"required", {"type", "status"}},
                            {"properties",
                             {{"type", {{"type", "string"}}},
                              {"status", {{"type", "string"}}},
                              {"reason", {{"type", "string"}}}}}};
    const json schema = {
        {"type", "object"},
        {"properties",
         {{"spec", {{"type", "object"}, {"properties", {{"size", {{"type", "integer"}}}}}}},
          {"status",
           {{"type", "object"},
            {"properties",
             {{"entries",
               {{"type", "array"},
                {"x-kubernetes-list-type", "map"},
                {"x-kubernetes-list-map-keys", {"pod"}},
                {"items", entry}}},
              {"conditions",
               {{"type", "array"},
                {"x-kubernetes-list-type", "map"},
                {"x-kubernetes-list-map-keys", {"type"}},
                {"items", condition}}}}}}}}}};
    return {{"apiVersion", "apiextensions.k8s.io/v1"},
            {"kind", "CustomResourceDefinition"},
            {"metadata", {{"name", crd_name_}}},
            {"spec",
             {{"group", group_},
              {"scope", "Namespaced"},
              {"names",
               {{"plural", "widgets"},
                {"singular", "widget"},
                {"kind", "Widget"},
                {"listKind", "WidgetList"}}},
              {"versions",
               {{{"name", "v1"},
                 {"served", true},
                 {"storage", true},
                 {"subresources", {{"status", json::object()}}},
                 {"schema", {{"openAPIV3Schema", schema}}}}}}}}};
  }

  json widget(const std::string& name, int size) const {
    return {{"apiVersion", group_ + "/v1"},
            {"kind", "Widget"},
            {"metadata", {{"name", name}}},
            {"spec", {{"size", size}}}};
  }

  // The status an agent applies: only its own entry.
  json agent_status(const std::string& name, const std::string& pod, int backlog) const {
    return {{"apiVersion", group_ + "/v1"},
            {"kind", "Widget"},
            {"metadata", {{"name", name}}},
            {"status",
             {{"entries", {{{"pod", pod}, {"breaker", "Closed"}, {"backlog", backlog}}}}}}};
  }

  json operator_status(const std::string& name, const std::string& ready) const {
    return {{"apiVersion", group_ + "/v1"},
            {"kind", "Widget"},
            {"metadata", {{"name", name}}},
            {"status",
             {{"conditions", {{{"type", "Ready"}, {"status", ready}, {"reason", "Reconciled"}}}}}}};
  }

  static const json* entry_for(const json& object, const std::string& pod) {
    const auto status = object.find("status");
    if (status == object.end()) return nullptr;
    const auto entries = status->find("entries");
    if (entries == status->end()) return nullptr;
    for (const auto& e : *entries) {
      if (e.value("pod", "") == pod) return &e;
    }
    return nullptr;
  }

  std::string group_;
  kube::ResourceKind widgets_;
  std::string crd_name_;
};

using KubeApiClientApply = KubeApiClient;
using KubeApiClientStatus = KubeApiClientWidgets;
using KubeApiClientRbac = KubeApiClientWidgets;

}  // namespace outflow::kube_tests
