#include "chaos/concurrent_writer.h"

#include "agent/postgres/connection.h"

#include <fmt/format.h>

#include <memory>
#include <optional>
#include <random>
#include <set>
#include <stdexcept>

namespace outflow::chaos {
namespace {

using Clock = std::chrono::steady_clock;

std::unique_ptr<pg::Connection> connect(const WriterSettings& s) {
  auto conn = std::make_unique<pg::Connection>(pg::Connection::open(s.url));
  conn->exec("SET search_path TO " + s.schema);
  return conn;
}

}  // namespace

ConcurrentWriter::ConcurrentWriter(WriterSettings settings)
    : settings_(std::move(settings)), rows_(static_cast<std::size_t>(settings_.connections)) {}

ConcurrentWriter::~ConcurrentWriter() {
  stopping_ = true;
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
}

void ConcurrentWriter::start() {
  started_ = Clock::now();
  for (int c = 0; c < settings_.connections; ++c) threads_.emplace_back([this, c] { run(c); });
}

std::vector<std::vector<WrittenRow>> ConcurrentWriter::join() {
  for (auto& t : threads_) t.join();
  threads_.clear();
  return std::move(rows_);
}

void ConcurrentWriter::run(int connection) {
  auto& rows = rows_[static_cast<std::size_t>(connection)];
  const auto share = settings_.rows / settings_.connections +
                     (connection < settings_.rows % settings_.connections ? 1 : 0);
  rows.reserve(static_cast<std::size_t>(share));
  std::mt19937 random(settings_.seed + static_cast<std::uint32_t>(connection));
  const double per_connection_rate = settings_.rows_per_second / settings_.connections;

  std::unique_ptr<pg::Connection> conn;
  // A transaction whose COMMIT got no answer: its sequences and event ids.
  std::vector<std::pair<std::size_t, std::string>> doubtful;
  auto delay = std::chrono::milliseconds(100);

  const auto more = [&] { return settings_.unbounded || static_cast<std::int64_t>(rows.size()) < share; };
  while (more() && !stopping_) {
    if (per_connection_rate > 0) {
      // Paced by the rows this connection has written so far.
      const auto due = started_ + std::chrono::duration_cast<Clock::duration>(
                                      std::chrono::duration<double>(double(rows.size()) / per_connection_rate));
      std::this_thread::sleep_until(due);
    }
    try {
      if (!conn || !conn->ok()) {
        conn = connect(settings_);
        delay = std::chrono::milliseconds(100);
        if (!doubtful.empty()) {
          // Settle in-doubt transactions: committed exactly when their rows exist.
          std::string ids = "{";
          for (const auto& [seq, id] : doubtful) ids += (ids.size() > 1 ? "," : "") + id;
          ids += "}";
          const auto found = conn->exec("SELECT event_id::text FROM outbox WHERE event_id = ANY($1::uuid[])", {{ids}});
          std::set<std::string> present;
          for (int i = 0; i < found.rows(); ++i) present.emplace(found.value(i, 0));
          if (!present.empty() && present.size() != doubtful.size()) {
            throw std::logic_error("a transaction was committed in part");  // PostgreSQL never does that
          }
          for (const auto& [seq, id] : doubtful) {
            rows[seq].outcome = present.empty() ? Outcome::RolledBack : Outcome::Committed;
          }
          doubtful.clear();
        }
      }
    } catch (const pg::Error&) {
      conn.reset();
      std::this_thread::sleep_for(delay);
      delay = std::min(delay * 2, std::chrono::milliseconds(2000));
      ++reconnects_;
      continue;
    }

    auto count = static_cast<int>(1 + random() % 5);
    if (!settings_.unbounded) count = static_cast<int>(std::min<std::int64_t>(count, share - std::int64_t(rows.size())));
    const bool roll_back = random() % 10 == 0;
    const auto first = rows.size();
    std::string values;
    for (int i = 0; i < count; ++i) {
      const bool shared = random() % 5 == 0;
      const auto key = shared ? fmt::format("shared-k{}", random() % settings_.shared_keys)
                              : fmt::format("c{}-k{}", connection, random() % settings_.keys_per_connection);
      WrittenRow row;
      row.shared_key = shared;
      rows.push_back(row);
      values += fmt::format("{}(gen_random_uuid(), '{}', convert_to('{}', 'UTF8'))", i ? ", " : "", key,
                            payload_of(connection, static_cast<std::int64_t>(first + i)));
    }
    attempted_ += count;
    bool commit_sent = false;
    try {
      conn->exec("BEGIN");
      const auto inserted = conn->exec("INSERT INTO outbox (event_id, key, payload) VALUES " + values +
                                       " RETURNING event_id::text, convert_from(payload, 'UTF8')");
      for (int i = 0; i < inserted.rows(); ++i) {
        const auto payload = inserted.value(i, 1);
        const auto seq = std::stoull(std::string(payload.substr(payload.find(':') + 1)));
        rows[seq].event_id = event_id_of(inserted.value(i, 0));
      }
      if (roll_back) {
        conn->exec("ROLLBACK");
      } else {
        commit_sent = true;
        conn->exec("COMMIT");
      }
      for (auto seq = first; seq < rows.size(); ++seq) {
        rows[seq].outcome = roll_back ? Outcome::RolledBack : Outcome::Committed;
      }
    } catch (const pg::Error&) {
      // The session is gone (or the statement failed): before COMMIT nothing
      // was committed; after it, only the table can tell.
      for (auto seq = first; seq < rows.size(); ++seq) {
        if (commit_sent) {
          doubtful.emplace_back(seq, std::string(rows[seq].event_id.data(), rows[seq].event_id.size()));
        } else {
          rows[seq].outcome = Outcome::RolledBack;
        }
      }
      if (commit_sent) ++in_doubt_;
      conn.reset();
    }
  }
  // A transaction still in doubt at the end is settled by one last look.
  for (int attempt = 0; !doubtful.empty() && attempt < 120; ++attempt) {
    try {
      conn = connect(settings_);
      for (const auto& [seq, id] : doubtful) {
        const auto found = conn->exec("SELECT 1 FROM outbox WHERE event_id = $1::uuid", {{id}});
        rows[seq].outcome = found.rows() == 1 ? Outcome::Committed : Outcome::RolledBack;
      }
      doubtful.clear();
    } catch (const pg::Error&) {
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
  }
}

}  // namespace outflow::chaos
