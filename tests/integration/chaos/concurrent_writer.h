#pragma once

// The application side of the chaos suite: several PostgreSQL sessions
// writing outbox rows at once, as a service's request handlers do. Each
// transaction holds 1-5 rows (multi-row transactions), one in ten is rolled
// back on purpose, most rows go to keys only their own connection writes
// ("c<conn>-k<j>", order-checked) and the rest to keys every connection
// shares ("shared-k<j>", checked for presence only).
//
// It rides out a PostgreSQL restart: a transaction that failed before COMMIT
// was sent is rolled back; one whose COMMIT got no answer is in doubt and is
// settled after reconnecting by looking for its event ids in the table.

#include "chaos/delivery_check.h"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

namespace outflow::chaos {

struct WriterSettings {
  std::string url;     // PostgreSQL
  std::string schema;  // where the outbox table is
  int connections = 4;
  // Attempted rows (committed + rolled back) after which a connection stops
  // on its own; stop() ends the writing earlier or, with unbounded, at all.
  std::int64_t rows = 20000;
  bool unbounded = false;
  double rows_per_second = 0;  // all connections together; 0: as fast as PostgreSQL takes them
  int keys_per_connection = 50;
  int shared_keys = 20;
  std::uint32_t seed = 16;
};

class ConcurrentWriter {
 public:
  explicit ConcurrentWriter(WriterSettings settings);
  ~ConcurrentWriter();  // stops and joins
  ConcurrentWriter(const ConcurrentWriter&) = delete;
  ConcurrentWriter& operator=(const ConcurrentWriter&) = delete;

  void start();
  // Asks every connection to finish the transaction it is in and stop.
  void stop() { stopping_ = true; }
  // Waits for every connection to finish; returns what each wrote.
  std::vector<std::vector<WrittenRow>> join();
  std::int64_t attempted() const { return attempted_.load(); }
  std::int64_t reconnects() const { return reconnects_.load(); }
  std::int64_t in_doubt() const { return in_doubt_.load(); }

 private:
  void run(int connection);

  WriterSettings settings_;
  std::vector<std::vector<WrittenRow>> rows_;
  std::vector<std::thread> threads_;
  std::atomic<std::int64_t> attempted_{0};
  std::atomic<std::int64_t> reconnects_{0};
  std::atomic<std::int64_t> in_doubt_{0};
  std::atomic<bool> stopping_{false};
  std::chrono::steady_clock::time_point started_{};
};

}  // namespace outflow::chaos
