// The replayer's offsets: commits, and the rebalances that give and take
// partitions.

#include "agent/replayer/replayer_impl.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace outflow::agent::replayer {

void Replayer::Impl::commit(bool sync, const std::set<TopicPartition>* only) {
  const auto positions = offsets.committable(only);
  if (positions.empty()) return;
  if (const auto error = commit_positions(consumer.get(), positions, sync); error != RD_KAFKA_RESP_ERR_NO_ERROR) {
    note_error(fmt::format("commit failed: {}", rd_kafka_err2str(error)));
    return;
  }
  // An asynchronous result comes through on_commit.
  offsets.sent(positions, sync);
}

void Replayer::Impl::on_commit(rd_kafka_t*, rd_kafka_resp_err_t error, rd_kafka_topic_partition_list_t* offsets,
    void* opaque) {
  auto* self = static_cast<Impl*>(opaque);
  if (error == RD_KAFKA_RESP_ERR__NO_OFFSET) return;
  if (error != RD_KAFKA_RESP_ERR_NO_ERROR) self->note_error(fmt::format("commit failed: {}", rd_kafka_err2str(error)));
  if (offsets == nullptr) return;
  for (int i = 0; i < offsets->cnt; ++i) {
    const auto& p = offsets->elems[i];
    const bool ok = error == RD_KAFKA_RESP_ERR_NO_ERROR && p.err == RD_KAFKA_RESP_ERR_NO_ERROR;
    if (self->offsets.answered({{p.topic, p.partition}, p.offset}, ok)) {
      self->pacer.finished(1, self->settings.now_ms());  // so the pacer asks again
    }
  }
}

void Replayer::Impl::on_rebalance(rd_kafka_t* client, rd_kafka_resp_err_t error,
    rd_kafka_topic_partition_list_t* partitions, void* opaque) {
  auto* self = static_cast<Impl*>(opaque);
  if (error == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    self->assign(client, partitions);
    // librdkafka keeps an application pause across unassign and assign: a
    // partition this replica held when it was revoked would come back
    // paused for good (found by the mid-stream join test). A new
    // assignment starts with nothing held, so nothing paused.
    rd_kafka_resume_partitions(client, partitions);
    self->gate.reset();
    spdlog::info("dead-letter replayer: assigned {} partition(s)", partitions->cnt);
    return;
  }
  // Revoked (or an error, treated the same): finish what is in flight from
  // these partitions and commit it, so the next owner repeats as little as
  // possible; then let go.
  std::set<TopicPartition> revoked;
  for (int i = 0; i < partitions->cnt; ++i) revoked.insert({partitions->elems[i].topic, partitions->elems[i].partition});
  const auto from_revoked = [&](const Outgoing& o) { return revoked.contains(source_of(o.message.get())); };
  // Lost rather than handed over (the group session expired, as in a broker
  // outage): another member may own them already, and a commit under the old
  // member id fences a static member for good (librdkafka: FATAL). Nothing is
  // drained or committed; the next owner repeats what was in flight.
  if (!self->abandoning && !rd_kafka_assignment_lost(client)) {
    self->drain(from_revoked);
    self->commit(true, &revoked);
  }
  self->forget(revoked);
  rd_kafka_assign(client, nullptr);
  spdlog::info("dead-letter replayer: released {} partition(s)", partitions->cnt);
}

// A delivery report for a dropped message finds no entry and is ignored, so
// a copy acknowledged later finishes no offset here: at least once.
void Replayer::Impl::forget(const std::set<TopicPartition>& partitions) {
  const auto from_them = [&](const Outgoing& o) { return partitions.contains(source_of(o.message.get())); };
  for (const auto& tp : partitions) {
    held_messages.erase(tp);
    held_at.cancel(tp);
    offsets.revoke(tp);
    dedups.erase(tp);
  }
  retry_at.erase_if([&](std::uint64_t id) { return from_them(retrying.at(id)); });
  std::erase_if(retrying, [&](const auto& entry) { return from_them(entry.second); });
  std::erase_if(in_flight, [&](const auto& entry) { return from_them(entry.second); });
}

// Starts every assigned partition at the group's committed offset, except
// that a tier partition starts `lookback` offsets earlier: those are read
// only to remember which dead letters they hold (a crashed replica's moves
// that its successor repeats). Without the committed offsets (the request
// failed) there is no look-back, and a repeat may go out twice.
void Replayer::Impl::assign(rd_kafka_t* client, rd_kafka_topic_partition_list_t* partitions) {
  kafka::PartitionListHandle committed(rd_kafka_topic_partition_list_copy(partitions));
  const bool known = rd_kafka_committed(client, committed.get(), 10000) == RD_KAFKA_RESP_ERR_NO_ERROR;
  if (!known) note_error("cannot read the group's committed offsets; a dead letter moved twice may be republished twice");
  const auto lookback = 3 * static_cast<std::int64_t>(settings.max_in_flight);
  for (int i = 0; i < partitions->cnt; ++i) {
    auto& p = partitions->elems[i];
    const TopicPartition tp{p.topic, p.partition};
    std::optional<std::int64_t> start;
    if (known) {
      const auto* c = rd_kafka_topic_partition_list_find(committed.get(), p.topic, p.partition);
      if (c && c->err == RD_KAFKA_RESP_ERR_NO_ERROR && c->offset >= 0) start = c->offset;
    }
    offsets.assign(tp, start);
    if (tier_of(tp.topic) == 0) continue;
    dedups.insert_or_assign(tp, MoveDedup(lookback));
    if (start) p.offset = look_back_start(*start, lookback);
  }
  rd_kafka_assign(client, partitions);
}

}  // namespace outflow::agent::replayer
