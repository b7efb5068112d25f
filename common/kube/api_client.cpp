#include "common/kube/api_client.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <stdexcept>
#include <utility>

namespace outflow::kube {
namespace {

using nlohmann::json;

constexpr std::string_view kMergePatch = "application/merge-patch+json";
constexpr std::string_view kJsonPatch = "application/json-patch+json";
// JSON is YAML, so the apply body is sent as JSON under the YAML media type
// (the only apply media type every supported API server version accepts).
constexpr std::string_view kApplyPatch = "application/apply-patch+yaml";

std::string_view method_name(Method method) {
  switch (method) {
    case Method::Get: return "GET";
    case Method::Post: return "POST";
    case Method::Put: return "PUT";
    case Method::Patch: return "PATCH";
    case Method::Delete: return "DELETE";
  }
  return "?";
}

std::string object_name(const json& object) {
  const auto metadata = object.find("metadata");
  if (object.is_object() && metadata != object.end() && metadata->is_object()) {
    const auto name = metadata->find("name");
    if (name != metadata->end() && name->is_string() && !name->get<std::string>().empty()) {
      return name->get<std::string>();
    }
  }
  throw std::invalid_argument("replace: the object has no metadata.name");
}

std::string continue_token_of(const json& page) {
  const auto metadata = page.find("metadata");
  if (metadata == page.end() || !metadata->is_object()) return {};
  return metadata->value("continue", "");
}

}  // namespace

json ApiClient::send(std::string_view verb, const ResourceKind& kind, Method method, const std::string& path,
                     const json* body, std::string_view content_type, std::string_view accept) {
  if (method != Method::Get) {
    // Every write, at debug: how a steady state is shown to send none. The
    // path only; bodies can hold Secret data.
    if (fence_) fence_();
    spdlog::debug("kube write: {} {}", method_name(method), path);
  }
  if (observer_) observer_(verb, kind);
  Response response = rest_.request(method, path, body, content_type, accept);
  if (!response.ok()) {
    throw to_api_error(response, fmt::format("{} {}", method_name(method), path));
  }
  return std::move(response.body);
}

json ApiClient::get(const ResourceKind& kind, std::string_view ns, std::string_view name,
                    std::string_view subresource) {
  return send("get", kind, Method::Get, item_path(kind, ns, name, subresource), nullptr);
}

std::optional<json> ApiClient::get_if_exists(const ResourceKind& kind, std::string_view ns,
                                             std::string_view name) {
  try {
    return get(kind, ns, name);
  } catch (const ApiError& e) {
    // A missing object's Status names it; a missing resource type's does not.
    if (e.kind() == ErrorKind::NotFound && !e.details().details_name.empty()) {
      return std::nullopt;
    }
    throw;
  }
}

json ApiClient::list_page(const ResourceKind& kind, std::string_view ns,
                          const ListOptions& options) {
  return send("list", kind, Method::Get, collection_path(kind, ns) + options.to_query().str(), nullptr,
              "application/json", options.metadata_only ? kMetadataListMediaType : kJsonMediaType);
}

json ApiClient::list(const ResourceKind& kind, std::string_view ns, const ListOptions& options) {
  json result = list_page(kind, ns, options);
  if (!result.is_object()) {
    throw std::runtime_error("list " + kind.plural + ": the API server answered no list object");
  }
  if (!result["items"].is_array()) result["items"] = json::array();
  ListOptions next = options;
  // Later pages come from the first page's snapshot; resourceVersion and
  // continue may not be sent together.
  next.resource_version.clear();
  std::string token = continue_token_of(result);
  while (!token.empty()) {
    if (token == next.continue_token) {
      throw std::runtime_error("list " + kind.plural +
                               ": the API server repeated a continue token");
    }
    next.continue_token = token;
    json page = list_page(kind, ns, next);
    if (page.is_object() && page["items"].is_array()) {
      for (auto& item : page["items"]) result["items"].push_back(std::move(item));
    }
    token = continue_token_of(page);
  }
  if (result["metadata"].is_object()) {
    result["metadata"].erase("continue");
    result["metadata"].erase("remainingItemCount");
  }
  return result;
}

json ApiClient::create(const ResourceKind& kind, std::string_view ns, const json& object,
                       const WriteOptions& options) {
  return send("create", kind, Method::Post, collection_path(kind, ns) + options.to_query().str(), &object);
}

json ApiClient::replace(const ResourceKind& kind, std::string_view ns, const json& object,
                        const WriteOptions& options, std::string_view subresource) {
  return send("update", kind, Method::Put,
              item_path(kind, ns, object_name(object), subresource) + options.to_query().str(),
              &object);
}

json ApiClient::remove(const ResourceKind& kind, std::string_view ns, std::string_view name,
                       const DeleteOptions& options) {
  const json body = options.to_body();
  return send("delete", kind, Method::Delete, item_path(kind, ns, name) + options.to_query().str(),
              body.is_null() ? nullptr : &body);
}

json ApiClient::merge_patch(const ResourceKind& kind, std::string_view ns, std::string_view name,
                            const json& patch, const WriteOptions& options,
                            std::string_view subresource) {
  return send("patch", kind, Method::Patch, item_path(kind, ns, name, subresource) + options.to_query().str(),
              &patch, kMergePatch);
}

json ApiClient::json_patch(const ResourceKind& kind, std::string_view ns, std::string_view name,
                           const json& operations, const WriteOptions& options,
                           std::string_view subresource) {
  if (!operations.is_array()) {
    throw std::invalid_argument("json_patch: the operations must be a JSON array");
  }
  return send("patch", kind, Method::Patch, item_path(kind, ns, name, subresource) + options.to_query().str(),
              &operations, kJsonPatch);
}

json ApiClient::server_side_apply(const ResourceKind& kind, std::string_view ns,
                                  std::string_view name, const json& object,
                                  std::string_view field_manager, bool force,
                                  std::string_view subresource) {
  // The API server insists on a field manager for apply; failing here names
  // the caller's bug instead of returning a 422 about PatchOptions.
  if (field_manager.empty()) {
    throw std::invalid_argument("server_side_apply: a field manager is required");
  }
  WriteOptions options;
  options.field_manager = std::string(field_manager);
  options.force = force;
  return send("apply", kind, Method::Patch, item_path(kind, ns, name, subresource) + options.to_query().str(),
              &object, kApplyPatch);
}

}  // namespace outflow::kube
