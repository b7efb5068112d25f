// The informer (and the streaming GET and reflector loop under it) against the
// real kube-apiserver: paged list, watch events in order, selectors and
// namespaces, the transform, watches the server ends, a real 410 Gone, and a
// prompt stop.
//
// Every informer here selects on a label unique to the test: the controller
// manager puts a kube-root-ca.crt ConfigMap into every new namespace at a
// moment of its choosing, and other tests' objects must not leak in either.

#include "api_client_fixture.h"
#include "common/kube/informer.h"
#include "common/kube/object_cache.h"
#include "common/kube/watch_reflector.h"
#include "common/kube/watch_stream.h"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace outflow::kube_tests {
namespace {

using kube::InformerEventType;
using Clock = std::chrono::steady_clock;

constexpr auto kEventTimeout = 10s;

std::string_view type_name(InformerEventType type) {
  switch (type) {
    case InformerEventType::Added: return "Added";
    case InformerEventType::Updated: return "Updated";
    case InformerEventType::Deleted: return "Deleted";
  }
  return "?";
}

// One handler call, as the handler saw it.
struct Seen {
  InformerEventType type = InformerEventType::Added;
  std::string ns;
  std::string name;
  std::string resource_version;
  // The cache already held exactly this object (or, for Deleted, no longer
  // held the key) when the handler ran.
  bool cache_agreed = false;
  bool had_data = false;
};

// Records handler calls from the informer thread; the test thread waits on it.
class Recorder {
 public:
  // A handler that also checks the informer's cache from inside the call.
  kube::Informer::Handler handler(const kube::Informer& informer) {
    return [this, &informer](InformerEventType type, const json& object) {
      Seen seen = describe(type, object);
      const auto cached = informer.get(seen.ns, seen.name);
      seen.cache_agreed = type == InformerEventType::Deleted
                              ? !cached.has_value()
                              : cached.has_value() && *cached == object;
      record(std::move(seen));
    };
  }

  static Seen describe(InformerEventType type, const json& object) {
    Seen seen;
    seen.type = type;
    const auto& metadata = object.at("metadata");
    seen.ns = metadata.value("namespace", "");
    seen.name = metadata.at("name").get<std::string>();
    seen.resource_version = metadata.value("resourceVersion", "");
    seen.had_data = object.contains("data");
    return seen;
  }

  void record(Seen seen) {
    {
      const std::lock_guard lock(mutex_);
      seen_.push_back(std::move(seen));
    }
    changed_.notify_all();
  }

  // Waits until at least `count` calls were recorded.
  bool wait_for_count(std::size_t count, std::chrono::milliseconds timeout = kEventTimeout) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return seen_.size() >= count; });
  }

  // Waits until a call of `type` for `name` was recorded.
  bool wait_for(InformerEventType type, const std::string& name,
                std::chrono::milliseconds timeout = kEventTimeout) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] {
      return std::any_of(seen_.begin(), seen_.end(),
                         [&](const Seen& s) { return s.type == type && s.name == name; });
    });
  }

  std::vector<Seen> seen() const {
    const std::lock_guard lock(mutex_);
    return seen_;
  }

  // "Added cm-1" per call, in order.
  std::vector<std::string> summary() const {
    std::vector<std::string> out;
    for (const auto& s : seen()) out.push_back(std::string(type_name(s.type)) + " " + s.name);
    return out;
  }

 private:
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<Seen> seen_;
};

