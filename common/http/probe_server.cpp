#include "common/http/probe_server.h"

#include "common/flags.h"

#include <civetweb.h>
#include <fmt/format.h>
#include <prometheus/text_serializer.h>
#include <spdlog/spdlog.h>

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>

#include <array>
#include <mutex>
#include <stdexcept>
#include <string_view>
#include <vector>

namespace outflow::http {

namespace {

// Probes and scrapes are short and rare; a few threads are plenty, and each
// one is a thread (and stack) in every pod.
constexpr const char* kThreads = "4";
// A client that stops sending frees its thread after this long.
constexpr const char* kRequestTimeoutMs = "10000";

constexpr std::string_view kTextPlain = "text/plain; charset=utf-8";
constexpr std::string_view kPrometheusText = "text/plain; version=0.0.4; charset=utf-8";

// civetweb keeps a library-wide reference count; each server holds one
// reference for its lifetime. Its first initialisation is not thread-safe, so
// servers are to be constructed from one thread (main), as binaries do.
class CivetwebLibrary {
 public:
  CivetwebLibrary() {
    // Feature 0: no TLS, so civetweb leaves OpenSSL's global state alone.
    (void)mg_init_library(0);
  }
  ~CivetwebLibrary() { (void)mg_exit_library(); }
  CivetwebLibrary(const CivetwebLibrary&) = delete;
  CivetwebLibrary& operator=(const CivetwebLibrary&) = delete;
};

struct ContextStopper {
  void operator()(mg_context* context) const noexcept {
    if (context != nullptr) mg_stop(context);  // joins civetweb's threads
  }
};
using ContextHandle = std::unique_ptr<mg_context, ContextStopper>;

// civetweb takes only numeric IPv4 addresses (Debian builds it without IPv6),
// so a host name from the flag is resolved here. Empty host: all interfaces.
std::string civetweb_port_spec(const std::string& listen) {
  const auto address = flags::parse_listen_address(listen);
  if (!address) {
    throw std::runtime_error(fmt::format("cannot listen on \"{}\": not host:port", listen));
  }
  if (address->host.empty()) return std::to_string(address->port);
  in_addr numeric{};
  if (inet_pton(AF_INET, address->host.c_str(), &numeric) == 1) {
    return fmt::format("{}:{}", address->host, address->port);
  }
  addrinfo hints{};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (int rc = getaddrinfo(address->host.c_str(), nullptr, &hints, &found); rc != 0) {
    throw std::runtime_error(fmt::format("cannot listen on \"{}\": cannot resolve {}: {}", listen,
                                         address->host, gai_strerror(rc)));
  }
  const std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> owned(found, &freeaddrinfo);
  std::array<char, INET_ADDRSTRLEN> text{};
  const auto* ipv4 = reinterpret_cast<const sockaddr_in*>(owned->ai_addr);
  inet_ntop(AF_INET, &ipv4->sin_addr, text.data(), text.size());
  return fmt::format("{}:{}", text.data(), address->port);
}

void respond(mg_connection* connection, int status, std::string_view content_type,
             std::string_view body, bool head) {
  const char* reason = mg_get_response_code_text(connection, status);
  std::string response = fmt::format(
      "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nCache-Control: no-store\r\n",
      status, reason != nullptr ? reason : "", content_type, body.size());
  if (status == 405) response += "Allow: GET, HEAD\r\n";
  response += "Connection: close\r\n\r\n";
  // HEAD: the headers GET would send, with the length of the body it would send.
  if (!head) response += body;
  mg_write(connection, response.data(), response.size());
}

}  // namespace

struct Server::Impl {
  explicit Impl(Endpoints e) : endpoints(std::move(e)) {}

  // Runs on civetweb's threads; every request ends here.
  int handle(mg_connection* connection) {
    const mg_request_info* request = mg_get_request_info(connection);
    const std::string_view method = request->request_method ? request->request_method : "";
    const std::string_view path = request->local_uri ? request->local_uri : "";
    const bool head = method == "HEAD";
    const bool allowed = head || method == "GET";

    const auto probe = endpoints.probes.find(std::string(path));
    const bool metrics = path == "/metrics" && endpoints.metrics != nullptr;
    if (probe == endpoints.probes.end() && !metrics) {
      respond(connection, 404, kTextPlain, "not found\n", head);
      return 404;
    }
    if (!allowed) {
      respond(connection, 405, kTextPlain, "method not allowed\n", head);
      return 405;
    }
    if (metrics) return serve_metrics(connection, head);
    return serve_probe(connection, probe->second, head);
  }

