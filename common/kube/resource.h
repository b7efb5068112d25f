#pragma once

// Where a Kubernetes resource lives in the API server's URL space. Pure string
// building, no I/O, so every path the client sends is unit-tested here:
//
//   core, namespaced      /api/v1/namespaces/{ns}/configmaps[/{name}[/{sub}]]
//   group, namespaced     /apis/{group}/{version}/namespaces/{ns}/{plural}[/...]
//   cluster-scoped        /api/v1/namespaces[/{name}], /apis/{group}/{version}/{plural}
//   all namespaces        a namespaced kind's collection with ns == "" (list/watch only)
//
// Every path segment and query value is percent-encoded, so a label selector
// such as "app in (a,b)" or a hostile name cannot change the shape of the URL.
// Mistakes that the API server would answer with a confusing 404 (a namespace
// for a cluster-scoped kind, an item without a name) throw std::invalid_argument
// here instead: they are bugs in the caller, not conditions to handle.

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace outflow::kube {

// A resource type as discovery describes it. Not the object's `kind` (ConfigMap)
// but the URL's plural (configmaps): that is what the API server routes on.
struct ResourceKind {
  std::string group;    // "" for the core group
  std::string version;  // "v1", "v1alpha1"
  std::string plural;   // "configmaps", "eventpipelines"
  bool namespaced = true;

  // "v1" for the core group, "apps/v1" otherwise: the objects' apiVersion.
  std::string api_version() const;

  bool operator==(const ResourceKind&) const = default;
};

// Kinds the operator, the agent and their tests use. Functions rather than
// global constants: a std::string global has a static-initialisation order and
// a destructor, and the copy costs nothing next to an HTTPS round trip.
namespace kinds {
inline ResourceKind namespaces() { return {"", "v1", "namespaces", false}; }
inline ResourceKind config_maps() { return {"", "v1", "configmaps", true}; }
inline ResourceKind secrets() { return {"", "v1", "secrets", true}; }
inline ResourceKind services() { return {"", "v1", "services", true}; }
inline ResourceKind service_accounts() { return {"", "v1", "serviceaccounts", true}; }
inline ResourceKind pods() { return {"", "v1", "pods", true}; }
inline ResourceKind events() { return {"", "v1", "events", true}; }
inline ResourceKind deployments() { return {"apps", "v1", "deployments", true}; }
inline ResourceKind roles() { return {"rbac.authorization.k8s.io", "v1", "roles", true}; }
inline ResourceKind role_bindings() {
  return {"rbac.authorization.k8s.io", "v1", "rolebindings", true};
}
inline ResourceKind cluster_roles() {
  return {"rbac.authorization.k8s.io", "v1", "clusterroles", false};
}
inline ResourceKind cluster_role_bindings() {
  return {"rbac.authorization.k8s.io", "v1", "clusterrolebindings", false};
}
inline ResourceKind leases() { return {"coordination.k8s.io", "v1", "leases", true}; }
inline ResourceKind custom_resource_definitions() {
  return {"apiextensions.k8s.io", "v1", "customresourcedefinitions", false};
}
inline ResourceKind event_pipelines() {
  return {"outflow.dev", "v1alpha1", "eventpipelines", true};
}
inline ResourceKind prometheus_rules() {
  return {"monitoring.coreos.com", "v1", "prometheusrules", true};
}
}  // namespace kinds

// RFC 3986 percent-encoding of everything except the unreserved characters
// (A-Z a-z 0-9 - . _ ~). Safe for both path segments and query values.
std::string url_escape(std::string_view text);

// "?k1=v1&k2=v2" with keys and values escaped, in the order added; "" when empty.
class Query {
 public:
  // Always added, even when `value` is empty.
  Query& add(std::string_view key, std::string_view value);
  // Added only when `value` is not empty: most options mean "server default" when unset.
  Query& add_if(std::string_view key, std::string_view value);

  bool empty() const { return params_.empty(); }
  std::string str() const;

 private:
  std::vector<std::pair<std::string, std::string>> params_;
};

// The query parameters of a list (and, later, watch) request.
struct ListOptions {
  std::string label_selector;    // "app=outflow,tier in (agent)"
  std::string field_selector;    // "metadata.name=x"
  std::string resource_version;  // "" = most recent (a quorum read)
  std::int64_t limit = 0;        // page size; 0 = no paging
  std::string continue_token;    // from the previous page's metadata.continue
  // Items as PartialObjectMetadata: metadata only (kMetadataListMediaType).
  bool metadata_only = false;

  Query to_query() const;
};

// The query parameters of a write (create, update, patch, apply).
struct WriteOptions {
  // Recorded in managedFields; required by apply. When empty the API server
  // names the manager after the User-Agent ("cpprestsdk"), and a later apply
  // of those fields by a named manager conflicts with that.
  std::string field_manager;
  bool force = false;    // apply only: take ownership of conflicting fields
  bool dry_run = false;  // validate and admit, persist nothing (dryRun=All)

  Query to_query() const;
};

// What a delete may say besides "delete this".
struct DeleteOptions {
  // What happens to the objects this one owns (ownerReferences). Default lets
  // the resource decide (background for most kinds).
  enum class Propagation { Default, Background, Foreground, Orphan };
  Propagation propagation = Propagation::Default;
  // Delete only if the object still is the one the caller looked at: a name
  // can be reused by a new object (new uid) after the caller read the old one.
  std::string precondition_uid;
  std::string precondition_resource_version;
  std::optional<std::int64_t> grace_period_seconds;
  bool dry_run = false;

  // The query (dryRun) and the v1 DeleteOptions body (everything else; null
  // when there is nothing to say, so a plain delete sends no body).
  Query to_query() const;
  nlohmann::json to_body() const;
};

// /api/v1 or /apis/{group}/{version}.
std::string group_version_path(const ResourceKind& kind);

// The collection: where lists, watches and creates go. For a namespaced kind an
// empty `ns` means all namespaces; a cluster-scoped kind must get an empty `ns`.
std::string collection_path(const ResourceKind& kind, std::string_view ns);

// One object, or one of its subresources ("status", "scale") when `subresource`
// is not empty. Namespaced kinds need `ns`; cluster-scoped kinds must not have it.
std::string item_path(const ResourceKind& kind, std::string_view ns, std::string_view name,
                      std::string_view subresource = {});

}  // namespace outflow::kube