// A TCP relay between a client and the API server, so that a test can cut
// the connection under an open watch: a transport failure of the real
// server's stream, which the server itself offers no way to cause.
class TcpRelay {
 public:
  TcpRelay(std::string target_host, int target_port)
      : target_host_(std::move(target_host)), target_port_(target_port) {
    listener_ = Fd(::socket(AF_INET, SOCK_STREAM, 0));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof addr;
    if (listener_.get() < 0 || ::bind(listener_.get(), reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
        ::listen(listener_.get(), 16) != 0 ||
        ::getsockname(listener_.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      throw std::runtime_error("relay: cannot listen on loopback");
    }
    port_ = ntohs(addr.sin_port);
    int pipe_fds[2];
    if (::pipe(pipe_fds) != 0) throw std::runtime_error("relay: pipe() failed");
    wake_read_ = Fd(pipe_fds[0]);
    wake_write_ = Fd(pipe_fds[1]);
    thread_ = std::thread([this] { loop(); });
  }
  ~TcpRelay() {
    stopping_ = true;
    wake();
    thread_.join();
  }
  TcpRelay(const TcpRelay&) = delete;
  TcpRelay& operator=(const TcpRelay&) = delete;

  int port() const { return port_; }

  // Closes every relayed connection; new ones are relayed as before.
  void cut() {
    cut_requested_ = true;
    wake();
  }

  // Connections relayed so far.
  int accepted() const { return accepted_.load(); }

 private:
  class Fd {
   public:
    Fd() = default;
    explicit Fd(int fd) : fd_(fd) {}
    Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    Fd& operator=(Fd&& other) noexcept {
      if (this != &other) {
        reset();
        fd_ = std::exchange(other.fd_, -1);
      }
      return *this;
    }
    ~Fd() { reset(); }
    int get() const { return fd_; }

   private:
    void reset() {
      if (fd_ >= 0) ::close(fd_);
      fd_ = -1;
    }
    int fd_ = -1;
  };

  struct Pair {
    Fd client;
    Fd server;
  };

  void wake() {
    const char byte = 1;
    (void)!::write(wake_write_.get(), &byte, 1);
  }

  Fd connect_target() const {
    Fd fd(::socket(AF_INET, SOCK_STREAM, 0));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(target_port_));
    ::inet_pton(AF_INET, target_host_.c_str(), &addr.sin_addr);
    if (fd.get() < 0 || ::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      return Fd();
    }
    return fd;
  }

  // Copies what `from` has to `to`; false when either side is done.
  static bool pump(int from, int to) {
    char buffer[16384];
    const ssize_t got = ::read(from, buffer, sizeof buffer);
    if (got <= 0) return false;
    for (ssize_t sent = 0; sent < got;) {
      const ssize_t n = ::send(to, buffer + sent, static_cast<std::size_t>(got - sent), MSG_NOSIGNAL);
      if (n <= 0) return false;
      sent += n;
    }
    return true;
  }

  void loop() {
    std::vector<Pair> pairs;
    while (!stopping_) {
      if (cut_requested_.exchange(false)) pairs.clear();
      std::vector<pollfd> fds{{wake_read_.get(), POLLIN, 0}, {listener_.get(), POLLIN, 0}};
      for (const auto& p : pairs) {
        fds.push_back({p.client.get(), POLLIN, 0});
        fds.push_back({p.server.get(), POLLIN, 0});
      }
      if (::poll(fds.data(), fds.size(), 1000) <= 0) continue;
      if (fds[0].revents != 0) {
        char drain[64];
        (void)!::read(wake_read_.get(), drain, sizeof drain);
        continue;  // the flags decide; poll again with fresh state
      }
      if (fds[1].revents & POLLIN) {
        Fd client(::accept(listener_.get(), nullptr, nullptr));
        Fd server = connect_target();
        if (client.get() >= 0 && server.get() >= 0) {
          ++accepted_;
          pairs.push_back({std::move(client), std::move(server)});
        }
        continue;  // pairs changed: the poll set is stale
      }
      std::vector<Pair> alive;
      for (std::size_t i = 0; i < pairs.size(); ++i) {
        const auto& from_client = fds[2 + 2 * i];
        const auto& from_server = fds[3 + 2 * i];
        bool ok = true;
        if (from_client.revents != 0) ok = pump(pairs[i].client.get(), pairs[i].server.get());
        if (ok && from_server.revents != 0) ok = pump(pairs[i].server.get(), pairs[i].client.get());
        if (ok) alive.push_back(std::move(pairs[i]));
      }
      pairs = std::move(alive);
    }
  }

  std::string target_host_;
  int target_port_;
  int port_ = 0;
  Fd listener_;
  Fd wake_read_;
  Fd wake_write_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> cut_requested_{false};
  std::atomic<int> accepted_{0};
  std::thread thread_;  // last: started once everything it uses exists
};

// "https://127.0.0.1:6443" -> {"127.0.0.1", 6443}.
std::pair<std::string, int> host_and_port(const std::string& url) {
  const auto host_start = url.find("://") + 3;
  const auto colon = url.rfind(':');
  return {url.substr(host_start, colon - host_start), std::stoi(url.substr(colon + 1))};
}

std::vector<std::string> names_in(const std::vector<json>& objects) {
  std::vector<std::string> names;
  for (const auto& o : objects) names.push_back(o.at("metadata").at("name").get<std::string>());
  std::sort(names.begin(), names.end());
  return names;
}

using Names = std::vector<std::string>;

class InformerTest : public KubeApiClient {
 protected:
  void SetUp() override {
    KubeApiClient::SetUp();
    label_ = testenv::unique_name("inf");
  }

