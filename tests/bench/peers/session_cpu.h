#pragma once

// Pure: what each PostgreSQL session cost over a run, by name, from two
// readings of the server's processes' CPU. A profile of the database side
// of a drain: the agent's claims, its marks and the server's own processes
// each spend from the same two cores.

#include <map>
#include <string>
#include <vector>

namespace outflow::bench {

struct SessionReading {
  int pid = 0;
  std::string name;  // application_name; for the server's own processes their type ("walwriter")
  double cpu_s = 0;  // the process's whole life
};

// CPU seconds per name between `before` (pid -> CPU seconds) and `after`:
// a process started in between counts from zero; one gone by `after` is
// missed (which is why every relay keeps its sessions open). Names that
// spent nothing are left out; an empty name is "unnamed".
std::map<std::string, double> session_cpu(const std::map<int, double>& before,
                                          const std::vector<SessionReading>& after);

}  // namespace outflow::bench
