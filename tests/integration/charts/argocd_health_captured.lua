-- Runs charts/outflow/argocd/health.lua, the way Argo CD does (a global `obj`,
-- a table returned), on EventPipelines as the real operator left them: the
-- cases file is written by ArgoCdHealth.ClassifiesStatusesTheOperatorWrote
-- from objects it read back from the API server.
-- Usage: lua5.4 argocd_health_captured.lua <health.lua> <cases.lua>
-- where cases.lua returns {{name = ..., want = "Healthy", obj = {...}}, ...}.

local script_path = assert(arg[1], "usage: argocd_health_captured.lua HEALTH_LUA CASES_LUA")
local cases = assert(loadfile(assert(arg[2], "usage: argocd_health_captured.lua HEALTH_LUA CASES_LUA"), "t"))()

local failures = 0
for _, case in ipairs(cases) do
  local env = setmetatable({obj = case.obj}, {__index = _G})
  local got = assert(loadfile(script_path, "t", env))()
  if got.status ~= case.want then
    failures = failures + 1
    print(string.format("FAIL %s: want %s, got %s (%s)", case.name, case.want, tostring(got.status), tostring(got.message)))
  elseif type(got.message) ~= "string" or got.message == "" then
    failures = failures + 1
    print(string.format("FAIL %s: empty message", case.name))
  else
    print(string.format("ok   %s -> %s: %s", case.name, got.status, got.message))
  end
end
if failures > 0 then
  error(string.format("%d of %d captured cases failed", failures, #cases))
end
print(string.format("%d captured cases passed", #cases))
