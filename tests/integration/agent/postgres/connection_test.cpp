// libpq against a real PostgreSQL, with the outbox schema applications install
// from hack/sql/outbox.sql.

#include "agent/postgres/connection.h"
#include "testenv.h"

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <poll.h>
#include <sstream>

using namespace outflow;

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// Each test works in its own schema so runs never see each other's rows.
class Postgres : public ::testing::Test {
 protected:
  void SetUp() override {
    conn_ = std::make_unique<pg::Connection>(pg::Connection::open(testenv::require("OUTFLOW_TEST_PG_URL")));
    schema_ = testenv::unique_name("it");
    for (auto& c : schema_) if (c == '-') c = '_';
    conn_->exec("CREATE SCHEMA " + schema_);
    conn_->exec("SET search_path TO " + schema_);
    conn_->run_script(read_file(OUTFLOW_SOURCE_DIR "/hack/sql/outbox.sql"));
  }
  void TearDown() override {
    if (conn_) conn_->exec("DROP SCHEMA IF EXISTS " + schema_ + " CASCADE");
  }

  std::unique_ptr<pg::Connection> conn_;
  std::string schema_;
};

}  // namespace

TEST_F(Postgres, InsertsAndReadsAnOutboxRowWithBinaryPayload) {
  const std::string payload("\x00\x01\xfe{\"x\":1}", 10);  // bytea must survive NUL and high bytes
  const auto inserted = conn_->exec(
      "INSERT INTO outbox (event_id, topic, key, payload, headers) "
      "VALUES ($1, $2, $3, $4::bytea, $5::jsonb) RETURNING id",
      {{"7f1d2c3b-0000-4000-8000-0000000000aa"}, {"shop.orders"}, {"order-1"},
       {payload, /*binary=*/true}, {R"({"tenant":"acme"})"}});
  ASSERT_EQ(inserted.rows(), 1);

  const auto row = conn_->exec(
      "SELECT event_id, topic, key, encode(payload, 'hex'), headers->>'tenant', "
      "published_at IS NULL, attempts FROM outbox WHERE id = $1",
      {{std::string(inserted.value(0, 0))}});
  ASSERT_EQ(row.rows(), 1);
  EXPECT_EQ(row.value(0, 0), "7f1d2c3b-0000-4000-8000-0000000000aa");
  EXPECT_EQ(row.value(0, 1), "shop.orders");
  EXPECT_EQ(row.value(0, 2), "order-1");
  EXPECT_EQ(row.value(0, 3), "0001fe7b2278223a317d");
  EXPECT_EQ(row.value(0, 4), "acme");
  EXPECT_EQ(row.value(0, 5), "t");
  EXPECT_EQ(row.value(0, 6), "0");
}

TEST_F(Postgres, CommittedInsertNotifiesAListener) {
  auto listener = pg::Connection::open(testenv::require("OUTFLOW_TEST_PG_URL"));
  // The trigger's channel is the table's own (agent/publisher/outbox_sql.h).
  const std::string channel = "outflow_outbox_" + schema_ + ".outbox";
  listener.exec("LISTEN \"" + channel + "\"");
  conn_->exec("BEGIN");
  conn_->exec("INSERT INTO outbox (event_id, payload) VALUES (gen_random_uuid(), 'a'), (gen_random_uuid(), 'b')");
  // Nothing is announced before commit: the agent must never see uncommitted rows.
  PQconsumeInput(listener.native());
  EXPECT_EQ(PQnotifies(listener.native()), nullptr);
  conn_->exec("COMMIT");

  PGnotify* notify = nullptr;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (notify == nullptr && std::chrono::steady_clock::now() < deadline) {
    pollfd fd{PQsocket(listener.native()), POLLIN, 0};
    poll(&fd, 1, 200);
    PQconsumeInput(listener.native());
    notify = PQnotifies(listener.native());
  }
  ASSERT_NE(notify, nullptr);
  EXPECT_EQ(std::string(notify->relname), channel);
  EXPECT_EQ(std::string(notify->extra), schema_ + ".outbox");
  PQfreemem(notify);
  // One statement, one notification.
  PQconsumeInput(listener.native());
  EXPECT_EQ(PQnotifies(listener.native()), nullptr);
}

TEST_F(Postgres, DuplicateEventIdIsRejectedWithItsSqlState) {
  const std::vector<pg::Param> row = {{"7f1d2c3b-0000-4000-8000-0000000000bb"}, {"p"}};
  conn_->exec("INSERT INTO outbox (event_id, payload) VALUES ($1, $2::bytea)", row);
  try {
    conn_->exec("INSERT INTO outbox (event_id, payload) VALUES ($1, $2::bytea)", row);
    FAIL() << "expected a unique violation";
  } catch (const pg::Error& e) {
    EXPECT_EQ(e.sqlstate(), "23505");
  }
}

