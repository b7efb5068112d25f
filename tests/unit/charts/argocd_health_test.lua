-- Runs charts/outflow/argocd/health.lua against sample EventPipelines the way
-- Argo CD does (the script sees a global `obj` and returns a table).
-- Usage: lua5.4 argocd_health_test.lua <path to health.lua>

local script_path = assert(arg[1], "usage: argocd_health_test.lua HEALTH_LUA")

local function health(object)
  local env = setmetatable({obj = object}, {__index = _G})
  local check = assert(loadfile(script_path, "t", env))
  return check()
end

local function pipeline(generation, status, spec)
  return {metadata = {name = "orders", generation = generation}, spec = spec or {}, status = status}
end

local function ready(status, reason, message, observed)
  return {observedGeneration = observed,
          conditions = {{type = "TopicsReady", status = "True", reason = "AllTopicsReady"},
                        {type = "Ready", status = status, reason = reason, message = message}}}
end

local cases = {
  {"no status yet", pipeline(1, nil), "Progressing"},
  {"ready at the current generation", pipeline(3, ready("True", "Reconciled", "All parts ready", 3)), "Healthy"},
  {"ready but for an older generation", pipeline(4, ready("True", "Reconciled", "", 3)), "Progressing"},
  {"terminal problem", pipeline(2, ready("False", "PartitionDecreaseRefused", "topic t has 12 partitions", 2)), "Degraded"},
  {"missing secret", pipeline(2, ready("False", "SecretNotFound", "Secret orders-db not found", 2)), "Degraded"},
  {"image not allowed", pipeline(2, ready("False", "AgentImageNotAllowed", "image x is not allowed", 2)), "Degraded"},
  {"broker refused a create", pipeline(2, ready("False", "CreateFailed", "TOPIC_AUTHORIZATION_FAILED", 2)), "Degraded"},
  {"retrying a broker outage", pipeline(2, ready("False", "KafkaUnreachable", "no broker answered", 2)), "Progressing"},
  {"breaker open, recovers by itself", pipeline(2, ready("False", "BreakerOpen", "broker down", 2)), "Progressing"},
  {"unknown readiness", pipeline(2, ready("Unknown", "Reconciling", "", 2)), "Progressing"},
  {"conditions without Ready", pipeline(2, {observedGeneration = 2, conditions = {}}), "Progressing"},
  {"paused", pipeline(2, ready("True", "Reconciled", "", 1), {paused = true}), "Suspended"},
}

local failures = 0
for _, case in ipairs(cases) do
  local name, object, want = case[1], case[2], case[3]
  local got = health(object)
  if got.status ~= want then
    failures = failures + 1
    print(string.format("FAIL %s: want %s, got %s (%s)", name, want, tostring(got.status), tostring(got.message)))
  elseif type(got.message) ~= "string" or got.message == "" then
    failures = failures + 1
    print(string.format("FAIL %s: empty message", name))
  else
    print(string.format("ok   %s -> %s: %s", name, got.status, got.message))
  end
end
if failures > 0 then
  error(string.format("%d of %d health cases failed", failures, #cases))
end
print(string.format("%d health cases passed", #cases))
