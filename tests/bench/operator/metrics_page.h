#pragma once

// Pure: what the operator bench reads from the operator's /metrics page.

#include <map>
#include <string>

namespace outflow::bench {

// Requests the operator sent the API server that change something: every
// verb of outflow_operator_api_requests_total but get, list and watch.
double api_writes(const std::string& page);

// The sum of `metric`'s samples by the value of `label` (samples without
// that label are left out): {"describe": 12, "create_topics": 3} for
// outflow_operator_kafka_admin_calls_total by "call".
std::map<std::string, double> sum_by_label(const std::string& page, const std::string& metric,
                                           const std::string& label);

// Kafka admin calls that change the broker (all but describing topics and
// reading the cluster id), from sum_by_label's calls.
double broker_changes(const std::map<std::string, double>& calls);

}  // namespace outflow::bench
