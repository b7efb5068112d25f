#include "session_cpu.h"

namespace outflow::bench {

std::map<std::string, double> session_cpu(const std::map<int, double>& before,
                                          const std::vector<SessionReading>& after) {
  std::map<std::string, double> by_name;
  for (const auto& reading : after) {
    const auto earlier = before.find(reading.pid);
    const double spent = reading.cpu_s - (earlier == before.end() ? 0.0 : earlier->second);
    if (spent <= 0) continue;
    by_name[reading.name.empty() ? "unnamed" : reading.name] += spent;
  }
  return by_name;
}

}  // namespace outflow::bench
