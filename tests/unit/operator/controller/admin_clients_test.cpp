// Which Kafka admin client a reconcile gets: one per way of connecting,
// closed when idle, and replaced after so many uses, because librdkafka keeps
// every topic a client was asked about for the client's life. Making a client
// connects nothing until it is used, so no broker is needed here.

#include "operator/controller/admin_clients.h"

#include <gtest/gtest.h>

using namespace std::chrono_literals;
using outflow::ManualClock;
using outflow::op::controller::AdminClients;

namespace {

outflow::kafka::ConnectionSettings nowhere() {
  outflow::kafka::ConnectionSettings s;
  s.bootstrap_servers = {"127.0.0.1:1"};
  return s;
}

}  // namespace

TEST(AdminClients, PipelinesThatConnectAlikeShareOneClient) {
  ManualClock clock;
  AdminClients clients(10min, 500, clock);
  const auto first = clients.get("a", nowhere());
  EXPECT_EQ(clients.get("a", nowhere()), first);
  EXPECT_NE(clients.get("b", nowhere()), first);
  EXPECT_EQ(clients.size(), 2u);
}

TEST(AdminClients, AClientUnusedForTheIdleTimeIsClosed) {
  ManualClock clock;
  AdminClients clients(10min, 500, clock);
  const auto first = clients.get("a", nowhere()).get();
  clock.advance(10min + 1s);
  clients.get("b", nowhere());
  EXPECT_EQ(clients.size(), 1u);
  EXPECT_NE(clients.get("a", nowhere()).get(), first);
}

TEST(AdminClients, AClientIsReplacedAfterItsUsesAndLivesOnForWhoeverHoldsIt) {
  ManualClock clock;
  AdminClients clients(10min, 3, clock);
  const auto held = clients.get("a", nowhere());
  clients.get("a", nowhere());
  EXPECT_EQ(clients.get("a", nowhere()), held) << "replaced before its third use";
  const auto next = clients.get("a", nowhere());
  EXPECT_NE(next, held) << "still the same client after its third use";
  EXPECT_NE(held->get(), nullptr) << "a reconcile still holding the old client lost it";
  EXPECT_EQ(clients.size(), 1u);
}
