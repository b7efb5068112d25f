#include "common/kube/leader_election.h"