  json labels() const { return {{"outflow-test", label_}}; }
  std::string selector() const { return "outflow-test=" + label_; }

  kube::InformerOptions options() const {
    kube::InformerOptions o;
    o.namespace_name = ns_;
    o.label_selector = selector();
    o.watch_timeout = 30s;
    o.initial_backoff = 100ms;
    o.max_backoff = 1s;
    return o;
  }

  json create_config_map(const std::string& ns, const std::string& name,
                         const std::string& value = "v") {
    return api().create(kube::kinds::config_maps(), ns, config_map(name, {{"k", value}}, labels()));
  }
  json create_config_map(const std::string& name) { return create_config_map(ns_, name); }

  std::string label_;
};

using InformerSync = InformerTest;
using InformerWatch = InformerTest;
using InformerStop = InformerTest;
using InformerStream = InformerTest;
using InformerResume = InformerTest;
using InformerGone = KubeApiClientWidgets;

}  // namespace

TEST_F(InformerSync, InitialListPagesThroughMoreObjectsThanAPage) {
  Names expected;
  for (int i = 0; i < 7; ++i) {
    expected.push_back("cm-" + std::to_string(i));
    create_config_map(expected.back());
  }
  auto opts = options();
  opts.page_size = 3;  // three pages: 3 + 3 + 1
  kube::Informer informer(*rest_, kube::kinds::config_maps(), opts);
  Recorder recorder;
  informer.add_handler(recorder.handler(informer));
  EXPECT_FALSE(informer.has_synced());
  informer.start();

  ASSERT_TRUE(informer.wait_for_sync(kEventTimeout));
  EXPECT_TRUE(informer.has_synced());
  EXPECT_EQ(informer.list_count(), 1u);
  EXPECT_EQ(names_in(informer.list()), expected);
  EXPECT_EQ(names_in(informer.list(ns_)), expected);
  // Synced means the first list's events have all been handled.
  const auto seen = recorder.seen();
  ASSERT_EQ(seen.size(), 7u);
  for (const auto& s : seen) {
    EXPECT_EQ(s.type, InformerEventType::Added) << s.name;
    EXPECT_TRUE(s.cache_agreed) << s.name;
  }
  // List items come without apiVersion and kind; the informer adds them so
  // that an object looks the same whether it came by list or by watch.
  const auto cm = informer.get(ns_, "cm-3");
  ASSERT_TRUE(cm.has_value());
  EXPECT_EQ(cm->value("apiVersion", ""), "v1");
  EXPECT_EQ(cm->value("kind", ""), "ConfigMap");
  EXPECT_EQ((*cm)["data"]["k"], "v");
  EXPECT_FALSE(informer.get(ns_, "cm-99").has_value());
}

TEST_F(InformerWatch, CreateUpdateDeleteReachHandlersInOrderAfterTheCache) {
  kube::Informer informer(*rest_, kube::kinds::config_maps(), options());
  Recorder recorder;
  informer.add_handler(recorder.handler(informer));
  informer.start();
  ASSERT_TRUE(informer.wait_for_sync(kEventTimeout));
  EXPECT_TRUE(informer.list().empty());  // synced also when there is nothing

  const json created = create_config_map("watched");
  const json updated = api().merge_patch(kube::kinds::config_maps(), ns_, "watched",
                                         {{"data", {{"k", "v2"}}}});
  api().remove(kube::kinds::config_maps(), ns_, "watched");

  ASSERT_TRUE(recorder.wait_for(InformerEventType::Deleted, "watched"))
      << testing::PrintToString(recorder.summary());
  EXPECT_EQ(recorder.summary(), (Names{"Added watched", "Updated watched", "Deleted watched"}));
  const auto seen = recorder.seen();
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[0].resource_version, resource_version(created));
  EXPECT_EQ(seen[1].resource_version, resource_version(updated));
  for (const auto& s : seen) EXPECT_TRUE(s.cache_agreed) << type_name(s.type);
  EXPECT_FALSE(informer.get(ns_, "watched").has_value());
  EXPECT_EQ(informer.list_count(), 1u);
}