  int serve_probe(mg_connection* connection, const Check& check, bool head) {
    std::optional<std::string> problem;
    // An exception must not cross into civetweb's C code; a check that throws
    // is a failing check, and its message says why.
    try {
      problem = check ? check() : std::nullopt;
    } catch (const std::exception& e) {
      problem = fmt::format("check failed: {}", e.what());
    } catch (...) {
      problem = "check failed";
    }
    if (!problem) {
      respond(connection, 200, kTextPlain, "ok", head);
      return 200;
    }
    respond(connection, 503, kTextPlain, *problem, head);
    return 503;
  }

  int serve_metrics(mg_connection* connection, bool head) {
    std::string body;
    try {
      body = prometheus::TextSerializer().Serialize(endpoints.metrics->Collect());
    } catch (const std::exception& e) {
      respond(connection, 500, kTextPlain, fmt::format("collecting metrics failed: {}", e.what()),
              head);
      return 500;
    }
    respond(connection, 200, kPrometheusText, body, head);
    return 200;
  }

  // civetweb reports why it cannot listen (with errno) only through its log;
  // while starting, those lines are kept for the exception.
  void log(const char* message) {
    std::lock_guard lock(log_mutex);
    if (starting) {
      startup_log.emplace_back(message);
    } else {
      spdlog::debug("probe server: {}", message);
    }
  }

  Endpoints endpoints;
  std::mutex log_mutex;
  bool starting = true;
  std::vector<std::string> startup_log;
  int port = 0;
  CivetwebLibrary library;
  // Last, so it is destroyed first: mg_stop joins the threads that use the
  // members above.
  ContextHandle context;
};

Server::Server(const std::string& listen, Endpoints endpoints)
    : impl_(std::make_unique<Impl>(std::move(endpoints))) {
  const std::string ports = civetweb_port_spec(listen);
  // Not const: civetweb takes `const char**`.
  std::array<const char*, 9> options = {
      "listening_ports",    ports.c_str(),
      "num_threads",        kThreads,
      "request_timeout_ms", kRequestTimeoutMs,
      "enable_keep_alive",  "no",
      nullptr,
  };
  mg_callbacks callbacks{};
  callbacks.begin_request = [](mg_connection* connection) {
    auto* impl = static_cast<Impl*>(mg_get_user_data(mg_get_context(connection)));
    return impl->handle(connection);
  };
  callbacks.log_message = [](const mg_connection* connection, const char* message) {
    auto* impl = static_cast<Impl*>(mg_get_user_data(mg_get_context(connection)));
    if (impl != nullptr) impl->log(message);
    return 1;  // handled: civetweb writes nothing itself
  };
  mg_init_data init{};
  init.callbacks = &callbacks;
  init.user_data = impl_.get();
  init.configuration_options = options.data();
  std::array<char, 256> error_text{};
  mg_error_data error{};
  error.text = error_text.data();
  error.text_buffer_size = error_text.size();

  impl_->context.reset(mg_start2(&init, &error));
  {
    std::lock_guard lock(impl_->log_mutex);
    impl_->starting = false;
  }
  if (!impl_->context) {
    std::string why = error_text.data();
    for (const auto& line : impl_->startup_log) why += fmt::format("; {}", line);
    throw std::runtime_error(fmt::format("cannot listen on \"{}\": {}", listen, why));
  }
  std::array<mg_server_port, 1> bound{};
  if (mg_get_server_ports(impl_->context.get(), static_cast<int>(bound.size()), bound.data()) < 1) {
    throw std::runtime_error(fmt::format("cannot listen on \"{}\": no port bound", listen));
  }
  impl_->port = bound[0].port;
}

Server::~Server() = default;

int Server::port() const { return impl_->port; }

}  // namespace outflow::http
