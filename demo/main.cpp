// outflow-demo: the Kafka side of hack/demo.sh (a consumer that shows
// messages, one that fails some and sends them to the dead-letter topic, and
// the verifier of the ordering contract). Not part of the product's images.

#include "demo/commands.h"

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <iostream>
#include <stdexcept>

int main(int argc, char** argv) {
  CLI::App app{"outflow-demo: the consumers and the verifier hack/demo.sh runs"};
  app.require_subcommand(1);
  std::string bootstrap, topic;
  int timeout_s = 60;
  const auto common = [&](CLI::App* sub) {
    sub->add_option("--bootstrap", bootstrap, "Kafka bootstrap address (host:port)")->required();
    sub->add_option("--topic", topic, "The topic to read")->required();
    sub->add_option("--timeout", timeout_s, "Seconds to wait at most")->check(CLI::PositiveNumber);
  };

  int count = 5;
  auto* show = app.add_subcommand("show", "Print the first N messages of a topic (key, payload)");
  common(show);
  show->add_option("--count", count, "How many messages")->check(CLI::PositiveNumber);

  std::string expected;
  auto* verify = app.add_subcommand(
      "verify", "Check that every committed outbox row reached the topic, first deliveries in key order");
  common(verify);
  verify->add_option("--expected", expected, "File of psql rows: id event_id key")->required();

  std::string dead_letter_topic;
  std::vector<std::string> rules;
  int max_attempts = 1;
  auto* fail = app.add_subcommand("fail", "A consumer that fails some keys and dead-letters them");
  common(fail);
  fail->add_option("--dead-letter-topic", dead_letter_topic, "The pipeline's deadLetter.topic")->required();
  fail->add_option("--fail", rules, "KEY=N: fail the first N attempts of KEY")->required();
  fail->add_option("--max-attempts", max_attempts, "The pipeline's deadLetter.maxAttempts")
      ->check(CLI::PositiveNumber);

  CLI11_PARSE(app, argc, argv);
  // librdkafka's connection retries (a stopped broker is part of the story)
  // would drown the output; the commands say themselves what went wrong.
  spdlog::set_level(spdlog::level::off);
  try {
    const std::chrono::seconds timeout(timeout_s);
    if (show->parsed()) return outflow::demo::show(bootstrap, topic, count, timeout);
    if (verify->parsed()) return outflow::demo::verify(bootstrap, topic, expected, timeout);
    return outflow::demo::fail(bootstrap, topic, dead_letter_topic, rules, max_attempts, timeout);
  } catch (const std::invalid_argument& e) {
    std::cerr << "outflow-demo: " << e.what() << '\n';
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "outflow-demo: " << e.what() << '\n';
    return 1;
  }
}
