// The probe/metrics server over real sockets, with a minimal HTTP/1.1 client
// so the test sees exactly the bytes a kubelet or Prometheus would.

#include "common/http/probe_server.h"

#include <gtest/gtest.h>
#include <prometheus/counter.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <map>
#include <stdexcept>
#include <string>

using namespace outflow;

namespace {

class Socket {
 public:
  Socket() : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    if (fd_ < 0) throw std::runtime_error("socket() failed");
  }
  ~Socket() { ::close(fd_); }
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  int fd() const { return fd_; }

 private:
  int fd_;
};

sockaddr_in loopback(int port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return address;
}

bool connects(int port) {
  Socket s;
  const auto address = loopback(port);
  return ::connect(s.fd(), reinterpret_cast<const sockaddr*>(&address), sizeof(address)) == 0;
}

struct Response {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
};

Response request(int port, const std::string& method, const std::string& path) {
  Socket s;
  const auto address = loopback(port);
  if (::connect(s.fd(), reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
    throw std::runtime_error("connect failed");
  }
  const std::string out =
      method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
  if (::send(s.fd(), out.data(), out.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(out.size())) {
    throw std::runtime_error("send failed");
  }
  std::string raw;
  std::array<char, 4096> buffer{};
  for (ssize_t n; (n = ::recv(s.fd(), buffer.data(), buffer.size(), 0)) > 0;) {
    raw.append(buffer.data(), static_cast<size_t>(n));
  }
  Response response;
  const auto header_end = raw.find("\r\n\r\n");
  if (header_end == std::string::npos || raw.size() < 12) {
    throw std::runtime_error("malformed response: " + raw);
  }
  response.status = std::stoi(raw.substr(9, 3));
  size_t line_start = raw.find("\r\n") + 2;
  while (line_start < header_end) {
    const auto line_end = raw.find("\r\n", line_start);
    const auto line = raw.substr(line_start, line_end - line_start);
    const auto colon = line.find(':');
    auto name = line.substr(0, colon);
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    response.headers[name] = line.substr(line.find_first_not_of(' ', colon + 1));
    line_start = line_end + 2;
  }
  response.body = raw.substr(header_end + 4);
  return response;
}

http::Endpoints probes(http::Check readyz) {
  http::Endpoints endpoints;
  endpoints.probes["/healthz"] = [] { return std::optional<std::string>(); };
  endpoints.probes["/readyz"] = std::move(readyz);
  return endpoints;
}

}  // namespace

TEST(ProbeServer, HealthyProbeAnswersOk) {
  http::Server server("127.0.0.1:0", probes([] { return std::optional<std::string>(); }));
  const auto r = request(server.port(), "GET", "/healthz");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "ok");
  EXPECT_EQ(r.headers.at("content-type"), "text/plain; charset=utf-8");
  EXPECT_EQ(request(server.port(), "GET", "/readyz?verbose").status, 200);
}

TEST(ProbeServer, FailingProbeAnswers503WithTheProblem) {
  http::Server server("127.0.0.1:0", probes([] {
                        return std::optional<std::string>("kafka admin client not connected");
                      }));
  const auto r = request(server.port(), "GET", "/readyz");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.body, "kafka admin client not connected");
  EXPECT_EQ(request(server.port(), "GET", "/healthz").status, 200);
}

TEST(ProbeServer, ThrowingCheckIsAFailingProbe) {
  http::Server server("127.0.0.1:0", probes([]() -> std::optional<std::string> {
                        throw std::runtime_error("informer cache not synced");
                      }));
  const auto r = request(server.port(), "GET", "/readyz");
  EXPECT_EQ(r.status, 503);
  EXPECT_NE(r.body.find("informer cache not synced"), std::string::npos) << r.body;
}

