#pragma once

// What an informer keeps of an object. A cache holds every object of its kind
// for the life of the process, so whatever the owner never reads is memory
// spent for nothing; these transforms (InformerOptions::transform) drop it
// before the object is cached.

#include <nlohmann/json.hpp>

namespace outflow::kube {

// The object without the API server's bookkeeping no controller reads:
// metadata.managedFields (often as large as the rest of the object) and
// kubectl's last-applied-configuration annotation (a second copy of it).
// Everything else stays, so that comparing the cached object with a desired
// one still works.
nlohmann::json without_bookkeeping(nlohmann::json object);

// apiVersion, kind and the identity part of metadata only: name, namespace,
// uid, resourceVersion, labels and ownerReferences. For kinds whose
// existence, version and labels are all a controller asks about (Secrets
// named by a spec, Pods counted for a status).
nlohmann::json identity_only(const nlohmann::json& object);

// identity_only, plus what tells whether a pod is up: its deletion
// (deletionTimestamp, deletionGracePeriodSeconds) and its Ready condition
// (type, status, lastTransitionTime). For pods watched for their readiness.
nlohmann::json identity_and_readiness(const nlohmann::json& pod);

}  // namespace outflow::kube
