// State backends. The local folder backend lives here; the Kubernetes Secret + Lease backend is the Kubernetes
// provider's (src/provisioning/providers/kubernetes), behind the same StateBackend interface (src/model/state.ts).
export { LocalFileBackend, localStateDirectory } from './localFile';
export { parseState } from './parse';
