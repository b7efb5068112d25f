#include "common/kube/event_recorder.h"
