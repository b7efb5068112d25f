#include "agent/postgres/url_safety.h"

#include <libpq-fe.h>

#include <algorithm>
#include <charconv>
#include <memory>
#include <utility>
#include <vector>

namespace outflow::pg {
namespace {

struct Part {
  std::string name;   // libpq keyword: user, password, ...
  std::string value;
};

struct OptionsDeleter {
  void operator()(PQconninfoOption* options) const noexcept { PQconninfoFree(options); }
};
struct MessageDeleter {
  void operator()(char* message) const noexcept { PQfreemem(message); }
};

// The settings that identify where and as whom the agent connects: these
// are replaced wherever they appear, not only inside quotes.
bool identifying(std::string_view keyword) {
  return keyword == "user" || keyword == "password" || keyword == "host" || keyword == "hostaddr" ||
         keyword == "port" || keyword == "dbname";
}

// What libpq reads from the URL; empty when it cannot parse it.
std::vector<Part> parsed_parts(const std::string& url) {
  char* raw_error = nullptr;
  const std::unique_ptr<PQconninfoOption, OptionsDeleter> options(PQconninfoParse(url.c_str(), &raw_error));
  const std::unique_ptr<char, MessageDeleter> error(raw_error);
  std::vector<Part> parts;
  if (!options) return parts;
  for (const PQconninfoOption* o = options.get(); o->keyword != nullptr; ++o) {
    if (o->val != nullptr && *o->val != '\0') parts.push_back({o->keyword, o->val});
  }
  return parts;
}

// The user-info of a URI ("user:password" between "://" and the '@' before
// the host), found without parsing it, for URLs libpq rejects.
std::optional<Part> raw_password(const std::string& url) {
  const auto scheme = url.find("://");
  if (scheme == std::string::npos) return std::nullopt;
  const auto start = scheme + 3;
  const auto path = url.find_first_of("/?", start);
  const auto at = url.rfind('@', path == std::string::npos ? std::string::npos : path);
  if (at == std::string::npos || at < start) return std::nullopt;
  const auto colon = url.find(':', start);
  if (colon == std::string::npos || colon > at) return std::nullopt;
  return Part{"password", url.substr(colon + 1, at - colon - 1)};
}

void replace_all(std::string& text, std::string_view what, std::string_view with) {
  if (what.empty()) return;
  for (auto pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + with.size())) {
    text.replace(pos, what.size(), with);
  }
}

// A quoted token that is a piece of the URL (libpq quotes the token it could
// not parse), one of its values, or anything holding the password.
bool from_url(std::string_view token, const std::string& url, const std::vector<Part>& parts) {
  if (token.empty()) return false;
  if (token.size() >= 3 && url.find(token) != std::string::npos) return true;
  for (const auto& p : parts) {
    if (token == p.value) return true;
    if (p.name == "password" && token.find(p.value) != std::string_view::npos) return true;
  }
  return false;
}

bool valid_port(std::string_view port) {
  if (port.empty()) return true;  // libpq's default
  int value = 0;
  const auto [end, error] = std::from_chars(port.data(), port.data() + port.size(), value);
  return error == std::errc{} && end == port.data() + port.size() && value >= 1 && value <= 65535;
}

}  // namespace

std::string redact(std::string_view message, const std::string& url) {
  auto parts = parsed_parts(url);
  if (auto password = raw_password(url)) parts.push_back(std::move(*password));

  // Quoted tokens first: libpq quotes what it read from the URL.
  std::string out;
  std::size_t pos = 0;
  while (pos < message.size()) {
    const auto open = message.find('"', pos);
    const auto close = open == std::string_view::npos ? open : message.find('"', open + 1);
    if (close == std::string_view::npos) {
      out += message.substr(pos);
      break;
    }
    const auto token = message.substr(open + 1, close - open - 1);
    out += message.substr(pos, open + 1 - pos);
    out += from_url(token, url, parts) ? "[redacted]" : std::string(token);
    out += '"';
    pos = close + 1;
  }

  replace_all(out, url, "[url]");
  // Longest first, so a host that contains the user name goes whole.
  std::stable_sort(parts.begin(), parts.end(), [](const Part& a, const Part& b) { return a.value.size() > b.value.size(); });
  for (const auto& p : parts) {
    // Short values ("1", "db") would shred ordinary words; the password goes whatever its length.
    if (identifying(p.name) && (p.name == "password" || p.value.size() >= 3)) replace_all(out, p.value, "[" + p.name + "]");
  }
  return out;
}

std::optional<std::string> url_problem(const std::string& url) {
  char* raw_error = nullptr;
  const std::unique_ptr<PQconninfoOption, OptionsDeleter> options(PQconninfoParse(url.c_str(), &raw_error));
  const std::unique_ptr<char, MessageDeleter> error(raw_error);
  if (!options) {
    std::string reason = error ? redact(error.get(), url) : "out of memory";
    while (!reason.empty() && (reason.back() == '\n' || reason.back() == ' ')) reason.pop_back();
    return "cannot be parsed (" + reason +
           "); percent-encode reserved characters in the user name and password (% as %25, @ as %40, "
           ": as %3A, / as %2F)";
  }
  for (const PQconninfoOption* o = options.get(); o->keyword != nullptr; ++o) {
    if (std::string_view(o->keyword) != "port" || o->val == nullptr) continue;
    // Several hosts come with a comma-separated port list.
    std::string_view ports(o->val);
    while (true) {
      const auto comma = ports.find(',');
      if (!valid_port(ports.substr(0, comma))) return "has a port that is not a number from 1 to 65535";
      if (comma == std::string_view::npos) break;
      ports.remove_prefix(comma + 1);
    }
  }
  return std::nullopt;
}

}  // namespace outflow::pg
