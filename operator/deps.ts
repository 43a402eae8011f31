/**
 * The operator ports from a wired container: both transports build a container (the local one
 * on the embedded emulators, the deployed one on the stack's tables and queues) and hand it here.
 */
import { scannerSettings } from '../shared/runtime/scanner-settings.js';
import { DynamoDbStateExport } from '../shared/adapters/aws/dynamodb-state-export.js';
import { DynamoDbTunablesStore } from '../shared/adapters/aws/dynamodb-tunables-store.js';
import type { AuditCheckpointStore } from '../shared/ports/audit-checkpoints.js';
import type { DeadLetterRedrive, HealthRunner, OperatorDeps } from '../shared/operations/ports.js';
import type { Container } from '../shared/runtime/container.js';

export function operatorDeps(
  c: Container,
  ports: { readonly health: HealthRunner; readonly deadLetters: DeadLetterRedrive; readonly checkpoints: AuditCheckpointStore | undefined },
): OperatorDeps {
  const state = new DynamoDbStateExport({ doc: c.doc, stateTable: c.config.stateTable, auditTable: c.config.auditTable });
  return {
    config: c.config,
    scanDefaults: scannerSettings(c.config),
    clock: c.clock,
    control: c.control,
    tunables: new DynamoDbTunablesStore({ doc: c.doc, table: c.config.stateTable }),
    audit: c.audit,
    orders: c.orders,
    accounts: c.accounts,
    heartbeats: c.heartbeats,
    exchange: c.exchange,
    cancelExchange: c.cancelExchange,
    locks: c.locks,
    health: ports.health,
    deadLetters: ports.deadLetters,
    exportSource: state,
    importTarget: state,
    ...(ports.checkpoints ? { checkpoints: ports.checkpoints } : {}),
  };
}
