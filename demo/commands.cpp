#include "demo/commands.h"

#include "demo/delivery_check.h"
#include "demo/failure_plan.h"
#include "demo/kafka_io.h"

#include <fmt/format.h>

#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <unordered_set>

namespace outflow::demo {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr const char* kAttempt = "outflow-attempt";

std::string describe_message(const Message& m) {
  const auto attempt = m.header(kAttempt);
  return fmt::format("key={:<10} {}   (partition {}, offset {}{})", m.key.value_or("(none)"), m.value, m.partition,
                     m.offset, attempt ? ", attempt " + *attempt : std::string());
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::invalid_argument("cannot read " + path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

int show(const std::string& bootstrap, const std::string& topic, int count, std::chrono::seconds timeout) {
  TopicReader reader(bootstrap, topic);
  const auto deadline = Clock::now() + timeout;
  int shown = 0;
  while (shown < count && Clock::now() < deadline) {
    if (const auto m = reader.next(200ms)) {
      std::cout << "  " << describe_message(*m) << '\n';
      ++shown;
    }
  }
  std::cout.flush();
  if (shown < count) {
    std::cerr << fmt::format("only {} of {} messages arrived in {} within {} s\n", shown, count, topic,
                             timeout.count());
    return 1;
  }
  return 0;
}

int verify(const std::string& bootstrap, const std::string& topic, const std::string& expected_file,
           std::chrono::seconds timeout) {
  const auto expected = parse_expected(read_file(expected_file));
  std::unordered_set<std::string> missing;
  for (const auto& e : expected) missing.insert(e.event_id);

  TopicReader reader(bootstrap, topic);
  std::vector<SeenMessage> seen;
  const auto deadline = Clock::now() + timeout;
  // Once every row is in, read on until the topic is quiet, so duplicates
  // that follow are counted too.
  auto quiet_since = Clock::now();
  while (Clock::now() < deadline) {
    const auto m = reader.next(200ms);
    if (!m) {
      if (missing.empty() && Clock::now() - quiet_since > 2s) break;
      continue;
    }
    quiet_since = Clock::now();
    const auto event_id = m->header("outflow-event-id");
    if (event_id) missing.erase(*event_id);
    seen.push_back({m->partition, m->offset, event_id, m->header(kAttempt).has_value()});
  }
  const auto report = check_delivery(expected, seen);
  std::cout << "  " << describe(report) << '\n';
  if (report.republished > 0 || report.foreign > 0) {
    std::cout << fmt::format("  (also read: {} dead letters sent back by the replayer, {} messages of earlier runs)\n",
                             report.republished, report.foreign);
  }
  std::cout.flush();
  return report.ok() ? 0 : 1;
}

int fail(const std::string& bootstrap, const std::string& topic, const std::string& dead_letter_topic,
         const std::vector<std::string>& rule_texts, int max_attempts, std::chrono::seconds timeout) {
  std::vector<FailureRule> rules;
  for (const auto& text : rule_texts) rules.push_back(parse_failure_rule(text));
  FailurePlan plan(rules, max_attempts);
  TopicReader reader(bootstrap, topic);
  Producer producer(bootstrap);

  const auto deadline = Clock::now() + timeout;
  while (!plan.done() && Clock::now() < deadline) {
    const auto m = reader.next(200ms);
    if (!m || !m->key) continue;
    const auto attempt = attempt_of(m->header(kAttempt));
    if (!attempt) continue;
    switch (plan.judge(*m->key, *attempt)) {
      case Verdict::Ignore:
        break;
      case Verdict::Process:
        std::cout << fmt::format("  consumer: {} attempt {} processed\n", *m->key, *attempt) << std::flush;
        break;
      case Verdict::Fail: {
        const auto error = fmt::format("payment service declined {} (demo failure)", *m->key);
        // The message unchanged (key, value, headers, outflow-attempt kept
        // when the replayer set it), plus where it came from and why.
        std::vector<std::pair<std::string, std::string>> headers(m->headers.begin(), m->headers.end());
        headers.push_back({"outflow-original-topic", m->topic});
        headers.push_back({"outflow-original-partition", std::to_string(m->partition)});
        headers.push_back({"outflow-original-offset", std::to_string(m->offset)});
        headers.push_back({"outflow-error", error});
        headers.push_back({"outflow-failed-at", std::to_string(now_ms())});
        producer.send(dead_letter_topic, m->key, m->value, headers);
        std::cout << fmt::format("  consumer: {} attempt {} FAILED ({}) -> sent to {}\n", *m->key, *attempt, error,
                                 dead_letter_topic)
                  << std::flush;
        break;
      }
    }
  }
  if (!plan.done()) {
    std::string awaited;
    for (const auto& a : plan.awaited()) awaited += (awaited.empty() ? "" : ", ") + a;
    std::cerr << fmt::format("the consumer waited {} s for: {}\n", timeout.count(), awaited);
    return 1;
  }
  return 0;
}

}  // namespace outflow::demo
