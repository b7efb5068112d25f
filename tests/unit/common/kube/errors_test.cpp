// How the API server's refusals become typed errors. The Status bodies here
// are copied from what kube-apiserver v1.35 actually sends.

#include "common/kube/errors.h"

#include <gtest/gtest.h>

#include <string>

using namespace outflow::kube;
using nlohmann::json;

namespace {

Response response(int status, const std::string& text) {
  Response r;
  r.status = status;
  r.text = text;
  r.body = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (r.body.is_discarded()) r.body = nullptr;
  return r;
}

Response status(int code, const std::string& reason, const std::string& message,
                json details = json::object()) {
  return response(code, json{{"kind", "Status"},
                             {"apiVersion", "v1"},
                             {"metadata", json::object()},
                             {"status", "Failure"},
                             {"message", message},
                             {"reason", reason},
                             {"details", details},
                             {"code", code}}
                            .dump());
}

}  // namespace

TEST(KubeError, NotFoundCarriesTheMessageAndWhatWasMissing) {
  const auto d = error_details(status(404, "NotFound", "configmaps \"agent\" not found",
                                      {{"name", "agent"}, {"kind", "configmaps"}}));
  EXPECT_EQ(d.kind, ErrorKind::NotFound);
  EXPECT_EQ(d.http_status, 404);
  EXPECT_EQ(d.reason, "NotFound");
  EXPECT_EQ(d.message, "configmaps \"agent\" not found");
  EXPECT_EQ(d.details_kind, "configmaps");
  EXPECT_EQ(d.details_name, "agent");
  EXPECT_TRUE(d.causes.empty());
}

TEST(KubeError, AnUnknownResourceTypeIsNotFoundWithoutAName) {
  // A group/version the server knows but a plural it does not (a CRD that is
  // not installed): a Status with empty details.
  const auto known_group = error_details(
      status(404, "NotFound", "the server could not find the requested resource"));
  EXPECT_EQ(known_group.kind, ErrorKind::NotFound);
  EXPECT_TRUE(known_group.details_name.empty());

  // An unknown group/version: no Status at all, just text/plain.
  const auto unknown_group = error_details(response(404, "404 page not found\n"));
  EXPECT_EQ(unknown_group.kind, ErrorKind::NotFound);
  EXPECT_EQ(unknown_group.message, "404 page not found");
  EXPECT_TRUE(unknown_group.reason.empty());
  EXPECT_TRUE(unknown_group.details_name.empty());
}

TEST(KubeError, ReasonSeparatesAlreadyExistsFromConflictOnThe409) {
  EXPECT_EQ(error_details(status(409, "AlreadyExists", "configmaps \"a\" already exists")).kind,
            ErrorKind::AlreadyExists);
  EXPECT_EQ(error_details(status(409, "Conflict",
                                 "Operation cannot be fulfilled on configmaps \"a\": the object "
                                 "has been modified; please apply your changes to the latest "
                                 "version and try again"))
                .kind,
            ErrorKind::Conflict);
}

TEST(KubeError, InvalidNamesTheFieldsInItsCauses) {
  const auto d = error_details(response(422, R"({
    "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
    "message": "ConfigMap \"Bad_Name\" is invalid: metadata.name: Invalid value: ...",
    "reason": "Invalid",
    "details": {"name": "Bad_Name", "kind": "ConfigMap", "causes": [
      {"reason": "FieldValueInvalid", "message": "Invalid value: \"Bad_Name\": a lowercase ...",
       "field": "metadata.name"},
      {"reason": "FieldValueRequired", "message": "Required value", "field": "data"}]},
    "code": 422})"));
  EXPECT_EQ(d.kind, ErrorKind::Invalid);
  ASSERT_EQ(d.causes.size(), 2u);
  EXPECT_EQ(d.causes[0],
            (StatusCause{"FieldValueInvalid", "metadata.name",
                         "Invalid value: \"Bad_Name\": a lowercase ..."}));
  EXPECT_EQ(d.causes[1], (StatusCause{"FieldValueRequired", "data", "Required value"}));
}

