#include "common/kafka/create_batcher.h"

#include <fmt/format.h>

namespace outflow::kafka {

namespace {

bool refused_before_sending(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const AdminError& e) {
    return e.code() == RD_KAFKA_RESP_ERR__INVALID_ARG;
  } catch (...) {
    return false;
  }
}

}  // namespace

bool joins_batch(const std::set<std::string>& names, std::size_t size, const std::vector<NewTopic>& request,
                 std::size_t max_topics) {
  if (size == 0) return true;
  if (size + request.size() > max_topics) return false;
  for (const auto& t : request) {
    if (names.contains(t.name)) return false;
  }
  return true;
}

std::vector<TopicOutcome> answers_for(const std::vector<NewTopic>& request,
                                      const std::vector<TopicOutcome>& batch_answers) {
  std::map<std::string, const TopicOutcome*> by_name;
  for (const auto& a : batch_answers) by_name.emplace(a.name, &a);
  std::vector<TopicOutcome> out;
  for (const auto& t : request) {
    const auto found = by_name.find(t.name);
    if (found != by_name.end()) {
      out.push_back(*found->second);
    } else {
      out.push_back({t.name, RD_KAFKA_RESP_ERR__FAIL, "the broker's CreateTopics answer did not mention this topic"});
    }
  }
  return out;
}

CreateTopicsBatcher::CreateTopicsBatcher(std::size_t max_topics, Send send)
    : max_topics_(max_topics), send_(std::move(send)) {}

std::size_t CreateTopicsBatcher::requests() const {
  std::lock_guard lock(mu_);
  return requests_;
}

std::size_t CreateTopicsBatcher::gathering(rd_kafka_t* client) const {
  std::lock_guard lock(mu_);
  const auto it = clients_.find(client);
  return it == clients_.end() || !it->second.next ? 0 : it->second.next->topics.size();
}

std::vector<TopicOutcome> CreateTopicsBatcher::create(rd_kafka_t* client, const std::vector<NewTopic>& topics,
                                                      std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  // Join the gathering batch, or wait for it to leave when this request
  // cannot join it (a name already in it, or it is full). The entry is looked
  // up again after every wait: an idle client's entry is erased.
  for (;;) {
    const auto& state = clients_[client];
    if (!state.next || joins_batch(state.next->names, state.next->topics.size(), topics, max_topics_)) break;
    answered_.wait(lock);
  }
  auto& gathering = clients_[client].next;
  if (!gathering) gathering = std::make_shared<Batch>();
  const auto mine = gathering;
  mine->topics.insert(mine->topics.end(), topics.begin(), topics.end());
  for (const auto& t : topics) mine->names.insert(t.name);
  mine->timeout = std::max(mine->timeout, timeout);
  while (!mine->done) {
    auto& state = clients_[client];
    if (!state.sending && state.next == mine) {
      send_batch(client, state, lock);
    } else {
      answered_.wait(lock);
    }
  }
  if (const auto it = clients_.find(client); it != clients_.end() && !it->second.next && !it->second.sending) {
    clients_.erase(it);
  }
  if (mine->error && mine->topics.size() > topics.size() && refused_before_sending(mine->error)) {
    // librdkafka refused the batch's arguments before sending (one caller's
    // topic it cannot express): each caller sends its own, so only that one
    // fails.
    ++requests_;
    lock.unlock();
    return send_(client, topics, timeout);
  }
  if (mine->error) std::rethrow_exception(mine->error);
  return answers_for(topics, mine->answers);
}

// Called with the lock held and `state` not sending; `state` stays valid
// while it sends, since an entry is erased only when idle.
void CreateTopicsBatcher::send_batch(rd_kafka_t* client, PerClient& state, std::unique_lock<std::mutex>& lock) {
  const auto batch = std::move(state.next);
  state.next = nullptr;
  state.sending = true;
  ++requests_;
  answered_.notify_all();  // callers that could not join may gather the next batch now
  lock.unlock();
  std::vector<TopicOutcome> answers;
  std::exception_ptr error;
  try {
    answers = send_(client, batch->topics, batch->timeout);
  } catch (...) {
    error = std::current_exception();
  }
  lock.lock();
  batch->answers = std::move(answers);
  batch->error = error;
  batch->done = true;
  state.sending = false;
  answered_.notify_all();
}

}  // namespace outflow::kafka
