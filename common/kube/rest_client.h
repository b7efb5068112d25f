#pragma once

// A small, synchronous HTTPS client for the Kubernetes API. cpprestsdk (and
// Boost.Asio under it) stay inside rest_client.cpp so that including this
// header costs nothing.

#include "common/kube/cluster_endpoint.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

namespace outflow::kube {

inline constexpr std::string_view kJsonMediaType = "application/json";
// What to accept for a list or a watch when only metadata matters: the API
// server answers with PartialObjectMetadata (name, namespace, labels,
// versions, owners...) and leaves out spec, status and a Secret's data, so
// they never cross the wire or pass through our parser. No fallback to full
// objects: a server that cannot do this (none since 1.15) fails loudly.
inline constexpr std::string_view kMetadataListMediaType =
    "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1";
inline constexpr std::string_view kMetadataMediaType =
    "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1";

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

// Lets one thread end another's stream_lines() promptly: cancel() closes the
// open connection, so a read blocked on a quiet watch returns at once instead
// of after the next event or the idle timeout. Copies share one state. Once
// cancelled it stays cancelled: a later stream_lines() with it returns at once,
// which closes the race between "stop requested" and "next request started".
class StreamCancel {
 public:
  StreamCancel();
  ~StreamCancel();
  StreamCancel(const StreamCancel&);
  StreamCancel& operator=(const StreamCancel&);

  void cancel();  // thread-safe, idempotent
  bool cancelled() const;

 private:
  friend class RestClient;
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

// How a stream_lines() call ended.
struct StreamResult {
  // For a 2xx answer only the status: the body went to on_line, line by line.
  // For any other answer the whole body, parsed as request() does, and no line
  // was passed on (an error body is a Status, not a stream).
  Response response;
  // The StreamCancel fired. response.status is 0 when no answer had come yet.
  bool cancelled = false;
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
  // `accept` is the media type asked for (see kMetadataListMediaType).
  Response request(Method method, std::string_view path, const nlohmann::json* body = nullptr,
                   std::string_view content_type = "application/json",
                   std::string_view accept = kJsonMediaType);

  Response get(std::string_view path) { return request(Method::Get, path); }
  Response post(std::string_view path, const nlohmann::json& body) {
    return request(Method::Post, path, &body);
  }
  Response del(std::string_view path) { return request(Method::Delete, path); }

  // Called with each line of a streamed body, without its line break, as soon
  // as the line has arrived. Returning false closes the stream early.
  using LineHandler = std::function<bool(std::string_view line)>;

  // GET `path` and hand a 2xx body to `on_line` line by line as it arrives: a
  // watch. Returns when the server ends the body, on_line returns false, or
  // `cancel` fires. `idle_timeout` replaces the client's timeout for this
  // request and bounds the silence between two chunks (cpprestsdk restarts the
  // timer on every read), so it must exceed the longest quiet stretch the
  // server may leave, e.g. a watch's timeoutSeconds. Runs on its own
  // connection, so a long stream never holds up request() calls. Throws
  // TransportError when the connection fails or times out (not on cancel);
  // exceptions from on_line propagate after the stream has been closed.
  StreamResult stream_lines(std::string_view path, const LineHandler& on_line,
                            const StreamCancel& cancel, std::chrono::seconds idle_timeout,
                            std::string_view accept = kJsonMediaType);

  const ClusterEndpoint& endpoint() const { return endpoint_; }

 private:
  struct Impl;
  ClusterEndpoint endpoint_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace outflow::kube