TEST(KubeError, ApplyConflictNamesTheContestedFields) {
  const auto d = error_details(status(
      409, "Conflict", "Apply failed with 1 conflict: conflict with \"team-a\": .data.owner",
      {{"causes",
        {{{"reason", "FieldManagerConflict"},
          {"message", "conflict with \"team-a\""},
          {"field", ".data.owner"}}}}}));
  EXPECT_EQ(d.kind, ErrorKind::Conflict);
  ASSERT_EQ(d.causes.size(), 1u);
  EXPECT_EQ(d.causes[0].reason, "FieldManagerConflict");
  EXPECT_EQ(d.causes[0].field, ".data.owner");
}

TEST(KubeError, EachReasonMapsToItsKind) {
  EXPECT_EQ(classify(403, "Forbidden"), ErrorKind::Forbidden);
  EXPECT_EQ(classify(401, "Unauthorized"), ErrorKind::Unauthorized);
  EXPECT_EQ(classify(410, "Expired"), ErrorKind::Gone);
  EXPECT_EQ(classify(410, "Gone"), ErrorKind::Gone);
  EXPECT_EQ(classify(429, "TooManyRequests"), ErrorKind::TooManyRequests);
  EXPECT_EQ(classify(500, "InternalError"), ErrorKind::ServerError);
  EXPECT_EQ(classify(503, "ServiceUnavailable"), ErrorKind::ServerError);
  EXPECT_EQ(classify(504, "Timeout"), ErrorKind::ServerError);
  EXPECT_EQ(classify(500, "ServerTimeout"), ErrorKind::ServerError);
  EXPECT_EQ(classify(400, "BadRequest"), ErrorKind::Other);
  EXPECT_EQ(classify(405, "MethodNotAllowed"), ErrorKind::Other);
  EXPECT_EQ(classify(415, "UnsupportedMediaType"), ErrorKind::Other);
}

TEST(KubeError, WithoutAReasonTheHttpStatusDecides) {
  EXPECT_EQ(classify(401, ""), ErrorKind::Unauthorized);
  EXPECT_EQ(classify(403, ""), ErrorKind::Forbidden);
  EXPECT_EQ(classify(404, ""), ErrorKind::NotFound);
  EXPECT_EQ(classify(409, ""), ErrorKind::Conflict);
  EXPECT_EQ(classify(410, ""), ErrorKind::Gone);
  EXPECT_EQ(classify(422, ""), ErrorKind::Invalid);
  EXPECT_EQ(classify(429, ""), ErrorKind::TooManyRequests);
  EXPECT_EQ(classify(500, ""), ErrorKind::ServerError);
  EXPECT_EQ(classify(502, ""), ErrorKind::ServerError);
  EXPECT_EQ(classify(400, ""), ErrorKind::Other);
  EXPECT_EQ(classify(418, ""), ErrorKind::Other);
}

TEST(KubeError, AnUnknownReasonFallsBackToTheHttpStatus) {
  EXPECT_EQ(classify(409, "SomethingNew"), ErrorKind::Conflict);
  EXPECT_EQ(classify(503, "SomethingNew"), ErrorKind::ServerError);
  EXPECT_EQ(classify(400, "SomethingNew"), ErrorKind::Other);
}

TEST(KubeError, OnlyThrottlingAndServerTroubleAreRetryable) {
  const auto retryable = [](int code, const char* reason) {
    return to_api_error(status(code, reason, "x")).retryable();
  };
  EXPECT_TRUE(retryable(429, "TooManyRequests"));
  EXPECT_TRUE(retryable(500, "InternalError"));
  EXPECT_TRUE(retryable(503, "ServiceUnavailable"));
  EXPECT_TRUE(retryable(504, "Timeout"));
  // Sending the same request again cannot help these: someone must re-read,
  // fix the object, or grant a permission first.
  EXPECT_FALSE(retryable(409, "Conflict"));
  EXPECT_FALSE(retryable(409, "AlreadyExists"));
  EXPECT_FALSE(retryable(404, "NotFound"));
  EXPECT_FALSE(retryable(403, "Forbidden"));
  EXPECT_FALSE(retryable(401, "Unauthorized"));
  EXPECT_FALSE(retryable(422, "Invalid"));
  EXPECT_FALSE(retryable(410, "Expired"));
  EXPECT_FALSE(retryable(400, "BadRequest"));
}

