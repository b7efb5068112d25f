#include "outbox_writer.h"

#include "delivery_tally.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <exception>
#include <mutex>
#include <thread>

namespace outflow::bench {

namespace {
constexpr int kRowsPerTransaction = 1000;
// Sessions for the paced writer: one INSERT round trip takes a few hundred µs
// on a busy machine, so one session per 2,500 rows/s.
constexpr int kRatePerSession = 2500;
}  // namespace

std::string payload_for(std::int64_t index, int bytes) {
  auto text = std::to_string(index);
  if (static_cast<int>(text.size()) < bytes) text.append(static_cast<std::size_t>(bytes) - text.size(), '.');
  return text;
}

void preload(pg::Connection& sql, std::int64_t first, std::int64_t count, const RowShape& shape) {
  for (std::int64_t from = first; from < first + count; from += kRowsPerTransaction) {
    const auto to = std::min(first + count, from + kRowsPerTransaction) - 1;
    sql.exec(fmt::format(
        "INSERT INTO outbox (event_id, key, payload) "
        "SELECT ('00000000-0000-4000-8000-' || lpad(i::text, 12, '0'))::uuid, 'k' || (i % {keys}), "
        "convert_to(i::text || repeat('.', greatest({bytes} - length(i::text), 0)), 'UTF8') "
        "FROM generate_series({from}::bigint, {to}::bigint) AS i ORDER BY i",
        fmt::arg("keys", shape.keys), fmt::arg("bytes", shape.payload_bytes), fmt::arg("from", from),
        fmt::arg("to", to)));
  }
}

void insert_one(pg::Connection& sql, std::int64_t index, const RowShape& shape) {
  sql.exec("INSERT INTO outbox (event_id, key, payload) VALUES ($1::uuid, $2, $3::bytea)",
           {{event_id_for(index)},
            {"k" + std::to_string(index % shape.keys)},
            {payload_for(index, shape.payload_bytes), /*binary=*/true}});
}

std::vector<std::int64_t> write_paced(const std::string& url, const std::string& schema, std::int64_t count,
                                      int rate, const RowShape& shape) {
  using Steady = std::chrono::steady_clock;
  const int sessions = std::max(1, (rate + kRatePerSession - 1) / kRatePerSession);
  std::vector<std::int64_t> committed_us(static_cast<std::size_t>(count), -1);
  std::mutex error_mutex;
  std::exception_ptr error;
  const auto t0 = Steady::now() + std::chrono::milliseconds(100);  // every session connected by then
  std::vector<std::thread> writers;
  for (int s = 0; s < sessions; ++s) {
    writers.emplace_back([&, s] {
      try {
        auto sql = pg::Connection::open(url);
        sql.exec("SET search_path TO " + schema);
        for (std::int64_t i = s; i < count; i += sessions) {
          std::this_thread::sleep_until(t0 + std::chrono::duration_cast<Steady::duration>(
                                                 std::chrono::duration<double>(static_cast<double>(i) / rate)));
          insert_one(sql, i, shape);
          committed_us[static_cast<std::size_t>(i)] =
              std::chrono::duration_cast<std::chrono::microseconds>(
                  std::chrono::system_clock::now().time_since_epoch())
                  .count();
        }
      } catch (...) {
        std::lock_guard lock(error_mutex);
        error = std::current_exception();
      }
    });
  }
  for (auto& w : writers) w.join();
  if (error) std::rethrow_exception(error);
  return committed_us;
}

}  // namespace outflow::bench