TEST(PostgresConnect, BadPasswordIsReportedWithoutThePassword) {
  std::string url = testenv::require("OUTFLOW_TEST_PG_URL");
  // postgres://user:password@host:port/db -> swap in a wrong password.
  const auto at = url.find('@');
  const auto colon = url.find(':', url.find("://") + 3);
  ASSERT_TRUE(at != std::string::npos && colon != std::string::npos && colon < at) << "URL needs a password";
  url = url.substr(0, colon + 1) + "Wr0ngPassw0rd" + url.substr(at);
  try {
    pg::Connection::open(url);
    FAIL() << "expected authentication to fail";
  } catch (const pg::Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("password authentication failed"), std::string::npos) << msg;
    EXPECT_EQ(msg.find("Wr0ngPassw0rd"), std::string::npos) << msg;
  }
}

namespace {

// The test server's URL with one part replaced; "postgres://user:password@host:port/db".
struct UrlParts {
  std::string scheme_user, password, host, port, rest;
};

UrlParts split_test_url() {
  const std::string url = testenv::require("OUTFLOW_TEST_PG_URL");
  const auto user_start = url.find("://") + 3;
  const auto colon = url.find(':', user_start);
  const auto at = url.find('@');
  const auto port_colon = url.find(':', at);
  const auto slash = url.find('/', at);
  if (at == std::string::npos || colon > at || port_colon == std::string::npos || port_colon > slash) {
    throw std::runtime_error("OUTFLOW_TEST_PG_URL must look like postgres://user:password@host:port/db");
  }
  return {url.substr(0, colon), url.substr(colon + 1, at - colon - 1), url.substr(at + 1, port_colon - at - 1),
          url.substr(port_colon + 1, slash - port_colon - 1), url.substr(slash)};
}

std::string join(const UrlParts& p) { return p.scheme_user + ":" + p.password + "@" + p.host + ":" + p.port + p.rest; }

std::string connect_error(const std::string& url) {
  try {
    pg::Connection::open(url);
  } catch (const pg::Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "connected with a URL that should fail";
  return {};
}

}  // namespace

TEST(PostgresConnect, AUrlLibpqCannotParseIsReportedWithoutAnyPartOfIt) {
  auto parts = split_test_url();
  parts.password = "Sup3r%Secret";  // a raw %, not percent-encoded
  auto message = connect_error(join(parts));
  EXPECT_NE(message.find("cannot be parsed"), std::string::npos) << message;
  EXPECT_EQ(message.find("Sup3r"), std::string::npos) << message;
  EXPECT_EQ(message.find("Secret"), std::string::npos) << message;

  parts = split_test_url();
  parts.password = "Sup3rSecret";
  parts.port = "54x2";
  message = connect_error(join(parts));
  EXPECT_NE(message.find("port"), std::string::npos) << message;
  EXPECT_EQ(message.find("54x2"), std::string::npos) << message;
  EXPECT_EQ(message.find("Sup3rSecret"), std::string::npos) << message;

  parts.port = "99999";
  message = connect_error(join(parts));
  EXPECT_EQ(message.find("99999"), std::string::npos) << message;

  // An unterminated IPv6 host: libpq quotes the whole URL, password included.
  parts = split_test_url();
  parts.password = "Sup3rSecret";
  parts.host = "[::1";
  message = connect_error(join(parts));
  EXPECT_EQ(message.find("Sup3rSecret"), std::string::npos) << message;
  EXPECT_EQ(message.find("postgres"), std::string::npos) << message;
}

TEST(PostgresConnect, ErrorsFromTheRealServerNameNoPartOfTheUrl) {
  auto parts = split_test_url();
  // The real server refuses: an unknown database (the server quotes its name).
  const auto slash_db = parts.rest.find('?');
  parts.rest = "/outflow_no_such_db_x7" + (slash_db == std::string::npos ? "" : parts.rest.substr(slash_db));
  auto message = connect_error(join(parts));
  EXPECT_NE(message.find("does not exist"), std::string::npos) << message;
  EXPECT_EQ(message.find("outflow_no_such_db_x7"), std::string::npos) << message;
  EXPECT_EQ(message.find(parts.password), std::string::npos) << message;

  // Nobody listens on the port: libpq names host and port.
  parts = split_test_url();
  parts.port = "1";
  parts.host = "127.0.0.1";
  message = connect_error(join(parts));
  EXPECT_NE(message.find("Connection refused"), std::string::npos) << message;
  EXPECT_EQ(message.find("127.0.0.1"), std::string::npos) << message;
  EXPECT_EQ(message.find(parts.password), std::string::npos) << message;
}