TEST(ProbeServer, MetricsRenderTheRegistryInPrometheusTextFormat) {
  auto registry = std::make_shared<prometheus::Registry>();
  auto& family = prometheus::BuildCounter()
                     .Name("outflow_test_requests_total")
                     .Help("Requests seen by the test.")
                     .Register(*registry);
  family.Add({{"path", "/x"}}).Increment(3);
  http::Endpoints endpoints;
  endpoints.metrics = registry;
  http::Server server("127.0.0.1:0", endpoints);

  const auto r = request(server.port(), "GET", "/metrics");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.headers.at("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(r.headers.at("content-length"), std::to_string(r.body.size()));
  EXPECT_NE(r.body.find("# HELP outflow_test_requests_total Requests seen by the test."),
            std::string::npos)
      << r.body;
  EXPECT_NE(r.body.find("# TYPE outflow_test_requests_total counter"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("outflow_test_requests_total{path=\"/x\"} 3"), std::string::npos) << r.body;

  // Scrapes see the registry as it is now.
  family.Add({{"path", "/x"}}).Increment();
  const auto later = request(server.port(), "GET", "/metrics");
  EXPECT_NE(later.body.find("outflow_test_requests_total{path=\"/x\"} 4"), std::string::npos)
      << later.body;
}

TEST(ProbeServer, UnknownPathsAre404AndOtherMethods405) {
  http::Server server("127.0.0.1:0", probes([] { return std::optional<std::string>(); }));
  EXPECT_EQ(request(server.port(), "GET", "/").status, 404);
  EXPECT_EQ(request(server.port(), "GET", "/healthz/extra").status, 404);
  // No registry given: no /metrics either.
  EXPECT_EQ(request(server.port(), "GET", "/metrics").status, 404);
  const auto post = request(server.port(), "POST", "/healthz");
  EXPECT_EQ(post.status, 405);
  EXPECT_EQ(post.headers.at("allow"), "GET, HEAD");
}

TEST(ProbeServer, HeadSendsTheHeadersOfGetWithoutABody) {
  http::Server server("127.0.0.1:0", probes([] { return std::optional<std::string>(); }));
  const auto r = request(server.port(), "HEAD", "/healthz");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.headers.at("content-length"), "2");
  EXPECT_TRUE(r.body.empty());
}

TEST(ProbeServer, PortZeroBindsARealPortAndEmptyHostMeansAllInterfaces) {
  http::Server ephemeral("127.0.0.1:0", probes([] { return std::optional<std::string>(); }));
  EXPECT_GT(ephemeral.port(), 0);
  EXPECT_EQ(request(ephemeral.port(), "GET", "/healthz").status, 200);

  http::Server everywhere(":0", probes([] { return std::optional<std::string>(); }));
  EXPECT_GT(everywhere.port(), 0);
  EXPECT_NE(everywhere.port(), ephemeral.port());
  EXPECT_EQ(request(everywhere.port(), "GET", "/healthz").status, 200);

  http::Server named("localhost:0", probes([] { return std::optional<std::string>(); }));
  EXPECT_EQ(request(named.port(), "GET", "/healthz").status, 200);
}

TEST(ProbeServer, TakenPortThrowsNamingTheAddress) {
  http::Server first("127.0.0.1:0", probes([] { return std::optional<std::string>(); }));
  const auto address = "127.0.0.1:" + std::to_string(first.port());
  try {
    http::Server second(address, probes([] { return std::optional<std::string>(); }));
    FAIL() << "expected std::runtime_error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(address), std::string::npos) << e.what();
  }
  // The first server is untouched by the failed second one.
  EXPECT_EQ(request(first.port(), "GET", "/healthz").status, 200);
}

TEST(ProbeServer, UnusableAddressesThrowNamingTheAddress) {
  for (const std::string address : {"8080", "127.0.0.1:99999", "no-such-host.invalid:0"}) {
    try {
      http::Server server(address, probes([] { return std::optional<std::string>(); }));
      ADD_FAILURE() << address << ": expected std::runtime_error";
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find(address), std::string::npos) << e.what();
    }
  }
}

TEST(ProbeServer, DestructorStopsListening) {
  int port = 0;
  {
    http::Server server("127.0.0.1:0", probes([] { return std::optional<std::string>(); }));
    port = server.port();
    EXPECT_TRUE(connects(port));
  }
  EXPECT_FALSE(connects(port));
}
