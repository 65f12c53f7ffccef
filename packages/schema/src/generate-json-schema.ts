import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { eventJsonSchemaText } from './json-schema.ts';

// Regenerates packages/schema/event.schema.json; a unit test fails when the checked-in file is stale.
const target = fileURLToPath(new URL('../event.schema.json', import.meta.url));
writeFileSync(target, eventJsonSchemaText());
console.log(`wrote ${target}`);
