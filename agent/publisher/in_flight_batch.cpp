#include "agent/publisher/in_flight_batch.h"

#include <algorithm>
#include <stdexcept>

namespace outflow::agent::publisher {
namespace {

constexpr unsigned kIndexBits = 24;
constexpr std::uint64_t kIndexMask = (std::uint64_t{1} << kIndexBits) - 1;

}  // namespace

std::uint64_t encode(const DeliveryToken& token) {
  return (token.batch << kIndexBits) | ((static_cast<std::uint64_t>(token.index) + 1) & kIndexMask);
}

std::optional<DeliveryToken> decode(std::uint64_t value) {
  const auto low = value & kIndexMask;
  if (low == 0) return std::nullopt;
  return DeliveryToken{value >> kIndexBits, static_cast<std::size_t>(low - 1)};
}

InFlightBatch::InFlightBatch(std::uint64_t number, std::vector<OutboxRow> rows, std::vector<Outcome> planned,
                             SteadyTime now)
    : number_(number), rows_(std::move(rows)), outcomes_(std::move(planned)), waiting_(rows_.size(), false) {
  if (rows_.size() > kMaxBatchRows) throw std::invalid_argument("batch larger than a delivery token can name");
  if (outcomes_.size() != rows_.size()) throw std::invalid_argument("one planned outcome per row");
  (void)now;
}

std::uint64_t InFlightBatch::sent(std::size_t index, SteadyTime now) {
  if (!waiting_.at(index)) {
    waiting_[index] = true;
    ++awaiting_;
  }
  // The oldest send still awaited starts the silence; a send while others
  // wait does not restart it.
  if (!first_send_ || awaiting_ == 1) first_send_ = now;
  return encode({number_, index});
}

void InFlightBatch::settled_now(std::size_t index, Outcome outcome) {
  if (waiting_.at(index)) {
    waiting_[index] = false;
    --awaiting_;
  }
  outcomes_[index] = std::move(outcome);
}

bool InFlightBatch::report(std::uint64_t token, Outcome outcome, SteadyTime now) {
  const auto decoded = decode(token);
  if (abandoned_ || !decoded || decoded->batch != number_ || decoded->index >= rows_.size()) return false;
  if (!waiting_[decoded->index]) return false;
  waiting_[decoded->index] = false;
  --awaiting_;
  outcomes_[decoded->index] = std::move(outcome);
  last_report_ = now;
  return true;
}

std::chrono::steady_clock::duration InFlightBatch::silence(SteadyTime now) const {
  if (awaiting_ == 0 || !first_send_) return std::chrono::steady_clock::duration::zero();
  const auto since = last_report_ ? std::max(*last_report_, *first_send_) : *first_send_;
  return std::max(std::chrono::steady_clock::duration::zero(), now - since);
}

void InFlightBatch::abandon() {
  for (std::size_t i = 0; i < waiting_.size(); ++i) {
    if (!waiting_[i]) continue;
    waiting_[i] = false;
    outcomes_[i] = NotSent{};
  }
  awaiting_ = 0;
  abandoned_ = true;  // any report still on its way is for a batch that is gone
}

}  // namespace outflow::agent::publisher
