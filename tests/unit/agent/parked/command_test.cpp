#include "agent/parked/command.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>
#include <string>
#include <vector>

namespace {

using namespace outflow::agent::parked;

struct Parsed {
  ParkedOptions options;
  std::string error;  // CLI11's, empty when accepted
  std::variant<Request, std::string> checked;
};

Parsed parse(std::vector<std::string> args) {
  Parsed p;
  CLI::App app;
  std::string config;
  app.add_option("--config", config);
  add_parked_command(app, p.options);
  std::reverse(args.begin(), args.end());
  try {
    app.parse(args);
  } catch (const CLI::ParseError& e) {
    p.error = e.what();
  }
  p.checked = check(p.options);
  return p;
}

std::string problem(const Parsed& p) {
  const auto* text = std::get_if<std::string>(&p.checked);
  return text ? *text : std::string();
}

TEST(ParkedCommand, ListWithEveryFilter) {
  const auto p = parse({"parked", "list", "--original-topic", "a,b", "--original-topic", "c", "--since",
                        "2026-11-24T10:00:00Z", "--until", "2026-11-24T11:00:00.250Z", "--partition", "2",
                        "--from-offset", "40", "--output", "json", "--config", "/x"});
  ASSERT_EQ(p.error, "");
  ASSERT_EQ(problem(p), "");
  const auto& r = std::get<Request>(p.checked);
  EXPECT_EQ(r.action, Action::List);
  EXPECT_EQ(r.filter.original_topics, (std::set<std::string>{"a", "b", "c"}));
  EXPECT_EQ(r.filter.since_ms, 1795514400000);
  EXPECT_EQ(r.filter.until_ms, 1795518000250);
  EXPECT_EQ(r.filter.partition, 2);
  EXPECT_EQ(r.filter.from_offset, 40);
  EXPECT_TRUE(r.json);
}

TEST(ParkedCommand, NeedsAnAction) {
  EXPECT_NE(parse({"parked"}).error, "");
  EXPECT_NE(problem(parse({})), "");
}

// Issue 17: an unknown subcommand said only "A subcommand is required".
TEST(ParkedCommand, AnUnknownSubcommandNamesTheValidOnes) {
  for (const auto& p : {parse({"parked", "lsit"}), parse({"parked"})}) {
    const auto said = p.error.empty() ? problem(p) : p.error;
    EXPECT_NE(said.find("list, replay or purge"), std::string::npos) << said;
  }
  EXPECT_NE(parse({"parked", "lsit"}).error.find("\"lsit\""), std::string::npos) << parse({"parked", "lsit"}).error;
}

TEST(ParkedCommand, RejectsBadTimesAndRanges) {
  EXPECT_NE(problem(parse({"parked", "list", "--since", "yesterday"})).find("--since"), std::string::npos);
  EXPECT_NE(problem(parse({"parked", "list", "--since", "2026-11-24T11:00:00Z", "--until", "2026-11-24T10:00:00Z"}))
                .find("before --until"),
            std::string::npos);
  EXPECT_NE(problem(parse({"parked", "list", "--partition", "-1"})), "");
  EXPECT_NE(parse({"parked", "list", "--output", "yaml"}).error, "");
}

TEST(ParkedCommand, PurgeTakesOnlyBeforeAndPartition) {
  const auto ok = parse({"parked", "purge", "--before", "2026-11-24T10:00:00Z", "--partition", "1", "--dry-run"});
  ASSERT_EQ(ok.error, "");
  ASSERT_EQ(problem(ok), "");
  EXPECT_EQ(std::get<Request>(ok.checked).before_ms, 1795514400000);
  EXPECT_TRUE(std::get<Request>(ok.checked).dry_run);

  EXPECT_NE(problem(parse({"parked", "purge"})).find("--before"), std::string::npos);
  for (const auto& flag : std::vector<std::vector<std::string>>{{"--original-topic", "a"},
                                                                {"--since", "2026-11-24T09:00:00Z"},
                                                                {"--until", "2026-11-24T09:00:00Z"},
                                                                {"--from-offset", "3"}}) {
    std::vector<std::string> args{"parked", "purge", "--before", "2026-11-24T10:00:00Z"};
    args.insert(args.end(), flag.begin(), flag.end());
    const auto text = problem(parse(args));
    EXPECT_NE(text.find("never single messages"), std::string::npos) << flag[0] << ": " << text;
  }
  // --before means nothing to list or replay.
  EXPECT_NE(parse({"parked", "list", "--before", "2026-11-24T10:00:00Z"}).error, "");
}

TEST(ParkedCommand, APipelineWithoutDeadLetterIsOneClearLine) {
  outflow::agent::AgentConfig config;
  config.pipeline = {"shop", "orders", "uid"};
  std::ostringstream out, err;
  Request r;
  r.action = Action::List;
  EXPECT_EQ(run(r, config, out, err), kExitUsage);
  EXPECT_EQ(err.str(), "parked: pipeline shop/orders has no deadLetter, so it has no parked topic\n");
  EXPECT_EQ(out.str(), "");
}

TEST(ParkedCommand, AMissingConfigIsOneClearLine) {
  ParkedOptions o;
  o.action = Action::List;
  std::ostringstream out, err;
  EXPECT_EQ(run_parked(o, "/nonexistent/agent.yaml", out, err), kExitUsage);
  const auto text = err.str();
  EXPECT_NE(text.find("/nonexistent/agent.yaml"), std::string::npos) << text;
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 1) << text;
}

}  // namespace
