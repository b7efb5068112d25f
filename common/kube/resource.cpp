#include "common/kube/resource.h"

#include <stdexcept>

namespace outflow::kube {
namespace {

bool unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
         c == '-' || c == '.' || c == '_' || c == '~';
}

// One escaped path segment. "." and ".." survive percent-encoding (both are
// unreserved) and an HTTP stack may collapse them, silently turning a request
// for one object into a request for its collection; the API server never
// accepts them as names anyway.
std::string segment(std::string_view what, std::string_view value) {
  if (value.empty()) {
    throw std::invalid_argument(std::string(what) + " must not be empty");
  }
  if (value == "." || value == "..") {
    throw std::invalid_argument(std::string(what) + " must not be \"" + std::string(value) + "\"");
  }
  return "/" + url_escape(value);
}

}  // namespace

std::string ResourceKind::api_version() const {
  return group.empty() ? version : group + "/" + version;
}

std::string url_escape(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (unreserved(c)) {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0x0F]);
    }
  }
  return out;
}

Query& Query::add(std::string_view key, std::string_view value) {
  params_.emplace_back(key, value);
  return *this;
}

Query& Query::add_if(std::string_view key, std::string_view value) {
  if (!value.empty()) add(key, value);
  return *this;
}

std::string Query::str() const {
  std::string out;
  for (const auto& [key, value] : params_) {
    out += out.empty() ? '?' : '&';
    out += url_escape(key);
    out += '=';
    out += url_escape(value);
  }
  return out;
}

Query ListOptions::to_query() const {
  if (limit < 0) throw std::invalid_argument("ListOptions::limit must not be negative");
  Query q;
  q.add_if("labelSelector", label_selector)
      .add_if("fieldSelector", field_selector)
      .add_if("resourceVersion", resource_version);
  if (limit > 0) q.add("limit", std::to_string(limit));
  q.add_if("continue", continue_token);
  return q;
}

Query WriteOptions::to_query() const {
  Query q;
  q.add_if("fieldManager", field_manager);
  // The API server rejects force=false on anything but apply, and false is the
  // default everywhere, so it is only ever sent as true.
  if (force) q.add("force", "true");
  if (dry_run) q.add("dryRun", "All");
  return q;
}

Query DeleteOptions::to_query() const {
  Query q;
  if (dry_run) q.add("dryRun", "All");
  return q;
}

nlohmann::json DeleteOptions::to_body() const {
  nlohmann::json body = nlohmann::json::object();
  switch (propagation) {
    case Propagation::Default: break;
    case Propagation::Background: body["propagationPolicy"] = "Background"; break;
    case Propagation::Foreground: body["propagationPolicy"] = "Foreground"; break;
    case Propagation::Orphan: body["propagationPolicy"] = "Orphan"; break;
  }
  if (!precondition_uid.empty()) body["preconditions"]["uid"] = precondition_uid;
  if (!precondition_resource_version.empty()) {
    body["preconditions"]["resourceVersion"] = precondition_resource_version;
  }
  if (grace_period_seconds) {
    if (*grace_period_seconds < 0) {
      throw std::invalid_argument("DeleteOptions::grace_period_seconds must not be negative");
    }
    body["gracePeriodSeconds"] = *grace_period_seconds;
  }
  if (body.empty()) return nullptr;
  body["apiVersion"] = "v1";
  body["kind"] = "DeleteOptions";
  return body;
}

std::string group_version_path(const ResourceKind& kind) {
  if (kind.version.empty()) throw std::invalid_argument("resource kind without a version");
  if (kind.group.empty()) return "/api" + segment("version", kind.version);
  return "/apis" + segment("group", kind.group) + segment("version", kind.version);
}

std::string collection_path(const ResourceKind& kind, std::string_view ns) {
  std::string path = group_version_path(kind);
  if (!ns.empty()) {
    if (!kind.namespaced) {
      throw std::invalid_argument(kind.plural + " are cluster-scoped: no namespace allowed, " +
                                  "got \"" + std::string(ns) + "\"");
    }
    path += "/namespaces" + segment("namespace", ns);
  }
  return path + segment("plural", kind.plural);
}

std::string item_path(const ResourceKind& kind, std::string_view ns, std::string_view name,
                      std::string_view subresource) {
  if (kind.namespaced && ns.empty()) {
    throw std::invalid_argument(kind.plural + " are namespaced: a namespace is required for \"" +
                                std::string(name) + "\"");
  }
  std::string path = collection_path(kind, ns) + segment("name", name);
  if (!subresource.empty()) path += segment("subresource", subresource);
  return path;
}

}  // namespace outflow::kube