TEST(KubeError, SuggestedRetryDelayIsKept) {
  const auto d = error_details(status(429, "TooManyRequests", "too many requests",
                                      {{"retryAfterSeconds", 3}}));
  ASSERT_TRUE(d.retry_after.has_value());
  EXPECT_EQ(*d.retry_after, std::chrono::seconds(3));
  EXPECT_FALSE(error_details(status(429, "TooManyRequests", "x")).retry_after.has_value());
}

TEST(KubeError, ATextBodyBecomesTheMessageTrimmedAndBounded) {
  // Priority and fairness, or a proxy in front of the API server, answer in text.
  const auto d = error_details(response(429, "Too many requests, please try again later.\n"));
  EXPECT_EQ(d.kind, ErrorKind::TooManyRequests);
  EXPECT_EQ(d.message, "Too many requests, please try again later.");

  const auto html = error_details(response(502, "<html>" + std::string(2000, 'x') + "</html>"));
  EXPECT_EQ(html.kind, ErrorKind::ServerError);
  EXPECT_LE(html.message.size(), 515u);
  EXPECT_EQ(html.message.substr(0, 6), "<html>");
}

TEST(KubeError, JsonThatIsNoStatusIsTreatedAsText) {
  const auto d = error_details(response(500, R"({"error": "boom"})"));
  EXPECT_EQ(d.kind, ErrorKind::ServerError);
  EXPECT_TRUE(d.reason.empty());
  EXPECT_EQ(d.message, R"({"error": "boom"})");
}

TEST(KubeError, AnEmptyBodyStillClassifies) {
  const auto d = error_details(response(401, ""));
  EXPECT_EQ(d.kind, ErrorKind::Unauthorized);
  EXPECT_TRUE(d.message.empty());
}

TEST(KubeError, MalformedStatusFieldsAreIgnoredNotFatal) {
  const auto d = error_details(response(
      422, R"({"kind": "Status", "message": 7, "reason": "Invalid",
               "details": {"causes": [{"field": 1}, "junk"], "retryAfterSeconds": "soon"}})"));
  EXPECT_EQ(d.kind, ErrorKind::Invalid);
  EXPECT_TRUE(d.message.empty());
  ASSERT_EQ(d.causes.size(), 2u);
  EXPECT_EQ(d.causes[0], StatusCause{});
  EXPECT_FALSE(d.retry_after.has_value());
}

TEST(KubeError, ASuccessIsNoError) {
  EXPECT_THROW(error_details(response(200, "{}")), std::invalid_argument);
  EXPECT_THROW(error_details(response(201, "{}")), std::invalid_argument);
}

TEST(KubeError, WhatNamesKindMessageRequestAndStatus) {
  const auto e = to_api_error(status(404, "NotFound", "configmaps \"agent\" not found"),
                              "GET /api/v1/namespaces/shop/configmaps/agent");
  EXPECT_STREQ(e.what(),
               "NotFound: configmaps \"agent\" not found "
               "(GET /api/v1/namespaces/shop/configmaps/agent, HTTP 404)");
  EXPECT_STREQ(to_api_error(response(503, "")).what(), "ServerError: (no message) (HTTP 503)");
}

TEST(KubeError, CopiesShareTheDetails) {
  const auto original = to_api_error(status(403, "Forbidden", "no"));
  const ApiError copy = original;  // NOLINT: copying is the point
  EXPECT_EQ(&copy.details(), &original.details());
  EXPECT_EQ(copy.kind(), ErrorKind::Forbidden);
  EXPECT_EQ(copy.message(), "no");
}

TEST(KubeError, KindsHaveReadableNames) {
  EXPECT_EQ(to_string(ErrorKind::NotFound), "NotFound");
  EXPECT_EQ(to_string(ErrorKind::TooManyRequests), "TooManyRequests");
  EXPECT_EQ(to_string(ErrorKind::ServerError), "ServerError");
  EXPECT_EQ(to_string(ErrorKind::Other), "Other");
}
