#include "agent/publisher/drain_window.h"

namespace outflow::agent::publisher {

NextClaim next_claim(const DrainState& state, const DrainSettings& settings,
                     std::chrono::steady_clock::time_point now) {
  if (state.in_flight == 0 && !state.marks_pending) return NextClaim::FromFloor;
  const bool chain_may_grow = state.chain_started && state.last_claim_full && state.last_claim_quiet &&
                              !state.trouble && state.breaker_closed && !state.rebalance_due &&
                              now - *state.chain_started < settings.chain_limit &&
                              state.in_flight < settings.max_batches;
  return chain_may_grow ? NextClaim::AfterChain : NextClaim::Wait;
}

}  // namespace outflow::agent::publisher