TEST_F(InformerSync, LabelSelectorFiltersListAndWatch) {
  const json other_labels = {{"outflow-test", label_ + "-other"}};
  create_config_map("matching");
  api().create(kube::kinds::config_maps(), ns_, config_map("other", {{"k", "v"}}, other_labels));

  kube::Informer informer(*rest_, kube::kinds::config_maps(), options());
  Recorder recorder;
  informer.add_handler(recorder.handler(informer));
  informer.start();
  ASSERT_TRUE(informer.wait_for_sync(kEventTimeout));
  EXPECT_EQ(names_in(informer.list()), (Names{"matching"}));

  // Starting to match is an Added, stopping to match a Deleted.
  api().merge_patch(kube::kinds::config_maps(), ns_, "other",
                    {{"metadata", {{"labels", labels()}}}});
  ASSERT_TRUE(recorder.wait_for(InformerEventType::Added, "other"));
  api().merge_patch(kube::kinds::config_maps(), ns_, "matching",
                    {{"metadata", {{"labels", other_labels}}}});
  ASSERT_TRUE(recorder.wait_for(InformerEventType::Deleted, "matching"));
  EXPECT_EQ(recorder.summary(), (Names{"Added matching", "Added other", "Deleted matching"}));
  EXPECT_EQ(names_in(informer.list()), (Names{"other"}));
}

TEST_F(InformerSync, NamespaceScopesListAndWatch) {
  testenv::ScopedNamespace other(*rest_, "outflow-inf");
  create_config_map(ns_, "here");
  create_config_map(other.name(), "there");

  kube::Informer scoped(*rest_, kube::kinds::config_maps(), options());
  auto everywhere_options = options();
  everywhere_options.namespace_name.clear();
  kube::Informer everywhere(*rest_, kube::kinds::config_maps(), everywhere_options);
  Recorder scoped_seen;
  Recorder everywhere_seen;
  scoped.add_handler(scoped_seen.handler(scoped));
  everywhere.add_handler(everywhere_seen.handler(everywhere));
  scoped.start();
  everywhere.start();
  ASSERT_TRUE(scoped.wait_for_sync(kEventTimeout));
  ASSERT_TRUE(everywhere.wait_for_sync(kEventTimeout));

  EXPECT_EQ(names_in(scoped.list()), (Names{"here"}));
  EXPECT_EQ(names_in(everywhere.list()), (Names{"here", "there"}));
  EXPECT_EQ(names_in(everywhere.list(other.name())), (Names{"there"}));
  EXPECT_TRUE(everywhere.get(other.name(), "there").has_value());
  EXPECT_FALSE(everywhere.get(ns_, "there").has_value());

  // A watch event in the other namespace reaches only the all-namespaces
  // informer; the later one in ours shows the scoped one was listening.
  create_config_map(other.name(), "there-too");
  create_config_map(ns_, "here-too");
  ASSERT_TRUE(everywhere_seen.wait_for(InformerEventType::Added, "here-too"));
  ASSERT_TRUE(scoped_seen.wait_for(InformerEventType::Added, "here-too"));
  EXPECT_EQ(scoped_seen.summary(), (Names{"Added here", "Added here-too"}));
  EXPECT_TRUE(everywhere_seen.wait_for(InformerEventType::Added, "there-too"));
  EXPECT_EQ(names_in(everywhere.list()), (Names{"here", "here-too", "there", "there-too"}));
}

