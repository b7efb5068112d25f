#include "agent/publisher/buckets.h"

#include "agent/publisher/outbox_sql.h"

#include <algorithm>
#include <string>

namespace outflow::agent::publisher {
namespace {

std::int32_t positive_hash(std::string_view text) {
  // FNV-1a: stable across builds and platforms, unlike std::hash.
  std::uint32_t hash = 2166136261u;
  for (const unsigned char c : text) {
    hash ^= c;
    hash *= 16777619u;
  }
  return static_cast<std::int32_t>(hash & 0x7fffffffu);
}

}  // namespace

LockSpace lock_space(std::string_view schema, std::string_view table) {
  // "a.b" + "c" and "a" + "b.c" must not meet: names holding a dot or a
  // quote are hashed quoted, ordinary ones as plain schema.table.
  const auto plain = [](std::string_view name) { return name.find_first_of(".\"") == std::string_view::npos; };
  const std::string qualified = plain(schema) && plain(table)
                                    ? std::string(schema) + "." + std::string(table)
                                    : quote_identifier(schema) + "." + quote_identifier(table);
  LockSpace space{positive_hash("outflow/members/" + qualified), positive_hash("outflow/buckets/" + qualified)};
  // A collision would make members count as buckets; nudge it away.
  if (space.members == space.buckets) {
    space.buckets = static_cast<std::int32_t>((static_cast<std::uint32_t>(space.buckets) + 1u) & 0x7fffffffu);
  }
  return space;
}

int fair_share(int bucket_count, int members) {
  if (members < 1) members = 1;
  return (bucket_count + members - 1) / members;
}

Rebalance rebalance(int bucket_count, int members, const std::set<int>& owned,
                    const std::set<int>& held_by_others, int start) {
  Rebalance plan;
  const int share = fair_share(bucket_count, members);
  const int have = static_cast<int>(owned.size());
  if (have > share) {
    for (auto it = owned.rbegin(); it != owned.rend() && static_cast<int>(plan.release.size()) < have - share; ++it) {
      plan.release.push_back(*it);
    }
    return plan;
  }
  if (bucket_count <= 0) return plan;
  start = ((start % bucket_count) + bucket_count) % bucket_count;
  for (int i = 0; i < bucket_count && have + static_cast<int>(plan.acquire.size()) < share; ++i) {
    const int bucket = (start + i) % bucket_count;
    if (!owned.contains(bucket) && !held_by_others.contains(bucket)) plan.acquire.push_back(bucket);
  }
  return plan;
}

}  // namespace outflow::agent::publisher
