export { type BaseAppDeps, type BaseVariables, createBaseApp } from './base-app.ts';
export { type DocsAppendix, type DocsSpec, renderDocsPage } from './docs-page.ts';
export { ApiError, type ErrorBody, errorResponse } from './errors.ts';
export { createLogger, type Logger } from './logger.ts';
export { createMetrics, type HttpMetrics } from './metrics.ts';
export { ERROR_SCHEMA, errorResponseDoc, operationalPathsDoc } from './openapi.ts';
export { onShutdown, type RunningServer, startServer } from './server.ts';
