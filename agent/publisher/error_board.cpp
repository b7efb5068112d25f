#include "agent/publisher/error_board.h"

namespace outflow::agent::publisher {
namespace {

std::size_t slot(ErrorSource source) { return static_cast<std::size_t>(source); }

}  // namespace

void ErrorBoard::raise(ErrorSource source, std::string message, std::chrono::system_clock::time_point at) {
  auto& shown = by_source_[slot(source)];
  if (shown && shown->message == message) return;
  shown = ShownError{std::move(message), at};
  raised_order_[slot(source)] = ++counter_;
}

void ErrorBoard::clear(ErrorSource source) { by_source_[slot(source)].reset(); }

bool ErrorBoard::active(ErrorSource source) const { return by_source_[slot(source)].has_value(); }

std::optional<ShownError> ErrorBoard::current() const {
  std::optional<ShownError> latest;
  std::uint64_t latest_order = 0;
  for (std::size_t i = 0; i < by_source_.size(); ++i) {
    if (by_source_[i] && raised_order_[i] >= latest_order) {
      latest = by_source_[i];
      latest_order = raised_order_[i];
    }
  }
  return latest;
}

}  // namespace outflow::agent::publisher
