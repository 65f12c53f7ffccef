import { createLogger, onShutdown } from '@audit/http';
import { loadSinkConfig } from './config.ts';
import { startSink } from './sink.ts';

const config = loadSinkConfig();
const logger = createLogger('sink');
const sink = await startSink({ config, logger });
// SIGTERM: stop fetching, write and commit what is buffered, leave the group, close HTTP.
onShutdown(logger, sink.stop, config.SINK_SHUTDOWN_FLUSH_MS + 15_000);
