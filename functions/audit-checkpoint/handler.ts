/**
 * Lambda entry point of the audit checkpoint (SEC-5). Cold start: configuration parsed once,
 * clients created once. Its role may only Query the audit-heads index and put new objects in the
 * checkpoint bucket.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDbAuditLog } from '../../shared/adapters/aws/dynamodb-audit-log.js';
import { S3AuditCheckpointStore } from '../../shared/adapters/aws/s3-audit-checkpoint-store.js';
import { ConfigError } from '../../shared/domain/errors.js';
import { ENV } from '../../shared/runtime/config.js';
import { containerFromEnvironment } from '../../shared/runtime/entry.js';
import { createAuditCheckpointHandler } from './app.js';

const c = await containerFromEnvironment('health');
const bucket = c.config.auditCheckpointBucket;
if (!bucket) throw new ConfigError([`${ENV.auditCheckpointBucket}: the audit checkpoint function needs its bucket`]);

export const handler = createAuditCheckpointHandler({
  heads: new DynamoDbAuditLog({ doc: c.doc, auditTable: c.config.auditTable, stateTable: c.config.stateTable }),
  checkpoints: new S3AuditCheckpointStore({ s3: new S3Client({ region: c.config.region }), bucket }),
  clock: c.clock,
  logger: new Logger({ serviceName: 'audit-checkpoint', logLevel: c.config.logLevel as 'INFO' }),
});
