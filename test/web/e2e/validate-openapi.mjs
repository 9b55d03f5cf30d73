// node e2e/validate-openapi.mjs <openapi.json>: validates the document
// against the OpenAPI 3.0 JSON schema and resolves every $ref
// (@apidevtools/swagger-parser). Prints "openapi: valid" or the errors;
// exit status 0 when valid.
import SwaggerParser from '@apidevtools/swagger-parser';
import { readFileSync } from 'node:fs';

const file = process.argv[2];
if (!file) {
    console.error('usage: validate-openapi.mjs <openapi.json>');
    process.exit(2);
}
try {
    const doc = JSON.parse(readFileSync(file, 'utf8'));
    const api = await SwaggerParser.validate(doc);
    const ops = Object.values(api.paths)
        .reduce((n, item) => n + Object.keys(item).length, 0);
    console.log(`openapi: valid (${api.openapi}, ${Object.keys(api.paths).length} paths, ${ops} operations)`);
} catch (e) {
    console.error(`openapi: INVALID: ${e.message}`);
    if (e.details) {
        console.error(JSON.stringify(e.details, null, 2).slice(0, 4000));
    }
    process.exit(1);
}
