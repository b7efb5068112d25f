#pragma once

// The API server's refusals as typed errors. A controller branches on what went
// wrong, not on HTTP codes: NotFound on delete is success, Conflict means
// "re-read and try again", Invalid is the user's mistake to show in a
// condition, TooManyRequests/ServerError are worth a retry with back-off.
//
// The kind comes from the Status object's `reason` when there is one (409 is
// both AlreadyExists and Conflict), else from the HTTP status: not every error
// body is a Status (an unknown API group answers 404 with "404 page not found"
// in text/plain, and a proxy or the priority-and-fairness filter may answer
// with text too).

#include "common/kube/rest_client.h"

#include <chrono>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace outflow::kube {

enum class ErrorKind {
  NotFound,         // 404: no such object (or no such resource type)
  AlreadyExists,    // 409 reason AlreadyExists: create of a name that is taken
  Conflict,         // 409: stale resourceVersion/precondition, or an apply field conflict
  Forbidden,        // 403: authenticated but RBAC (or an admission policy) says no
  Unauthorized,     // 401: the credentials were not accepted
  Invalid,          // 422: validation failed; causes() names the fields
  Gone,             // 410: resourceVersion or continue token too old; relist
  TooManyRequests,  // 429: throttled (priority and fairness)
  ServerError,      // 5xx and server-side timeouts
  Other,            // everything else, e.g. 400 BadRequest, 405, 415
};

std::string_view to_string(ErrorKind kind);

// One entry of Status.details.causes, e.g. {FieldValueInvalid, metadata.name, ...}
// for Invalid, {FieldManagerConflict, .data.k, conflict with "other"} for apply.
struct StatusCause {
  std::string reason;  // serialised as "reason" by the API server (Go: Type)
  std::string field;   // "metadata.name", "spec.topics[0].partitions"; may be empty
  std::string message;

  bool operator==(const StatusCause&) const = default;
};

// What a failed request's response said.
struct ErrorDetails {
  ErrorKind kind = ErrorKind::Other;
  int http_status = 0;
  std::string reason;   // Status.reason verbatim ("NotFound", "Expired"); may be empty
  std::string message;  // Status.message, or the raw body when it was no Status
  std::vector<StatusCause> causes;
  // Status.details.{kind,name}: what the server was looking for. A 404 with an
  // empty details_kind means the resource type itself is unknown (a CRD that is
  // not installed), not a missing object.
  std::string details_kind;
  std::string details_name;
  // Status.details.retryAfterSeconds, when the server suggested a delay.
  std::optional<std::chrono::seconds> retry_after;
};

class ApiError : public std::runtime_error {
 public:
  // `request` ("GET /api/v1/...") goes into what() only, for logs.
  ApiError(ErrorDetails details, std::string_view request = {});

  ErrorKind kind() const { return details_->kind; }
  int http_status() const { return details_->http_status; }
  const std::string& reason() const { return details_->reason; }
  const std::string& message() const { return details_->message; }
  const std::vector<StatusCause>& causes() const { return details_->causes; }
  const ErrorDetails& details() const { return *details_; }
  std::optional<std::chrono::seconds> retry_after() const { return details_->retry_after; }

  // True when the very same request may succeed later without anyone changing
  // anything: throttling and server-side trouble. Conflict is not retryable in
  // this sense: the caller must re-read (or re-apply) first.
  bool retryable() const;

 private:
  // Shared so that copying the exception (as throw/catch may) cannot throw.
  std::shared_ptr<const ErrorDetails> details_;
};

// The kind for an HTTP status and Status.reason (either may be 0/empty).
ErrorKind classify(int http_status, std::string_view reason);

// Reads a failed response: its Status object if it has one, else its text.
// Throws std::invalid_argument for a 2xx response, which is no error.
ErrorDetails error_details(const Response& response);

// error_details() wrapped as an exception, ready to throw.
ApiError to_api_error(const Response& response, std::string_view request = {});

}  // namespace outflow::kube
