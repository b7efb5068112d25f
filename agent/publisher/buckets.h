#pragma once

// Pure: how the replicas of one pipeline share the outbox. Rows are split into
// kBucketCount buckets by a hash of their key; a replica publishes a bucket only
// while it holds that bucket's PostgreSQL session advisory lock, so each key has
// one publisher at a time, and a replica that dies frees its buckets the moment
// its session ends. Replicas also hold a membership lock each, so every replica
// can count the live ones and take a fair share.

#include <cstdint>
#include <set>
#include <string_view>
#include <vector>

namespace outflow::agent::publisher {

// Fixed: every replica must agree, including across a rolling upgrade.
inline constexpr int kBucketCount = 64;

// The first key of the two-key advisory locks (pg_try_advisory_lock(int, int)),
// derived from the table's real schema and name as PostgreSQL resolved them
// after connecting (not from the spelling in the spec: an unqualified name
// goes through the session's search_path), so pipelines on other outboxes
// in the same database never contend. Always positive (it is compared with
// pg_locks.classid, an oid). Stable across versions for ordinary names:
// "public" + "outbox" hashes "public.outbox" as it always did.
struct LockSpace {
  std::int32_t members = 0;  // second key: the member's backend pid
  std::int32_t buckets = 0;  // second key: the bucket number
  bool operator==(const LockSpace&) const = default;
};
LockSpace lock_space(std::string_view schema, std::string_view table);

// ceil(bucket_count / members): together the shares always cover every bucket.
int fair_share(int bucket_count, int members);

struct Rebalance {
  std::vector<int> release;  // owned buckets to unlock now
  std::vector<int> acquire;  // free buckets to try to lock now
  bool operator==(const Rebalance&) const = default;
};

// What to change so this replica owns its fair share: give up the surplus
// (highest numbers first), or try free buckets, scanning from `start` so that
// replicas starting together try different buckets first.
Rebalance rebalance(int bucket_count, int members, const std::set<int>& owned,
                    const std::set<int>& held_by_others, int start);

}  // namespace outflow::agent::publisher
