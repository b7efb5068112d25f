#pragma once

// Kubernetes Events (core/v1) about an object, as `kubectl describe` and
// `kubectl get events` show them. Like client-go's recorder, a repeat of the
// same event (same object uid, type, reason and message) within ten minutes
// patches the existing Event's count and lastTimestamp instead of creating a
// new one, so a pipeline stuck retrying does not fill etcd with Events.
//
// Recording never throws and never blocks a reconcile on a failure: an Event
// that cannot be written is logged at warn and dropped (Events are best effort
// in Kubernetes too). Callers must not put secret values into messages.

#include "common/clock.h"
#include "common/kube/api_client.h"

#include <nlohmann/json.hpp>

#include <memory>
#include <string>

namespace outflow::kube {

enum class EventType { Normal, Warning };

class EventRecorder {
 public:
  // `component`: reportingController / source.component ("outflow-operator");
  // `instance`: reportingInstance (the pod name). Borrows `api` and `clock`.
  EventRecorder(ApiClient& api, std::string component, std::string instance,
                const Clock& clock = SteadyClock::instance());
  ~EventRecorder();
  EventRecorder(const EventRecorder&) = delete;
  EventRecorder& operator=(const EventRecorder&) = delete;

  // `object` is the involved object as read (apiVersion, kind, metadata with
  // namespace, name, uid, resourceVersion). `reason` is CamelCase.
  //
  // Writes on the caller's thread and returns once the Event is written or
  // the write has failed: usually one request, at most three (the Event was
  // deleted, a name collided), each bounded by the RestClient's timeout. Thread-safe; repeats of one
  // event from several threads are serialised so they aggregate into one Event.
  void record(const nlohmann::json& object, EventType type, const std::string& reason,
              const std::string& message);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace outflow::kube
