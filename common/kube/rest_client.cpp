#include "common/kube/rest_client.h"

#include "common/openssl_init.h"
#include "outflow/version.h"

#include <boost/asio/ssl.hpp>
#include <cpprest/containerstream.h>
#include <cpprest/http_client.h>
#include <fmt/format.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cctype>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <mutex>
#include <vector>

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
        if (!ca.empty()) {
          // cpprestsdk has already loaded the system trust store into this
          // context; a cluster that names its CA must be verified against that
          // CA alone, or any public CA could vouch for a fake API server.
          SSL_CTX_set_cert_store(ctx.native_handle(), X509_STORE_new());
          ctx.add_certificate_authority(boost::asio::buffer(ca));
        }
        if (!cert.empty() && !key.empty()) {
          ctx.use_certificate_chain(boost::asio::buffer(cert));
          ctx.use_private_key(boost::asio::buffer(key), boost::asio::ssl::context::pem);
        }
      });
  return config;
}

void parse_body(Response& out) {
  if (!out.text.empty()) {
    out.body = nlohmann::json::parse(out.text, nullptr, /*allow_exceptions=*/false);
    if (out.body.is_discarded()) out.body = nullptr;
  }
}

web::http::http_request make_request(const web::http::method& method, std::string_view path,
                                     const std::string& bearer_token, std::string_view accept) {
  web::http::http_request req(method);
  req.set_request_uri(web::uri(std::string(path)));
  req.headers().add("Accept", std::string(accept));
  // The API server names the field manager of a write without one after the
  // User-Agent; without this it would be "cpprestsdk", and later applies by
  // outflow-operator would conflict with that stranger.
  req.headers().add("User-Agent", std::string("outflow/") + kVersion);
  if (!bearer_token.empty()) {
    req.headers().add("Authorization", "Bearer " + bearer_token);
  }
  return req;
}

// The cancellation of one streamed request: cancelled when the caller's token
// is, and always on exit. Cancelling a request that already completed does
// nothing, so firing on every exit is harmless; it matters when a stream is
// left before its end (on_line said stop, or threw), whose connection would
// otherwise go on reading into a buffer nobody drains. Registers on the
// caller's long-lived token by hand, because pplx's create_linked_source never
// deregisters, which would leak a callback per watch.
class RequestCancel {
 public:
  explicit RequestCancel(const pplx::cancellation_token& parent)
      : parent_(parent),
        registration_(parent_.register_callback([source = source_] { source.cancel(); })) {}
  ~RequestCancel() {
    parent_.deregister_callback(registration_);
    source_.cancel();
  }
  RequestCancel(const RequestCancel&) = delete;
  RequestCancel& operator=(const RequestCancel&) = delete;

  pplx::cancellation_token token() const { return source_.get_token(); }

 private:
  pplx::cancellation_token parent_;
  pplx::cancellation_token_source source_;
  pplx::cancellation_token_registration registration_;
};

}  // namespace

struct StreamCancel::Impl {
  pplx::cancellation_token_source source;
};

StreamCancel::StreamCancel() : impl_(std::make_shared<Impl>()) {}
StreamCancel::~StreamCancel() = default;
StreamCancel::StreamCancel(const StreamCancel&) = default;
StreamCancel& StreamCancel::operator=(const StreamCancel&) = default;

void StreamCancel::cancel() { impl_->source.cancel(); }

bool StreamCancel::cancelled() const { return impl_->source.get_token().is_canceled(); }

struct RestClient::Impl {
  web::http::client::http_client client;
  std::mutex token_mu;
  std::string token;
  std::chrono::steady_clock::time_point token_read;

  Impl(const ClusterEndpoint& ep, std::chrono::seconds timeout)
      : client(web::uri(ep.server), make_config(ep, timeout)),
        token(ep.bearer_token),
        token_read(std::chrono::steady_clock::now()) {}

  // The token to send: from the token file, re-read every token_refresh (the
  // kubelet refreshes bound tokens well before they expire), else the fixed one.
  std::string current_token(const ClusterEndpoint& ep) {
    std::lock_guard lock(token_mu);
    const auto now = std::chrono::steady_clock::now();
    if (!ep.token_file.empty() && now - token_read >= ep.token_refresh) {
      token_read = now;
      std::ifstream in(ep.token_file);
      std::string fresh((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      while (!fresh.empty() && std::isspace(static_cast<unsigned char>(fresh.back()))) fresh.pop_back();
      // A file caught mid-rewrite (or gone) keeps the last good token.
      if (!fresh.empty()) token = std::move(fresh);
    }
    return token;
  }
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
                             std::string_view content_type, std::string_view accept) {
  web::http::http_request req =
      make_request(to_cpprest(method), path, impl_->current_token(endpoint_), accept);
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
  parse_body(out);
  return out;
}

StreamResult RestClient::stream_lines(std::string_view path, const LineHandler& on_line,
                                      const StreamCancel& cancel,
                                      std::chrono::seconds idle_timeout, std::string_view accept) {
  StreamResult result;
  if (cancel.cancelled()) {
    result.cancelled = true;
    return result;
  }
  // cpprestsdk sets the timeout per client, and a watch needs a far longer one
  // than a GET. A client per stream also keeps the stream's connection out of
  // the shared pool; one TLS handshake per watch is nothing next to its life.
  web::http::client::http_client client(web::uri(endpoint_.server),
                                        make_config(endpoint_, idle_timeout));
  const RequestCancel local(cancel.impl_->source.get_token());
  web::http::http_request req =
      make_request(web::http::methods::GET, path, impl_->current_token(endpoint_), accept);

  // Once the caller cancelled, whatever failed did so because the connection
  // was closed under it: that is the requested stop, not a transport error.
  const auto failed = [&](const std::exception& e) {
    if (cancel.cancelled()) {
      result.cancelled = true;
      return;
    }
    throw TransportError(fmt::format("GET {}{}: {}", endpoint_.server, path, e.what()));
  };

  web::http::http_response resp;
  try {
    resp = client.request(req, local.token()).get();
  } catch (const std::exception& e) {
    failed(e);
    return result;
  }
  result.response.status = resp.status_code();
  if (!result.response.ok()) {
    try {
      result.response.text = resp.extract_utf8string(true).get();
    } catch (const std::exception& e) {
      failed(e);
      return result;
    }
    parse_body(result.response);
    return result;
  }

  concurrency::streams::istream body = resp.body();
  for (;;) {
    concurrency::streams::container_buffer<std::vector<std::uint8_t>> line;
    std::size_t size = 0;
    try {
      size = body.read_line(line).get();
    } catch (const std::exception& e) {
      failed(e);
      return result;
    }
    // read_line answers 0 both for an empty line and at the end.
    if (size == 0 && body.is_eof()) break;
    const auto& bytes = line.collection();
    if (!on_line(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()))) {
      return result;
    }
  }
  // A cancel can surface as a plain end of the body instead of an error.
  result.cancelled = cancel.cancelled();
  return result;
}

}  // namespace outflow::kube
