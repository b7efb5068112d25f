#include "common/kube/cluster_endpoint.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <array>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace outflow::kube {
namespace {

std::string read_file(const std::filesystem::path& path, std::string_view what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError(fmt::format("{}: cannot read {}", what, path.string()));
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// Relative paths in a kubeconfig are relative to the kubeconfig's own folder.
std::filesystem::path resolve(const std::filesystem::path& base, const std::string& p) {
  std::filesystem::path path(p);
  return path.is_absolute() ? path : base / path;
}

YAML::Node find_named(const YAML::Node& list, const std::string& name, std::string_view kind,
                      const std::string& file) {
  if (list && list.IsSequence()) {
    for (const auto& entry : list) {
      if (entry["name"] && entry["name"].as<std::string>() == name) return entry[std::string(kind)];
    }
  }
  throw ConfigError(fmt::format("kubeconfig {}: no {} named \"{}\"", file, kind, name));
}

// Reads `<key>-data` (base64) or `<key>` (file path) from a kubeconfig entry.
std::string data_or_file(const YAML::Node& node, const std::string& key,
                         const std::filesystem::path& base, std::string_view what) {
  if (node[key + "-data"]) return decode_base64(node[key + "-data"].as<std::string>());
  if (node[key]) return read_file(resolve(base, node[key].as<std::string>()), what);
  return {};
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace

std::string decode_base64(const std::string& text) {
  static constexpr std::string_view alphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  unsigned buffer = 0;
  int bits = 0;
  for (char c : text) {
    if (c == '=' || c == '\n' || c == '\r' || c == ' ') continue;
    const auto pos = alphabet.find(c);
    if (pos == std::string_view::npos) throw ConfigError("invalid base64 data in kubeconfig");
    buffer = (buffer << 6) | static_cast<unsigned>(pos);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buffer >> bits) & 0xFF));
    }
  }
  return out;
}

ClusterEndpoint load_kubeconfig(const std::string& path, const std::string& context) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::Exception& e) {
    throw ConfigError(fmt::format("kubeconfig {}: {}", path, e.what()));
  }
  const auto base = std::filesystem::path(path).parent_path();
  const std::string context_name =
      !context.empty() ? context
                       : (root["current-context"] ? root["current-context"].as<std::string>() : "");
  if (context_name.empty()) {
    throw ConfigError(fmt::format("kubeconfig {}: no current-context set", path));
  }
  const auto ctx = find_named(root["contexts"], context_name, "context", path);
  const auto cluster = find_named(root["clusters"], ctx["cluster"].as<std::string>(""), "cluster", path);
  const auto user = find_named(root["users"], ctx["user"].as<std::string>(""), "user", path);

  ClusterEndpoint ep;
  ep.server = cluster["server"].as<std::string>("");
  while (!ep.server.empty() && ep.server.back() == '/') ep.server.pop_back();
  if (ep.server.empty()) throw ConfigError(fmt::format("kubeconfig {}: cluster has no server", path));
  ep.ca_pem = data_or_file(cluster, "certificate-authority", base, "kubeconfig CA");
  ep.client_cert_pem = data_or_file(user, "client-certificate", base, "kubeconfig client certificate");
  ep.client_key_pem = data_or_file(user, "client-key", base, "kubeconfig client key");
  if (user["token"]) {
    ep.bearer_token = user["token"].as<std::string>();
  } else if (user["tokenFile"]) {
    ep.token_file = resolve(base, user["tokenFile"].as<std::string>());
    ep.bearer_token = trim(read_file(ep.token_file, "kubeconfig tokenFile"));
  }
  if (ep.bearer_token.empty() && ep.client_cert_pem.empty()) {
    throw ConfigError(fmt::format(
        "kubeconfig {}: user of context \"{}\" has neither a token nor a client certificate "
        "(exec and auth-provider plugins are not supported)",
        path, context_name));
  }
  ep.namespace_name = ctx["namespace"].as<std::string>("default");
  return ep;
}

ClusterEndpoint load_in_cluster(const std::string& mount_dir) {
  const char* host = std::getenv("KUBERNETES_SERVICE_HOST");
  const char* port = std::getenv("KUBERNETES_SERVICE_PORT");
  if (host == nullptr || port == nullptr || *host == '\0' || *port == '\0') {
    throw ConfigError(
        "not running in a cluster: KUBERNETES_SERVICE_HOST/KUBERNETES_SERVICE_PORT are unset "
        "(pass --kubeconfig)");
  }
  const std::filesystem::path dir(mount_dir);
  ClusterEndpoint ep;
  const std::string h(host);
  // IPv6 service addresses need brackets in a URL.
  ep.server = fmt::format("https://{}:{}", h.find(':') != std::string::npos ? "[" + h + "]" : h, port);
  ep.token_file = (dir / "token").string();
  ep.bearer_token = trim(read_file(ep.token_file, "service-account token"));
  ep.ca_pem = read_file(dir / "ca.crt", "service-account CA");
  ep.namespace_name = trim(read_file(dir / "namespace", "service-account namespace"));
  return ep;
}

}  // namespace outflow::kube
