-- Argo CD health check for outflow.dev/EventPipeline.
-- Install under resource.customizations.health.outflow.dev_EventPipeline in
-- argocd-cm. Healthy only when the operator has seen the current generation
-- and says Ready; Degraded when it reports a problem a person must fix;
-- Progressing while it is still converging or retrying.

-- Reasons of the Ready condition (the operator copies the first failing part's
-- reason into it) for problems that retrying does not fix: a person must change
-- the spec, a Secret, the topic, the allowed images or the cluster's policies.
-- Every other reason (TopicsPending, AgentsProgressing, KafkaUnreachable,
-- BreakerOpen, ...) is the operator converging or waiting for a recovery.
local terminal = {
  InvalidSpec = true,
  SecretNotFound = true,
  AgentImageNotAllowed = true,
  PartitionDecreaseRefused = true,
  ReplicationFactorChangeRefused = true,
  TopicExistsWithDifferentSettings = true,
  ResourceConflict = true,
  CreateFailed = true,
  PartitionIncreaseFailed = true,
  ConfigUpdateFailed = true,
  WorkloadApplyFailed = true,
}

local hs = {status = "Progressing", message = "Waiting for the operator"}

if obj.spec ~= nil and obj.spec.paused == true then
  hs.status = "Suspended"
  hs.message = "Paused: the operator does not reconcile this pipeline"
  return hs
end

if obj.status == nil then
  return hs
end

local generation = obj.metadata.generation
if generation ~= nil and obj.status.observedGeneration ~= generation then
  hs.message = "The operator has not yet processed generation " .. tostring(generation)
  return hs
end

local ready = nil
if obj.status.conditions ~= nil then
  for _, condition in ipairs(obj.status.conditions) do
    if condition.type == "Ready" then
      ready = condition
    end
  end
end

if ready == nil then
  return hs
end

local function describe(reason, message)
  if message == nil or message == "" then
    return reason
  end
  return reason .. ": " .. message
end

if ready.status == "True" then
  hs.status = "Healthy"
  hs.message = describe(ready.reason or "Ready", ready.message)
elseif ready.status == "False" and terminal[ready.reason] then
  hs.status = "Degraded"
  hs.message = describe(ready.reason, ready.message)
else
  hs.message = describe(ready.reason or "NotReady", ready.message)
end
return hs
