// The driver conformance suite (test/conformance/driverConformance.ts) against the in-memory test cloud's driver,
// which the engine's tests stand on: it must keep the contract the real drivers keep.
import { DriverError } from '../../src/model/providerApi';
import { driverConformance } from '../conformance/driverConformance';
import { MemoryCloud, MemoryDriver } from './engineCloud';
import { res } from './engineGraphs';

const cloud = new MemoryCloud();
let n = 0;
let current = '';

driverConformance({
  name: 'the in-memory test cloud',
  driver: async () => new MemoryDriver(cloud),
  resource: async () => {
    current = `conformance-${++n}`;
    const resource = res(current, [], { settings: { image: 'app:1', replicas: 1 } });
    return { resource, changed: { ...resource, settings: { image: 'app:2', replicas: 3 } } };
  },
  createOutside: async (r) => cloud.putOutside(r.providerType, r.name, { image: 'theirs:0', replicas: 5 }),
  failTransiently: (times) => {
    const ops = ['read', 'create', 'update', 'delete', 'waitReady'] as const;
    for (const op of ops) cloud.failOn(current, op, () => new DriverError('transient', 'the test cloud is busy (injected)'), times);
    return () => cloud.failures.delete(current);
  },
  hang: () => {
    cloud.latencyMs = { create: 60_000, update: 60_000, read: 60_000 };
    return () => (cloud.latencyMs = {});
  },
});
