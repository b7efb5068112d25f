#pragma once

// One Kubernetes object as an informer cache holds it: packed as MessagePack,
// with the fields every list and event is compared on kept beside it.
//
// Why packed: a JSON tree costs about eight times its text (a 3.8 kB
// Deployment is 26 kB as a tree, 3.3 kB packed), and a cache holds every
// object of its kind for the life of the process. Unpacking costs about what
// copying the tree did (60 us for that Deployment against 16 us), and callers
// already received copies.
//
// Copies share the bytes, so an object listed into the cache and reported to
// the handlers is packed once and held once.

#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace outflow::kube {

class PackedObject {
 public:
  explicit PackedObject(const nlohmann::json& object);

  nlohmann::json unpacked() const;

  // metadata.namespace, .name, .resourceVersion and .uid; "" when absent.
  const std::string& namespace_name() const { return namespace_; }
  const std::string& name() const { return name_; }
  const std::string& resource_version() const { return resource_version_; }
  const std::string& uid() const { return uid_; }

  // Same bytes: the same object, value for value.
  bool operator==(const PackedObject& other) const;

 private:
  std::string namespace_;
  std::string name_;
  std::string resource_version_;
  std::string uid_;
  std::shared_ptr<const std::vector<std::uint8_t>> bytes_;
};

}  // namespace outflow::kube
