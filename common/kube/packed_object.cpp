#include "common/kube/packed_object.h"

namespace outflow::kube {
namespace {

using nlohmann::json;

std::string metadata_string(const json& object, const char* field) {
  if (!object.is_object()) return {};
  const auto metadata = object.find("metadata");
  if (metadata == object.end() || !metadata->is_object()) return {};
  const auto value = metadata->find(field);
  return value != metadata->end() && value->is_string() ? value->get<std::string>() : std::string();
}

std::shared_ptr<const std::vector<std::uint8_t>> pack(const json& object) {
  auto bytes = json::to_msgpack(object);
  bytes.shrink_to_fit();
  return std::make_shared<const std::vector<std::uint8_t>>(std::move(bytes));
}

}  // namespace

PackedObject::PackedObject(const json& object)
    : namespace_(metadata_string(object, "namespace")),
      name_(metadata_string(object, "name")),
      resource_version_(metadata_string(object, "resourceVersion")),
      uid_(metadata_string(object, "uid")),
      bytes_(pack(object)) {}

json PackedObject::unpacked() const { return json::from_msgpack(*bytes_); }

bool PackedObject::operator==(const PackedObject& other) const {
  return bytes_ == other.bytes_ || *bytes_ == *other.bytes_;
}

}  // namespace outflow::kube