TEST_F(InformerSync, TransformRunsBeforeTheCacheAndTheHandlers) {
  const auto secret = [&](const std::string& name, const std::string& value) {
    return json{{"apiVersion", "v1"},
                {"kind", "Secret"},
                {"metadata", {{"name", name}, {"labels", labels()}}},
                {"stringData", {{"password", value}}}};
  };
  api().create(kube::kinds::secrets(), ns_, secret("before", "s3cret"));

  auto opts = options();
  opts.transform = [](json object) {
    object.erase("data");
    object["metadata"].erase("managedFields");
    return object;
  };
  kube::Informer informer(*rest_, kube::kinds::secrets(), opts);
  Recorder recorder;
  informer.add_handler(recorder.handler(informer));
  informer.start();
  ASSERT_TRUE(informer.wait_for_sync(kEventTimeout));

  api().create(kube::kinds::secrets(), ns_, secret("after", "other"));
  api().merge_patch(kube::kinds::secrets(), ns_, "after", {{"stringData", {{"password", "x"}}}});
  ASSERT_TRUE(recorder.wait_for(InformerEventType::Updated, "after"));

  for (const auto& s : recorder.seen()) {
    EXPECT_FALSE(s.had_data) << type_name(s.type) << " " << s.name;
    EXPECT_TRUE(s.cache_agreed) << type_name(s.type) << " " << s.name;
  }
  for (const auto& name : {"before", "after"}) {
    const auto cached = informer.get(ns_, name);
    ASSERT_TRUE(cached.has_value()) << name;
    EXPECT_FALSE(cached->contains("data")) << name;
    EXPECT_FALSE(cached->at("metadata").contains("managedFields")) << name;
    EXPECT_EQ(cached->value("kind", ""), "Secret") << name;
  }
}

TEST_F(InformerWatch, WatchesTheServerEndsContinueWithoutRelistingOrMissingEvents) {
  auto opts = options();
  opts.watch_timeout = 2s;  // the server closes each watch after 2 s
  kube::Informer informer(*rest_, kube::kinds::config_maps(), opts);
  Recorder recorder;
  informer.add_handler(recorder.handler(informer));
  informer.start();
  ASSERT_TRUE(informer.wait_for_sync(kEventTimeout));

  // 4.5 s of steady writes span at least two server-ended watches, and
  // writes land right around each reconnect.
  Names expected;
  for (int i = 0; i < 9; ++i) {
    expected.push_back("Added tick-" + std::to_string(i));
    create_config_map("tick-" + std::to_string(i));
    std::this_thread::sleep_for(500ms);
  }
  ASSERT_TRUE(recorder.wait_for_count(9)) << testing::PrintToString(recorder.summary());
  EXPECT_EQ(recorder.summary(), expected);
  EXPECT_EQ(informer.list().size(), 9u);
  EXPECT_EQ(informer.list_count(), 1u) << "a watch the server ended must not cost a relist";
}

TEST_F(InformerWatch, AWatchCutByTheNetworkResumesFromTheLastVersion) {
  const auto [host, port] = host_and_port(testenv::require("OUTFLOW_TEST_KUBE_SERVER"));
  TcpRelay relay(host, port);
  auto endpoint = testenv::endpoint_with_token(testenv::require("OUTFLOW_TEST_KUBE_ADMIN_TOKEN"));
  endpoint.server = "https://" + host + ":" + std::to_string(relay.port());
  kube::RestClient relayed(endpoint);

  kube::Informer informer(relayed, kube::kinds::config_maps(), options());
  Recorder recorder;
  informer.add_handler(recorder.handler(informer));
  informer.start();
  ASSERT_TRUE(informer.wait_for_sync(kEventTimeout));
  create_config_map("before-cut");
  ASSERT_TRUE(recorder.wait_for(InformerEventType::Added, "before-cut"));
  const int connections = relay.accepted();

  // Writes while the watch is down (it waits out 100 ms of back-off) must
  // arrive once it reconnects, from the version it had reached.
  relay.cut();
  create_config_map("during-cut");
  api().merge_patch(kube::kinds::config_maps(), ns_, "before-cut", {{"data", {{"k", "v2"}}}});

  ASSERT_TRUE(recorder.wait_for(InformerEventType::Updated, "before-cut"))
      << testing::PrintToString(recorder.summary());
  EXPECT_EQ(recorder.summary(), (Names{"Added before-cut", "Added during-cut", "Updated before-cut"}));
  EXPECT_GT(relay.accepted(), connections) << "the informer never reconnected";
  EXPECT_EQ(informer.list_count(), 1u) << "a version still valid must not cost a relist";
}

