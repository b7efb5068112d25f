#include "operator/workloads/image_policy.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

namespace outflow::op::workloads {

bool image_matches(const std::string& image, const std::string& pattern) {
  if (!pattern.empty() && pattern.back() == '*') {
    return image.starts_with(std::string_view(pattern).substr(0, pattern.size() - 1));
  }
  return image == pattern;
}

std::string effective_agent_image(const std::string& spec_image, const OperatorDefaults& defaults) {
  return spec_image.empty() ? defaults.agent_image : spec_image;
}

std::optional<std::string> refuse_agent_image(const std::string& spec_image, const OperatorDefaults& defaults) {
  const auto image = effective_agent_image(spec_image, defaults);
  if (image == defaults.agent_image) return std::nullopt;
  const auto& allowed = defaults.allowed_agent_images;
  if (std::any_of(allowed.begin(), allowed.end(), [&](const auto& p) { return image_matches(image, p); })) {
    return std::nullopt;
  }
  std::vector<std::string> listed{defaults.agent_image};
  listed.insert(listed.end(), allowed.begin(), allowed.end());
  return fmt::format(
      "spec.agent.image \"{}\" is not an agent image this operator runs (allowed: {}); leave spec.agent.image "
      "empty to run the operator's agent image, or have the operator's administrators add the image to the Helm "
      "value agent.allowedImages (flag --allowed-agent-images)",
      image, fmt::join(listed, ", "));
}

std::optional<std::string> invalid_image_pattern(const std::string& pattern) {
  if (pattern.empty()) return "--allowed-agent-images has an empty entry; remove the extra comma";
  if (pattern.find_first_of(" \t\r\n") != std::string::npos) {
    return fmt::format("--allowed-agent-images entry \"{}\" contains whitespace; image references have none",
                       pattern);
  }
  const auto star = pattern.find('*');
  if (star != std::string::npos && star != pattern.size() - 1) {
    return fmt::format(
        "--allowed-agent-images entry \"{}\" has a `*` before its end; `*` is allowed only as the last "
        "character, meaning any image that starts with what precedes it",
        pattern);
  }
  return std::nullopt;
}

}  // namespace outflow::op::workloads
