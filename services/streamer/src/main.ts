import { createLogger, onShutdown } from '@audit/http';
import { loadStreamerConfig } from './config.ts';
import { startStreamer } from './service.ts';

const config = loadStreamerConfig();
const logger = createLogger('streamer');
const streamer = await startStreamer({ config, logger });
// SIGTERM: stop polling, report status, leave every stream's group (unacknowledged batches stay uncommitted).
onShutdown(logger, streamer.stop, 30_000);
