/** Where an app's on-disk analysis cache lives, relative to the app root (beside the state mirror in `.encore/`). */
export const ANALYSIS_CACHE_DIR = '.encore/analysis-cache';
