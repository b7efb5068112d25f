#pragma once

// Reading the data of the Secrets a pipeline names: the one place the
// operator asks for a Secret's values. The informers watch Secret metadata
// only, so a Secret no pipeline names never reaches this process; a named one
// is read with a GET when its resourceVersion says it changed.

#include "common/kube/api_client.h"
#include "operator/secrets/remembered.h"

#include <string>
#include <vector>

namespace outflow::op::secrets {

// GETs each Secret of `names` in `ns`, decodes its data and notes the version
// read. A Secret that does not exist is absent from the data and has version
// ""; any other failure throws (ApiError, TransportError). The values are
// secret: never log, event or report them.
Fetched read_secrets(kube::ApiClient& api, const std::string& ns, const std::vector<std::string>& names);

}  // namespace outflow::op::secrets
