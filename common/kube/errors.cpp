#include "common/kube/errors.h"

#include <fmt/format.h>

#include <utility>

namespace outflow::kube {
namespace {

using nlohmann::json;

// A non-Status error body can be an HTML page from a proxy; keep logs readable.
constexpr std::size_t kMaxTextMessage = 512;

std::string string_at(const json& object, const char* key) {
  if (!object.is_object()) return {};
  const auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::string trimmed(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(" \t\r\n");
  text = text.substr(first, last - first + 1);
  if (text.size() > kMaxTextMessage) return std::string(text.substr(0, kMaxTextMessage)) + "...";
  return std::string(text);
}

std::string describe(const ErrorDetails& d, std::string_view request) {
  std::string text = fmt::format("{}: {}", to_string(d.kind),
                                 d.message.empty() ? "(no message)" : d.message);
  if (request.empty()) return fmt::format("{} (HTTP {})", text, d.http_status);
  return fmt::format("{} ({}, HTTP {})", text, request, d.http_status);
}

}  // namespace

std::string_view to_string(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::NotFound: return "NotFound";
    case ErrorKind::AlreadyExists: return "AlreadyExists";
    case ErrorKind::Conflict: return "Conflict";
    case ErrorKind::Forbidden: return "Forbidden";
    case ErrorKind::Unauthorized: return "Unauthorized";
    case ErrorKind::Invalid: return "Invalid";
    case ErrorKind::Gone: return "Gone";
    case ErrorKind::TooManyRequests: return "TooManyRequests";
    case ErrorKind::ServerError: return "ServerError";
    case ErrorKind::Other: return "Other";
  }
  return "Other";
}

ErrorKind classify(int http_status, std::string_view reason) {
  // The reason first: it is what the API server meant (metav1.StatusReason),
  // and it separates AlreadyExists from Conflict, which share 409.
  if (reason == "NotFound") return ErrorKind::NotFound;
  if (reason == "AlreadyExists") return ErrorKind::AlreadyExists;
  if (reason == "Conflict") return ErrorKind::Conflict;
  if (reason == "Forbidden") return ErrorKind::Forbidden;
  if (reason == "Unauthorized") return ErrorKind::Unauthorized;
  if (reason == "Invalid") return ErrorKind::Invalid;
  if (reason == "Gone" || reason == "Expired") return ErrorKind::Gone;
  if (reason == "TooManyRequests") return ErrorKind::TooManyRequests;
  if (reason == "InternalError" || reason == "ServiceUnavailable" || reason == "ServerTimeout" ||
      reason == "Timeout") {
    return ErrorKind::ServerError;
  }
  if (reason == "BadRequest" || reason == "MethodNotAllowed" || reason == "NotAcceptable" ||
      reason == "UnsupportedMediaType" || reason == "RequestEntityTooLarge") {
    return ErrorKind::Other;
  }
  switch (http_status) {
    case 401: return ErrorKind::Unauthorized;
    case 403: return ErrorKind::Forbidden;
    case 404: return ErrorKind::NotFound;
    case 409: return ErrorKind::Conflict;
    case 410: return ErrorKind::Gone;
    case 422: return ErrorKind::Invalid;
    case 429: return ErrorKind::TooManyRequests;
    default: break;
  }
  return http_status >= 500 && http_status <= 599 ? ErrorKind::ServerError : ErrorKind::Other;
}

ErrorDetails error_details(const Response& response) {
  if (response.ok()) {
    throw std::invalid_argument(
        fmt::format("error_details: HTTP {} is a success, not an error", response.status));
  }
  ErrorDetails d;
  d.http_status = response.status;
  const json& body = response.body;
  if (body.is_object() && string_at(body, "kind") == "Status") {
    d.reason = string_at(body, "reason");
    d.message = string_at(body, "message");
    const auto details = body.find("details");
    if (details != body.end() && details->is_object()) {
      d.details_kind = string_at(*details, "kind");
      d.details_name = string_at(*details, "name");
      const auto retry = details->find("retryAfterSeconds");
      if (retry != details->end() && retry->is_number_integer() && retry->get<long long>() > 0) {
        d.retry_after = std::chrono::seconds(retry->get<long long>());
      }
      const auto causes = details->find("causes");
      if (causes != details->end() && causes->is_array()) {
        for (const auto& cause : *causes) {
          d.causes.push_back(
              {string_at(cause, "reason"), string_at(cause, "field"), string_at(cause, "message")});
        }
      }
    }
  } else {
    d.message = trimmed(response.text);
  }
  d.kind = classify(d.http_status, d.reason);
  return d;
}

ApiError::ApiError(ErrorDetails details, std::string_view request)
    : std::runtime_error(describe(details, request)),
      details_(std::make_shared<const ErrorDetails>(std::move(details))) {}

bool ApiError::retryable() const {
  return kind() == ErrorKind::TooManyRequests || kind() == ErrorKind::ServerError;
}

ApiError to_api_error(const Response& response, std::string_view request) {
  return ApiError(error_details(response), request);
}

}  // namespace outflow::kube
