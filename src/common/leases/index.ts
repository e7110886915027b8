export { InstanceId } from './instance-id.js';
export { LeaseStore, type AcquireResult, type LeaseRow } from './lease.store.js';
export { Leases, LeaseLostError, type Fence, type LeaseOptions } from './leases.js';
