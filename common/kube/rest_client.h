#pragma once

// A small, synchronous HTTPS client for the Kubernetes API. cpprestsdk (and
// Boost.Asio under it) stay inside rest_client.cpp so that including this
// header costs nothing.

#include "common/kube/cluster_endpoint.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

namespace outflow::kube {

// The request never got an HTTP answer (DNS, TCP, TLS, timeout).
class TransportError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class Method { Get, Post, Put, Patch, Delete };

struct Response {
  int status = 0;
  nlohmann::json body;  // parsed JSON, or null when the body was empty or not JSON
  std::string text;     // raw body

  bool ok() const { return status >= 200 && status < 300; }
};

class RestClient {
 public:
  explicit RestClient(ClusterEndpoint endpoint,
                      std::chrono::seconds timeout = std::chrono::seconds(30));
  ~RestClient();
  RestClient(RestClient&&) noexcept;
  RestClient& operator=(RestClient&&) noexcept;
  RestClient(const RestClient&) = delete;
  RestClient& operator=(const RestClient&) = delete;

  // `path` is everything after the server URL, e.g. "/api/v1/namespaces?limit=5".
  Response request(Method method, std::string_view path, const nlohmann::json* body = nullptr,
                   std::string_view content_type = "application/json");

  Response get(std::string_view path) { return request(Method::Get, path); }
  Response post(std::string_view path, const nlohmann::json& body) {
    return request(Method::Post, path, &body);
  }
  Response del(std::string_view path) { return request(Method::Delete, path); }

  const ClusterEndpoint& endpoint() const { return endpoint_; }

 private:
  struct Impl;
  ClusterEndpoint endpoint_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace outflow::kube
