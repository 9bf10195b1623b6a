// The minimum Encore CLI version alone, for the CLI's usage text: --help must not load the session itself.
export { MIN_ENCORE_VERSION } from '../provisioning/deploy/encoreMinimum';
