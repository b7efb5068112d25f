#pragma once

// Pure: the batch the publisher has handed to Kafka and not yet settled.
//
// Every message carries a token naming its batch and its row, and a delivery
// report is charged only to the row its token names, only while that batch
// is the one in flight, and only once. A report that comes after its batch
// was given up (the producer was replaced, its messages purged) names a batch
// that is gone and changes nothing, so it can never mark another row.
//
// Threading: not thread-safe, and need not be. librdkafka calls the delivery
// report callback only from rd_kafka_poll()/rd_kafka_flush(), which the
// publisher calls on its own thread, the thread that owns this object.
//
// It also measures Kafka's silence: how long messages have waited with no
// report at all. A whole request timeout of silence is an outage, whatever
// the breaker's window holds (see CircuitBreaker::trip).

#include "agent/publisher/outbox_row.h"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace outflow::agent::publisher {

using SteadyTime = std::chrono::steady_clock::time_point;

// What librdkafka carries back as the message's opaque pointer: the batch
// number in the high bits, the row's index + 1 in the low 24 (never 0, so a
// message produced without a token is recognisably nobody's).
struct DeliveryToken {
  std::uint64_t batch = 0;
  std::size_t index = 0;
  bool operator==(const DeliveryToken&) const = default;
};
inline constexpr std::size_t kMaxBatchRows = (std::size_t{1} << 24) - 1;
std::uint64_t encode(const DeliveryToken& token);
std::optional<DeliveryToken> decode(std::uint64_t value);

class InFlightBatch {
 public:
  // Starts batch `number` over `rows` with their planned outcomes (poison
  // rows already decided, the rest NotSent). Rows beyond kMaxBatchRows are
  // not allowed (std::invalid_argument).
  InFlightBatch(std::uint64_t number, std::vector<OutboxRow> rows, std::vector<Outcome> planned,
                SteadyTime now);

  std::uint64_t number() const { return number_; }
  const std::vector<OutboxRow>& rows() const { return rows_; }
  const std::vector<Outcome>& outcomes() const { return outcomes_; }

  // Row `index` was handed to the producer: its outcome now waits for a
  // report carrying the returned token.
  std::uint64_t sent(std::size_t index, SteadyTime now);
  // Row `index` was not queued (the producer refused it at once, or it was
  // never tried): its outcome is final.
  void settled_now(std::size_t index, Outcome outcome);

  // A delivery report. False when the token is not this batch's, or its row
  // is not awaiting a report (a repeat): nothing changes.
  bool report(std::uint64_t token, Outcome outcome, SteadyTime now);

  std::size_t awaiting() const { return awaiting_; }
  bool complete() const { return awaiting_ == 0; }

  // How long Kafka has said nothing while messages wait: now minus the later
  // of the last report and the oldest send still awaited. Zero when nothing
  // waits.
  std::chrono::steady_clock::duration silence(SteadyTime now) const;

  // The producer was purged: every awaited row becomes NotSent (it stays
  // pending and is read again in order) and later reports change nothing.
  void abandon();

 private:
  std::uint64_t number_;
  std::vector<OutboxRow> rows_;
  std::vector<Outcome> outcomes_;
  std::vector<bool> waiting_;
  std::size_t awaiting_ = 0;
  bool abandoned_ = false;
  std::optional<SteadyTime> first_send_;
  std::optional<SteadyTime> last_report_;
};

}  // namespace outflow::agent::publisher
