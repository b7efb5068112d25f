#include "demo/delivery_check.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <sstream>
#include <stdexcept>
#include <unordered_map>

namespace outflow::demo {

DeliveryReport check_delivery(const std::vector<ExpectedEvent>& expected, const std::vector<SeenMessage>& seen) {
  DeliveryReport report;
  report.events = expected.size();
  std::unordered_map<std::string, const ExpectedEvent*> by_event_id;
  for (const auto& e : expected) by_event_id.emplace(e.event_id, &e);

  // Per key, order is what one partition's offsets say: sort so that each
  // partition's messages are consecutive and in offset order.
  std::vector<const SeenMessage*> ordered;
  ordered.reserve(seen.size());
  for (const auto& m : seen) ordered.push_back(&m);
  std::stable_sort(ordered.begin(), ordered.end(), [](const SeenMessage* a, const SeenMessage* b) {
    return a->partition != b->partition ? a->partition < b->partition : a->offset < b->offset;
  });

  std::unordered_map<std::string, std::size_t> deliveries;      // by event id
  std::map<std::string, std::int64_t> last_first_delivery_id;  // by key
  for (const auto* m : ordered) {
    if (m->republished) {
      ++report.republished;
      continue;
    }
    const auto it = m->event_id ? by_event_id.find(*m->event_id) : by_event_id.end();
    if (it == by_event_id.end()) {
      ++report.foreign;
      continue;
    }
    const ExpectedEvent& event = *it->second;
    if (deliveries[event.event_id]++ > 0) {
      ++report.duplicates;
      continue;
    }
    auto [last, fresh] = last_first_delivery_id.emplace(event.key, event.id);
    if (!fresh) {
      if (event.id < last->second) ++report.out_of_key_order;
      last->second = std::max(last->second, event.id);
    }
  }
  report.delivered = deliveries.size();
  report.lost = report.events - report.delivered;
  return report;
}

std::string describe(const DeliveryReport& r) {
  return fmt::format("{} events: {} delivered, {} duplicates, {} lost, {} out of key order", r.events, r.delivered,
                     r.duplicates, r.lost, r.out_of_key_order);
}

std::vector<ExpectedEvent> parse_expected(const std::string& text) {
  std::vector<ExpectedEvent> out;
  std::istringstream lines(text);
  int number = 0;
  for (std::string line; std::getline(lines, line);) {
    ++number;
    if (line.empty()) continue;
    std::istringstream fields(line);
    ExpectedEvent e;
    std::string id, rest;
    if (!(fields >> id >> e.event_id >> e.key) || (fields >> rest)) {
      throw std::invalid_argument(
          fmt::format("line {} of the expected events is \"{}\"; want \"<id> <event_id> <key>\"", number, line));
    }
    try {
      std::size_t used = 0;
      e.id = std::stoll(id, &used);
      if (used != id.size()) throw std::invalid_argument(id);
    } catch (const std::exception&) {
      throw std::invalid_argument(fmt::format("line {} of the expected events: id \"{}\" is not a number", number, id));
    }
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace outflow::demo
