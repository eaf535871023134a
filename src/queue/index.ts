// Public surface of the outbound queue: the scheduler with its operations, filters,
// suppression keys, and the localserve failure simulation.
export { Queue, newFromId, type QueueOptions, type QueueEntry, type AccountAccess } from './queue.ts';
export type { QueueFilter, RetiredFilter } from './filter.ts';
export { baseAddress } from './suppression.ts';
export { queueSimulation } from './localserve.ts';
export { ruleDomain, startControl, controlRequest, controlSocketPath, ControlClient, ControlError, controlLineMax, controlOps, type ControlOptions, type RunningControl, type ControlOp, type ControlArgs, type ControlResult, type ControlResponse, type Wire } from './control.ts';
