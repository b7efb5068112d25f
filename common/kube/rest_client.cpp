#include "common/kube/rest_client.h"

#include "common/openssl_init.h"
#include "outflow/version.h"

#include <boost/asio/ssl.hpp>
#include <cpprest/http_client.h>
#include <fmt/format.h>

namespace outflow::kube {
namespace {

web::http::method to_cpprest(Method m) {
  switch (m) {
    case Method::Get: return web::http::methods::GET;
    case Method::Post: return web::http::methods::POST;
    case Method::Put: return web::http::methods::PUT;
    case Method::Patch: return web::http::methods::PATCH;
    case Method::Delete: return web::http::methods::DEL;
  }
  return web::http::methods::GET;
}

web::http::client::http_client_config make_config(const ClusterEndpoint& ep,
                                                  std::chrono::seconds timeout) {
  web::http::client::http_client_config config;
  config.set_timeout(std::chrono::duration_cast<std::chrono::microseconds>(timeout));
  config.set_validate_certificates(true);
  // Copies, because the callback runs whenever cpprestsdk opens a connection.
  config.set_ssl_context_callback(
      [ca = ep.ca_pem, cert = ep.client_cert_pem, key = ep.client_key_pem](
          boost::asio::ssl::context& ctx) {
        if (!ca.empty()) ctx.add_certificate_authority(boost::asio::buffer(ca));
        if (!cert.empty() && !key.empty()) {
          ctx.use_certificate_chain(boost::asio::buffer(cert));
          ctx.use_private_key(boost::asio::buffer(key), boost::asio::ssl::context::pem);
        }
      });
  return config;
}

}  // namespace

struct RestClient::Impl {
  web::http::client::http_client client;
  Impl(const ClusterEndpoint& ep, std::chrono::seconds timeout)
      : client(web::uri(ep.server), make_config(ep, timeout)) {}
};

RestClient::RestClient(ClusterEndpoint endpoint, std::chrono::seconds timeout)
    : endpoint_(std::move(endpoint)) {
  init_openssl();  // before cpprestsdk creates its thread pool; see openssl_init.h
  try {
    impl_ = std::make_unique<Impl>(endpoint_, timeout);
  } catch (const std::exception& e) {
    throw ConfigError(fmt::format("API server URL \"{}\": {}", endpoint_.server, e.what()));
  }
}

RestClient::~RestClient() = default;
RestClient::RestClient(RestClient&&) noexcept = default;
RestClient& RestClient::operator=(RestClient&&) noexcept = default;

Response RestClient::request(Method method, std::string_view path, const nlohmann::json* body,
                             std::string_view content_type) {
  web::http::http_request req(to_cpprest(method));
  req.set_request_uri(web::uri(std::string(path)));
  req.headers().add("Accept", "application/json");
  // The API server names the field manager of a write without one after the
  // User-Agent; without this it would be "cpprestsdk", and later applies by
  // outflow-operator would conflict with that stranger.
  req.headers().add("User-Agent", std::string("outflow/") + kVersion);
  if (!endpoint_.bearer_token.empty()) {
    req.headers().add("Authorization", "Bearer " + endpoint_.bearer_token);
  }
  if (body != nullptr) {
    req.set_body(body->dump(), std::string(content_type));
  }
  Response out;
  try {
    auto resp = impl_->client.request(req).get();
    out.status = resp.status_code();
    out.text = resp.extract_utf8string(true).get();
  } catch (const std::exception& e) {
    throw TransportError(fmt::format("{} {}{}: {}", req.method(), endpoint_.server, path, e.what()));
  }
  if (!out.text.empty()) {
    out.body = nlohmann::json::parse(out.text, nullptr, /*allow_exceptions=*/false);
    if (out.body.is_discarded()) out.body = nullptr;
  }
  return out;
}

}  // namespace outflow::kube
