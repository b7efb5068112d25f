#include "broker_log.h"

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace outflow::bench {

namespace {

// A segment is a run of batches, each: base offset (8 bytes), length of the
// rest (4 bytes, big-endian), the rest.
long batches_in_segment(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  long batches = 0;
  char header[12];
  while (in.read(header, sizeof header)) {
    std::uint32_t length = 0;
    for (int i = 8; i < 12; ++i) length = (length << 8) | static_cast<unsigned char>(header[i]);
    if (length == 0) break;  // preallocated space after the last batch
    ++batches;
    in.seekg(length, std::ios::cur);
  }
  return batches;
}

}  // namespace

long record_batches_on_disk(const std::string& topic, int partitions) {
  const char* dir = std::getenv("OUTFLOW_TESTENV_DIR");
  if (dir == nullptr) return -1;
  const std::filesystem::path data = std::filesystem::path(dir) / "kafka" / "data";
  long batches = 0;
  for (int p = 0; p < partitions; ++p) {
    const auto partition_dir = data / (topic + "-" + std::to_string(p));
    std::error_code error;
    std::filesystem::directory_iterator it(partition_dir, error);
    if (error) return -1;
    for (const auto& entry : it) {
      if (entry.path().extension() == ".log") batches += batches_in_segment(entry.path());
    }
  }
  return batches;
}

}  // namespace outflow::bench