TEST_F(InformerStop, StopMidWatchIsPromptIdempotentAndFinal) {
  auto opts = options();
  opts.watch_timeout = 300s;
  kube::Informer informer(*rest_, kube::kinds::config_maps(), opts);
  Recorder recorder;
  informer.add_handler(recorder.handler(informer));
  informer.start();
  ASSERT_TRUE(informer.wait_for_sync(kEventTimeout));
  create_config_map("before-stop");
  ASSERT_TRUE(recorder.wait_for(InformerEventType::Added, "before-stop"));  // the watch is open

  const auto started = Clock::now();
  informer.stop();
  const auto took = Clock::now() - started;
  EXPECT_LT(took, 1s) << std::chrono::duration_cast<std::chrono::milliseconds>(took).count()
                      << " ms";
  informer.stop();  // idempotent

  create_config_map("after-stop");
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(recorder.summary(), (Names{"Added before-stop"}));
  // The cache stays readable after stop, frozen where it was.
  EXPECT_TRUE(informer.get(ns_, "before-stop").has_value());
  EXPECT_FALSE(informer.get(ns_, "after-stop").has_value());
}

TEST_F(InformerStop, StopDuringBackOffIsPrompt) {
  // Nothing listens on port 1: every list fails at once with connection
  // refused, and the informer then sleeps its back-off. Plain HTTP, because
  // setting up a TLS connection (cpprestsdk loads the system CA bundle for
  // each) takes seconds under the sanitizers, and the list would still be
  // running when stop() comes.
  auto endpoint = testenv::endpoint_with_token(testenv::require("OUTFLOW_TEST_KUBE_ADMIN_TOKEN"));
  endpoint.server = "http://127.0.0.1:1";
  kube::RestClient unreachable(endpoint, 5s);
  auto opts = options();
  opts.initial_backoff = 10s;
  opts.max_backoff = 10s;
  kube::Informer informer(unreachable, kube::kinds::config_maps(), opts);
  informer.start();
  EXPECT_FALSE(informer.wait_for_sync(500ms));

  const auto started = Clock::now();
  informer.stop();
  EXPECT_LT(Clock::now() - started, 1s);
  EXPECT_FALSE(informer.has_synced());
  EXPECT_EQ(informer.list_count(), 0u);
}

TEST_F(InformerStop, StopWithoutStartAndMisuseAreHarmless) {
  kube::Informer never_started(*rest_, kube::kinds::config_maps(), options());
  never_started.stop();
  never_started.stop();

  kube::Informer informer(*rest_, kube::kinds::config_maps(), options());
  informer.start();
  EXPECT_THROW(informer.start(), std::logic_error);
  EXPECT_THROW(informer.add_handler([](InformerEventType, const json&) {}), std::logic_error);

  auto bad = options();
  bad.watch_timeout = 0s;
  EXPECT_THROW((void)kube::Informer(*rest_, kube::kinds::config_maps(), bad), std::invalid_argument);
  auto cluster_scoped = options();  // a namespace for namespaces
  EXPECT_THROW((void)kube::Informer(*rest_, kube::kinds::namespaces(), cluster_scoped),
               std::invalid_argument);
}

TEST_F(InformerStop, AHandlerMayStopItsInformer) {
  auto opts = options();
  std::unique_ptr<kube::Informer> informer =
      std::make_unique<kube::Informer>(*rest_, kube::kinds::config_maps(), opts);
  std::atomic<int> calls{0};
  kube::Informer* self = informer.get();
  informer->add_handler([&calls, self](InformerEventType, const json&) {
    ++calls;
    self->stop();  // must neither deadlock nor join itself
  });
  create_config_map("one");
  create_config_map("two");
  informer->start();
  ASSERT_TRUE(informer->wait_for_sync(kEventTimeout));
  create_config_map("three");
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(calls.load(), 2);  // the first list's two; the watch never started
  const auto started = Clock::now();
  informer.reset();  // joins
  EXPECT_LT(Clock::now() - started, 1s);
}

TEST_F(InformerResume, AReflectorWithAFreshVersionWatchesWithoutListing) {
  kube::ObjectCache cache;
  const json listed = api().list(kube::kinds::config_maps(), ns_, {selector(), "", "", 0, ""});
  cache.replace({}, listed.at("metadata").at("resourceVersion").get<std::string>());
  create_config_map("later");

  Recorder recorder;
  kube::WatchReflector reflector(*rest_, kube::kinds::config_maps(), options(), cache,
                                 [&](const kube::CacheDelta& change) {
                                   recorder.record(Recorder::describe(change.type, change.object));
                                 });
  std::thread loop([&] { reflector.run(); });
  const bool seen = recorder.wait_for(InformerEventType::Added, "later");
  reflector.stop();
  loop.join();
  ASSERT_TRUE(seen);
  EXPECT_EQ(reflector.list_count(), 0u);
  EXPECT_TRUE(cache.get(ns_, "later").has_value());
}

