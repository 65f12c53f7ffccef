import { createLogger, onShutdown } from '@audit/http';
import { loadSealerConfig } from './config.ts';
import { startSealer } from './service.ts';

const config = loadSealerConfig();
const logger = createLogger('sealer');
const sealer = await startSealer({ config, logger });
// SIGTERM: seal what is pending (committing its offsets), leave the group, close HTTP.
onShutdown(logger, sealer.stop, 30_000);
