#include "operator/topics/cluster_identity.h"

#include <algorithm>

namespace outflow::op::topics {
namespace {

bool both_known(const ClusterIdentity& a, const ClusterIdentity& b) {
  return !a.cluster_id.empty() && !b.cluster_id.empty();
}

bool share_an_address(const ClusterIdentity& a, const ClusterIdentity& b) {
  return std::any_of(a.bootstrap_servers.begin(), a.bootstrap_servers.end(), [&](const std::string& server) {
    return std::find(b.bootstrap_servers.begin(), b.bootstrap_servers.end(), server) != b.bootstrap_servers.end();
  });
}

}  // namespace

bool same_cluster(const ClusterIdentity& a, const ClusterIdentity& b) {
  if (both_known(a, b)) return a.cluster_id == b.cluster_id;
  return share_an_address(a, b);
}

bool may_be_same_cluster(const ClusterIdentity& a, const ClusterIdentity& b) {
  if (both_known(a, b)) return a.cluster_id == b.cluster_id;
  return true;
}

}  // namespace outflow::op::topics
