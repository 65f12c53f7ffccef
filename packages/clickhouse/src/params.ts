import { TupleParam } from '@clickhouse/client';

/**
 * An `Array(Tuple(…))` query parameter, e.g. for `(a, b) IN {ids:Array(Tuple(UInt8, UInt64))}`:
 * the client formats a plain nested array as `[[1,2]]`, which ClickHouse refuses for tuples.
 */
export const tupleArrayParam = (rows: readonly (readonly unknown[])[]): TupleParam[] =>
  rows.map((r) => new TupleParam(r));
