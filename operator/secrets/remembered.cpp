#include "operator/secrets/remembered.h"

namespace outflow::op::secrets {

bool must_read(const Versions& cached, const Remembered& memory) { return cached != memory.versions; }

void remember(Remembered& memory, Fetched fetched) {
  for (const auto& [name, keys] : fetched.data) memory.last_seen[name] = keys;
  memory.versions = std::move(fetched.versions);
  memory.data = std::move(fetched.data);
}

}  // namespace outflow::op::secrets