TEST_F(InformerResume, BookmarksMoveTheVersionWithoutReportingAnything) {
  kube::ObjectCache cache;
  const json listed = api().list(kube::kinds::config_maps(), ns_, {selector(), "", "", 0, ""});
  const std::string start = listed.at("metadata").at("resourceVersion").get<std::string>();
  cache.replace({}, start);

  auto opts = options();
  opts.watch_timeout = 3s;
  Recorder recorder;
  kube::WatchReflector reflector(*rest_, kube::kinds::config_maps(), opts, cache,
                                 [&](const kube::CacheDelta& change) {
                                   recorder.record(Recorder::describe(change.type, change.object));
                                 });
  std::thread loop([&] { reflector.run(); });
  // Writes the selector filters out: the watch sends no event for them, but
  // the server's version moves past them, and a bookmark says so. (v1.35
  // sends it as the watch reaches its deadline, and only when the kind saw a
  // write while the watch was open, hence writes until the version moves.)
  int writes = 0;
  const bool moved = eventually(
      [&] {
        if (cache.resource_version() != start) return true;
        api().create(kube::kinds::config_maps(), ns_,
                     config_map("unlabelled-" + std::to_string(writes++), {{"k", "v"}}));
        std::this_thread::sleep_for(450ms);
        return false;
      },
      8s);
  reflector.stop();
  loop.join();
  EXPECT_TRUE(moved) << "no bookmark moved the version from " << start;
  EXPECT_TRUE(recorder.seen().empty());
  EXPECT_EQ(reflector.list_count(), 0u);
}

TEST_F(InformerGone, AVersionOlderThanTheServerKeepsRelistsAndReportsTheGap) {
  // What an informer holds after a long disconnection: the objects as they
  // were, at a version the server no longer keeps. The Widget CRD is new, so
  // its watch cache starts far after resourceVersion 1 and answers a watch
  // from there with an ERROR event: 410 "too old resource version".
  for (const auto& name : {"kept", "changed", "gone"}) {
    api().create(widgets_, ns_, widget(name, 1));
  }
  kube::ObjectCache cache;
  json before = api().list(widgets_, ns_);
  std::vector<json> items;
  for (auto& item : before["items"]) items.push_back(item);
  cache.replace(std::move(items), "1");

  // The gap: what happened while nobody was watching.
  api().merge_patch(widgets_, ns_, "changed", {{"spec", {{"size", 2}}}});
  api().remove(widgets_, ns_, "gone");
  api().create(widgets_, ns_, widget("fresh", 1));

  Recorder recorder;
  std::mutex mutex;
  std::condition_variable listed_cv;
  bool listed = false;
  auto opts = kube::InformerOptions{};
  opts.namespace_name = ns_;
  opts.initial_backoff = 100ms;
  opts.max_backoff = 1s;
  kube::WatchReflector reflector(
      *rest_, widgets_, opts, cache,
      [&](const kube::CacheDelta& change) {
        recorder.record(Recorder::describe(change.type, change.object));
      },
      [&] {
        {
          const std::lock_guard lock(mutex);
          listed = true;
        }
        listed_cv.notify_all();
      });
  std::thread loop([&] { reflector.run(); });
  {
    std::unique_lock lock(mutex);
    listed_cv.wait_for(lock, kEventTimeout, [&] { return listed; });
  }
  reflector.stop();
  loop.join();

  ASSERT_EQ(reflector.list_count(), 1u) << "the 410 must have led to exactly one list";
  // Unchanged "kept" is not reported; the rest in key order, deletions last.
  EXPECT_EQ(recorder.summary(), (Names{"Updated changed", "Added fresh", "Deleted gone"}));
  EXPECT_EQ(names_in(cache.list()), (Names{"changed", "fresh", "kept"}));
  EXPECT_EQ(cache.get(ns_, "changed")->at("spec").at("size"), 2);
  EXPECT_NE(cache.resource_version(), "1");
}

