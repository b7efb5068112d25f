#include "common/kube/informer.h"
