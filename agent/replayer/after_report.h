#pragma once

// Pure: what becomes of a dead letter's copy once Kafka has answered for it
// in a delivery report. The replayer's adapter only carries the answer out.
//
//   delivered                       -> done: the dead letter's offset is finished
//   delivered without an offset     -> the same again after the back-off (see
//                                      DeliveryReport::without_offset)
//   refused for good, the first time -> the same again after the back-off:
//                                      Kafka refuses a whole record batch, so
//                                      the fault may be a neighbour's
//   refused for good again          -> something smaller (size_limits.h), at once
//   nothing smaller left            -> given up
//   any other failure               -> the same again after the back-off
//
// A refusal for good is one librdkafka calls permanent for the message
// (kafka::is_permanent_for_message): too large, invalid, not allowed.

#include "agent/replayer/routing.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <variant>

namespace outflow::agent::replayer {

struct DeliveryReport {
  bool delivered = false;
  bool refused_for_good = false;
  // Kafka's reason, as said where the copy went; used when it is given up.
  std::string why;
  // Delivered, but with no offset: librdkafka acknowledged it implicitly,
  // because a later batch of its partition was taken. That is no proof: a
  // partition that has not seen the producer yet takes a batch after
  // refusing the one before it as not its leader (measured on the real
  // broker: reported delivered and nowhere, see the publisher's
  // kafka_producer_test.cpp). Sent again, it gets an answer of its own; a
  // copy that did arrive arrives twice, which at-least-once allows.
  bool without_offset = false;
};

// The copy as it was sent: where to, refusals so far, its dead letter's value size.
struct SentCopy {
  Route route;
  int refusals = 0;
  std::size_t value_bytes = 0;
};

struct Done {};
struct SendAgain {
  Route route;
  int refusals = 0;
  std::int64_t at_ms = 0;
};
struct GiveUp {
  std::string why;
};
using AfterReport = std::variant<Done, SendAgain, GiveUp>;

AfterReport after_report(const DeliveryReport& report, const SentCopy& sent, std::int64_t now_ms,
                         std::int64_t retry_backoff_ms);

}  // namespace outflow::agent::replayer
