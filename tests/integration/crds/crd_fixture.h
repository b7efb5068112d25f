#pragma once

// Shared by the CRD integration tests: paths, manifest files, the CrdTest
// fixture (admin client, CRD installed and served, a namespace of its own).

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

namespace outflow::crd_tests {

using nlohmann::json;

inline const std::string kApiVersion = "outflow.dev/v1alpha1";
inline const std::string kCrdPath =
    "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/" + std::string(testenv::kCrdName);

inline std::string pipelines_path(const std::string& ns) {
  return "/apis/outflow.dev/v1alpha1/namespaces/" + ns + "/eventpipelines";
}

inline std::string pipeline_path(const std::string& ns, const std::string& name,
                          const std::string& subresource = "") {
  return pipelines_path(ns) + "/" + name + (subresource.empty() ? "" : "/" + subresource);
}

// The .yaml files of a source directory, sorted, as absolute paths. Empty when
// the directory is missing: the coverage tests below then fail by name.
inline std::vector<std::string> yaml_files_in(std::string_view relative_dir) {
  std::vector<std::string> files;
  std::error_code error;
  for (std::filesystem::directory_iterator it(testenv::source_path(relative_dir), error), end;
       !error && it != end; it.increment(error)) {
    if (it->path().extension() == ".yaml") files.push_back(it->path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

inline std::string stem(const std::string& path) { return std::filesystem::path(path).stem().string(); }

// "dead-letter-topic-in-topics.yaml" -> "dead_letter_topic_in_topics": the test's name.
inline std::string named_after_the_file(const ::testing::TestParamInfo<std::string>& param) {
  auto name = stem(param.param);
  for (auto& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return name;
}

// The text after "# expect:" in the manifest's leading comment block; nullopt
// when that block has no such line.
inline std::optional<std::string> expected_message(const std::string& text) {
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
inline std::optional<std::string> first_difference(const json& expected, const json& actual,
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
inline ::testing::AssertionResult MessageContains(const kube::Response& response,
                                           const std::string& expected) {
  const auto message =
      response.body.is_object() ? response.body.value("message", "") : std::string();
  if (message.find(expected) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "\n  expected a message containing: " << expected
                                       << "\n  the API server said:             " << message;
}

}  // namespace outflow::crd_tests
