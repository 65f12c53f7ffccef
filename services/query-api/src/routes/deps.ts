import type { CursorCodec } from '../cursor.ts';
import type { Reader } from '../reader.ts';

/** What the event routes need, passed in by `createApp`. */
export interface RouteDeps {
  reader: Reader;
  /** `database.events`, from configuration (the database name is validated as an identifier). */
  table: string;
  cursors: CursorCodec;
  exportMaxRows: number;
}
