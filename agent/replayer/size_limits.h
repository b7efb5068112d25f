#pragma once

// Pure: whether a message fits where the replayer sends it, and what goes
// instead when it does not (issue 10 point 11). Nothing the replayer reads
// may pin its partition: a message that cannot go where it was headed is
// parked; one the parked topic cannot take whole is parked as a copy without
// its value (same key and headers, plus why); one that cannot go even so is
// given up, loudly, and its offset finished.
//
//   MoveToTier / Republish  --too big or refused-->  Park (whole)
//   Park (whole)            --too big or refused-->  Park (without its value)
//   Park (without value)    --too big or refused-->  give up
//
// Why an empty value rather than a truncated one: a truncated payload looks
// like a real one to whoever reads or replays it; an empty value with
// `outflow-parked-value-dropped` cannot be mistaken for the message.

#include "agent/replayer/routing.h"

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace outflow::agent::replayer {

struct SizeLimits {
  // Each destination's effective max.message.bytes, as the broker describes
  // it; a topic missing here is checked against the producer's limit only.
  std::map<std::string, std::int64_t> topics;
  // librdkafka's message.max.bytes: the producer refuses anything bigger
  // before it reaches a broker.
  std::int64_t producer_max = 1'000'000;
};

// Why a record of `bytes` (kafka::single_record_batch_bytes) cannot go to
// `topic`; nullopt when it fits.
std::optional<std::string> over_limit(const std::string& topic, std::int64_t bytes, const SizeLimits& limits);

// The next, smaller thing to send after `route` could not go for `why`;
// nullopt: nothing smaller is left, the message is given up.
// `value_bytes`: the size of the message's value.
std::optional<Route> smaller(const Route& route, const std::string& why, std::size_t value_bytes);

}  // namespace outflow::agent::replayer
