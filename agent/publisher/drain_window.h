#pragma once

// Pure: when the publisher reads its next batch, and from where.
//
// Draining a backlog, one batch at a time leaves PostgreSQL and Kafka idle in
// turn (read, then produce and wait for every report, then mark). So while
// the backlog lasts, the next batch is read while earlier ones are in flight:
// a bounded window of batches, each marked as soon as Kafka acknowledged it.
//
// A chain is the run of batches from one claim "from the floor" (the ordinary
// claim: every pending row of the owned buckets, in id order) until the window
// is empty and every acknowledged row is marked again. Within a chain the
// batches in flight are still pending in the table, so a later claim of the
// chain reads only rows above the highest id the chain has read ("after the
// chain"). That skips nothing a key's order needs only when no transaction
// was running at the previous claim's snapshot: then every row with a lower
// id that will ever commit was already visible, and read. A claim that saw
// a writer still running ends the chain: the next claim waits for the window
// to empty and reads from the floor again, as the serial loop always did.
//
// A chain also ends (the window drains before anything new is read) when any
// of its batches could not all go out: a poison or waiting row, a row held
// back or refused, a failure, a breaker that is not Closed. Rows left pending
// are then read again from the floor in id order, behind the rows of their
// keys that went out before them, exactly as without a window; and nothing of
// theirs can have overtaken them, since no later batch was read after the
// trouble was known, and the batches already in flight behind it go to the
// same partitions through one idempotent, gapless producer (kafka_producer.h).
// A chain also ends when the buckets are due for a rebalance (buckets change
// only with nothing in flight) and after chain_limit at the latest.
//
// What remains: a transaction that took its id from the sequence before the
// previous claim's snapshot but had no transaction id yet (nextval() called
// in an earlier statement than its INSERT, or ids cached per session by a
// sequence with CACHE > 1) is invisible to the quiet test. Its row is then
// read at the chain's end (within chain_limit), possibly after a later row
// of its key read in the chain; the claim floor (claim_floor.h) has the same
// blind spot. With ids assigned by the INSERT itself (the usual case) that
// takes a writer paused between its nextval() and its first write (the
// moment it gets a transaction id) while another writer commits and a claim
// runs: a window of microseconds, unless a process is descheduled there.

#include <chrono>
#include <cstddef>
#include <optional>

namespace outflow::agent::publisher {

struct DrainSettings {
  // Batches in flight at once: two already overlap the read of the next batch
  // and the marks of the last with Kafka's work on the one between.
  std::size_t max_batches = 3;
  std::chrono::milliseconds chain_limit{1000};
};

// What the loop knows when it could read.
struct DrainState {
  std::size_t in_flight = 0;       // batches produced and not yet settled
  bool marks_pending = false;      // acknowledged rows not yet marked
  bool last_claim_full = false;    // the chain's last claim returned a whole batch
  bool last_claim_quiet = false;   // no transaction was running at its snapshot
  bool trouble = false;            // something in this chain must be read again from the floor
  bool breaker_closed = true;
  bool rebalance_due = false;
  std::optional<std::chrono::steady_clock::time_point> chain_started;  // nullopt: no chain
};

enum class NextClaim {
  Wait,        // nothing now: wait for reports (or the window to drain)
  FromFloor,   // an ordinary claim, which starts a new chain
  AfterChain,  // the next batch of this chain, above its highest id
};

NextClaim next_claim(const DrainState& state, const DrainSettings& settings,
                     std::chrono::steady_clock::time_point now);

}  // namespace outflow::agent::publisher