TEST_F(InformerStream, StreamLinesPassesEachWatchLineAndEndsWithTheServer) {
  const json listed = api().list(kube::kinds::config_maps(), ns_, {selector(), "", "", 0, ""});
  create_config_map("streamed");
  kube::WatchOptions watch;
  watch.label_selector = selector();
  watch.resource_version = listed.at("metadata").at("resourceVersion").get<std::string>();
  watch.timeout = 1s;

  std::vector<std::string> lines;
  kube::StreamCancel cancel;
  const auto started = Clock::now();
  const auto result = rest_->stream_lines(
      kube::watch_path(kube::kinds::config_maps(), ns_, watch),
      [&](std::string_view line) {
        lines.emplace_back(line);
        return true;
      },
      cancel, 10s);
  const auto took = Clock::now() - started;

  EXPECT_EQ(result.response.status, 200);
  EXPECT_FALSE(result.cancelled);
  EXPECT_GE(took, 900ms);  // the server held it open for timeoutSeconds
  EXPECT_LT(took, 5s);
  ASSERT_FALSE(lines.empty());
  const auto first = kube::parse_watch_event(lines.front());
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->type, kube::WatchEventType::Added);
  EXPECT_EQ(first->object["metadata"]["name"], "streamed");
}

TEST_F(InformerStream, ARefusedStreamReturnsTheWholeStatusAndNoLines) {
  kube::RestClient user(unprivileged_endpoint());
  kube::WatchOptions watch;
  watch.resource_version = "1";
  int lines = 0;
  kube::StreamCancel cancel;
  const auto result = user.stream_lines(
      kube::watch_path(kube::kinds::config_maps(), ns_, watch),
      [&](std::string_view) {
        ++lines;
        return true;
      },
      cancel, 10s);
  EXPECT_EQ(result.response.status, 403);
  EXPECT_EQ(result.response.body.value("reason", ""), "Forbidden") << result.response.text;
  EXPECT_EQ(lines, 0);
}

TEST_F(InformerStream, CancelEndsAQuietStreamAtOnceAndStaysCancelled) {
  const json listed = api().list(kube::kinds::config_maps(), ns_, {selector(), "", "", 0, ""});
  create_config_map("first-line");
  kube::WatchOptions watch;
  watch.label_selector = selector();
  watch.resource_version = listed.at("metadata").at("resourceVersion").get<std::string>();
  watch.timeout = 60s;
  const std::string path = kube::watch_path(kube::kinds::config_maps(), ns_, watch);

  kube::StreamCancel cancel;
  kube::StreamResult result;
  std::atomic<int> lines{0};
  std::atomic<bool> returned{false};
  std::thread reader([&] {
    result = rest_->stream_lines(
        path,
        [&](std::string_view) {
          ++lines;
          return true;
        },
        cancel, 90s);
    returned = true;
  });
  // Connected once the first event is through; then nothing more comes.
  const bool connected = eventually([&] { return lines.load() > 0; }, 30s);
  std::this_thread::sleep_for(200ms);
  EXPECT_TRUE(connected);
  EXPECT_FALSE(returned.load());
  const auto started = Clock::now();
  cancel.cancel();
  reader.join();
  EXPECT_LT(Clock::now() - started, 1s);
  EXPECT_TRUE(result.cancelled);
  EXPECT_EQ(result.response.status, 200);
  EXPECT_EQ(lines.load(), 1);
  EXPECT_TRUE(cancel.cancelled());

  // Once cancelled, always cancelled: no request is even sent.
  kube::StreamCancel copy = cancel;
  const auto again =
      rest_->stream_lines(path, [](std::string_view) { return true; }, copy, 90s);
  EXPECT_TRUE(again.cancelled);
  EXPECT_EQ(again.response.status, 0);
}

TEST_F(InformerStream, ALineHandlerMayEndTheStreamEarly) {
  create_config_map("a");
  create_config_map("b");
  kube::WatchOptions watch;
  watch.label_selector = selector();
  watch.resource_version = "";  // "now": synthetic ADDED events for what exists
  watch.timeout = 60s;
  int lines = 0;
  kube::StreamCancel cancel;
  const auto started = Clock::now();
  const auto result = rest_->stream_lines(
      kube::watch_path(kube::kinds::config_maps(), ns_, watch),
      [&](std::string_view) {
        ++lines;
        return false;
      },
      cancel, 90s);
  EXPECT_LT(Clock::now() - started, 5s);
  EXPECT_EQ(lines, 1);
  EXPECT_EQ(result.response.status, 200);
  EXPECT_FALSE(result.cancelled);
  EXPECT_FALSE(cancel.cancelled()) << "an early end must not cancel the caller's token";
}

}  // namespace outflow::kube_tests
