// status.agents[].lastError shows a problem while its cause lasts, with the
// time it began, and nothing once every cause is gone.

#include "agent/publisher/error_board.h"

#include <gtest/gtest.h>

using namespace outflow::agent::publisher;
using namespace std::chrono_literals;

namespace {
const auto t0 = std::chrono::system_clock::time_point{} + 1000h;
}

TEST(ErrorBoard, EmptyShowsNothing) { EXPECT_FALSE(ErrorBoard{}.current().has_value()); }

TEST(ErrorBoard, ARepeatedProblemKeepsTheTimeItBegan) {
  ErrorBoard board;
  board.raise(ErrorSource::Database, "Connection refused", t0);
  board.raise(ErrorSource::Database, "Connection refused", t0 + 30s);
  EXPECT_EQ(board.current(), (ShownError{"Connection refused", t0}));
  board.raise(ErrorSource::Database, "relation \"outbox\" does not exist", t0 + 40s);
  EXPECT_EQ(board.current(), (ShownError{"relation \"outbox\" does not exist", t0 + 40s}));
}

TEST(ErrorBoard, TheMostRecentActiveProblemIsShownAndClearingOneRevealsTheOther) {
  ErrorBoard board;
  board.raise(ErrorSource::Kafka, "Kafka: all brokers down", t0);
  board.raise(ErrorSource::Database, "Connection refused", t0 + 5s);
  EXPECT_EQ(board.current()->message, "Connection refused");
  board.clear(ErrorSource::Database);
  EXPECT_EQ(board.current(), (ShownError{"Kafka: all brokers down", t0}));
  EXPECT_TRUE(board.active(ErrorSource::Kafka));
  board.clear(ErrorSource::Kafka);
  EXPECT_FALSE(board.current().has_value());
  EXPECT_FALSE(board.active(ErrorSource::Kafka));
}
