#pragma once

// Pure: the database URL is a Secret, yet libpq quotes parts of it (the whole
// URL, password included, for some parse errors) in its messages. These keep
// every part of it out of logs, Events and status, and say what is wrong with
// a URL libpq cannot use before anything connects.

#include <optional>
#include <string>
#include <string_view>

namespace outflow::pg {

// `message` with every part of `url` replaced: quoted tokens that come from
// the URL become "[redacted]", and the URL's user, password, host, port and
// database name become [user], [password], ... wherever they appear.
std::string redact(std::string_view message, const std::string& url);

// Why libpq cannot use `url` (a postgres:// URI or a key=value string), as a
// phrase that follows "the database URL " and names no part of it; nullopt
// when it parses and every port is a number from 1 to 65535.
std::optional<std::string> url_problem(const std::string& url);

}  // namespace outflow::pg
