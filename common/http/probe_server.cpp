#include "common/http/probe_server.h"
