#pragma once

// Typed Kubernetes API operations over a RestClient: objects in and out as
// nlohmann::json, every refusal as an ApiError (see errors.h), every transport
// failure as the RestClient's TransportError.
//
// Which write to use:
//  - server_side_apply: everything the operator and the agents own. State the
//    fields you own under a field manager; the API server merges managers, keeps
//    other managers' fields, and writes nothing (same resourceVersion) when the
//    applied fields already have those values, which is what makes a steady
//    state free of writes. Map lists (x-kubernetes-list-type: map) merge per
//    key, so each agent applies only its own status.agents entry.
//  - merge_patch: small edits of fields nobody applies (a finalizer list is
//    replaced whole by a merge patch: use json_patch to edit it in place).
//  - json_patch: edits guarded by "test" operations, e.g. removing one entry of
//    a list only if it still is the one the caller saw.
//  - create/replace: when the exact object matters (replace sends
//    metadata.resourceVersion, so a stale copy fails with Conflict).
//
// Thread-safe when the RestClient is (cpprestsdk's is): the client keeps no
// state of its own, so threads may share one ApiClient.

#include "common/kube/errors.h"
#include "common/kube/resource.h"
#include "common/kube/rest_client.h"

#include <nlohmann/json.hpp>

#include <functional>
#include <optional>
#include <string_view>
#include <utility>

namespace outflow::kube {

// Runs just before every write (not before reads) and throws to stop it from
// going out: a leader that no longer holds its lease must not write, whatever
// it was in the middle of. See LeaderElector::write_fence().
using WriteFence = std::function<void()>;

// Told of every request of this client just before it goes out: its verb (get,
// list, create, update, delete, patch, and apply for a server-side apply) and
// the resource. For a request count per verb and resource, which is how a
// steady state is shown to cost no GETs at all. Informers list and watch
// through their own RestClient calls, not through here.
using RequestObserver = std::function<void(std::string_view verb, const ResourceKind& kind)>;

class ApiClient {
 public:
  // Borrows `rest`, which must outlive the client: the informers, the watch and
  // the lease share one RestClient and its connection pool.
  explicit ApiClient(RestClient& rest, WriteFence fence = {}, RequestObserver observer = {})
      : rest_(rest), fence_(std::move(fence)), observer_(std::move(observer)) {}
  explicit ApiClient(RestClient&& rest) = delete;  // would dangle

  // Namespace arguments: "" for cluster-scoped kinds (and, for list only, all
  // namespaces of a namespaced kind). Throws std::invalid_argument otherwise.

  nlohmann::json get(const ResourceKind& kind, std::string_view ns, std::string_view name,
                     std::string_view subresource = {});

  // nullopt when the object does not exist. A missing resource *type* (a CRD
  // that is not installed, an unknown group) still throws NotFound: treating it
  // as a missing object would send the caller into create attempts that fail.
  std::optional<nlohmann::json> get_if_exists(const ResourceKind& kind, std::string_view ns,
                                              std::string_view name);

  // Every item, following metadata.continue from page to page (options.limit is
  // the page size; 0 asks for everything at once). Returns the list object with
  // all items and the first page's metadata (its resourceVersion is the
  // snapshot every page came from; watch from there). A continue token that
  // expired between pages throws Gone: list again from the start.
  nlohmann::json list(const ResourceKind& kind, std::string_view ns,
                      const ListOptions& options = {});

  // One page, exactly as the server returned it (metadata.continue included).
  nlohmann::json list_page(const ResourceKind& kind, std::string_view ns,
                           const ListOptions& options);

  // The object's metadata.name (or generateName) names it.
  nlohmann::json create(const ResourceKind& kind, std::string_view ns, const nlohmann::json& object,
                        const WriteOptions& options = {});

  // PUT of the whole object (or of its `subresource`). Name from
  // metadata.name; with metadata.resourceVersion set, a stale copy gets Conflict.
  nlohmann::json replace(const ResourceKind& kind, std::string_view ns,
                         const nlohmann::json& object, const WriteOptions& options = {},
                         std::string_view subresource = {});

  // Returns what the server answers: the object (still present while
  // finalizers or foreground deletion run) or a Status.
  nlohmann::json remove(const ResourceKind& kind, std::string_view ns, std::string_view name,
                        const DeleteOptions& options = {});

  // RFC 7386 JSON merge patch: objects merge, arrays are replaced, null deletes.
  nlohmann::json merge_patch(const ResourceKind& kind, std::string_view ns, std::string_view name,
                             const nlohmann::json& patch, const WriteOptions& options = {},
                             std::string_view subresource = {});

  // RFC 6902 JSON patch: an array of {op, path, value}; all or nothing.
  nlohmann::json json_patch(const ResourceKind& kind, std::string_view ns, std::string_view name,
                            const nlohmann::json& operations, const WriteOptions& options = {},
                            std::string_view subresource = {});

  // Server-side apply of `object` (apiVersion, kind, metadata.name and the
  // fields `field_manager` owns; for subresource "status", the status fields)
  // as `field_manager`. Creates the object if it is missing (not through the
  // status subresource). Without `force`, changing a field another manager owns
  // throws Conflict whose causes() name the fields and their owners; with it,
  // this manager takes them over.
  nlohmann::json server_side_apply(const ResourceKind& kind, std::string_view ns,
                                   std::string_view name, const nlohmann::json& object,
                                   std::string_view field_manager, bool force = false,
                                   std::string_view subresource = {});

 private:
  nlohmann::json send(std::string_view verb, const ResourceKind& kind, Method method, const std::string& path,
                      const nlohmann::json* body, std::string_view content_type = "application/json",
                      std::string_view accept = kJsonMediaType);

  RestClient& rest_;
  const WriteFence fence_;
  const RequestObserver observer_;
};

}  // namespace outflow::kube
