#pragma once

// What the reconciler keeps of a pipeline's Secrets between reconciles, and
// when it must read them again. The informers watch Secret metadata only, so
// the data costs a GET; it is read again only when a Secret's resourceVersion
// in the cache moved away from the version that GET returned.

#include "operator/secrets/references.h"

#include <map>
#include <string>

namespace outflow::op::secrets {

// name -> resourceVersion ("" when the Secret does not exist).
using Versions = std::map<std::string, std::string>;

// One read of a pipeline's Secrets: the data and the version each GET returned.
struct Fetched {
  SecretData data;
  Versions versions;
};

// Values are secret: never log, event or report them.
struct Remembered {
  Versions versions;     // as returned by the last read
  SecretData data;       // as of those versions
  SecretData last_seen;  // each Secret's last data read, kept after it is deleted
};

// `cached`: the versions the metadata cache shows now for the Secrets the spec
// names. Remembering what the read returned (not what the cache showed before
// it) matters when the cache lags: a Secret created just before its pipeline
// would otherwise be read twice.
bool must_read(const Versions& cached, const Remembered& memory);

void remember(Remembered& memory, Fetched fetched);

}  // namespace outflow::op::secrets
