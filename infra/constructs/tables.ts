/**
 * The DynamoDB tables, built from the shared definitions (the embedded local stack builds its
 * tables from the same ones, so key schemas cannot drift apart).
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, Billing, TableV2, type Attribute } from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { TABLES, type KeyDefinition, type TableDefinition } from '../../shared/definitions/tables.js';

export interface TradewardenTablesProps {
  /**
   * The tables to create. Each table's construct id is its definition's `logicalId`, which must
   * never change for a stateful table (a new id means a new, empty table).
   * @default TABLES from shared/definitions/tables.ts
   */
  readonly definitions?: readonly TableDefinition[];
}

/**
 * On-demand tables with point-in-time recovery (OPS-6). Stateful tables are deletion-protected
 * and retained when the stack is deleted; a TTL attribute is configured where the definition
 * names one (clean-up only: correctness never depends on TTL deletion).
 */
export class TradewardenTables extends Construct {
  private readonly byLogicalId = new Map<string, { table: TableV2; definition: TableDefinition }>();

  constructor(scope: Construct, id: string, props: TradewardenTablesProps = {}) {
    super(scope, id);
    for (const definition of props.definitions ?? TABLES) {
      const table = new TableV2(this, definition.logicalId, {
        partitionKey: attribute(definition.partitionKey),
        ...(definition.sortKey ? { sortKey: attribute(definition.sortKey) } : {}),
        billing: Billing.onDemand(),
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        deletionProtection: definition.stateful,
        removalPolicy: definition.stateful ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
        ...(definition.ttlAttribute ? { timeToLiveAttribute: definition.ttlAttribute } : {}),
        globalSecondaryIndexes: definition.indexes.map((index) => ({
          indexName: index.indexName,
          partitionKey: attribute(index.partitionKey),
          ...(index.sortKey ? { sortKey: attribute(index.sortKey) } : {}),
        })),
      });
      this.byLogicalId.set(definition.logicalId, { table, definition });
    }
  }

  /** The table built from a definition. @throws Error if it was not part of this construct. */
  table(definition: TableDefinition): TableV2 {
    return this.entry(definition).table;
  }

  /**
   * ARNs a grant on the table must cover: the table and each of its indexes by name (not
   * `index/*`, so no policy needs a wildcard resource).
   */
  resourceArns(definition: TableDefinition): string[] {
    const { table } = this.entry(definition);
    return [table.tableArn, ...definition.indexes.map((index) => `${table.tableArn}/index/${index.indexName}`)];
  }

  private entry(definition: TableDefinition): { table: TableV2; definition: TableDefinition } {
    const found = this.byLogicalId.get(definition.logicalId);
    if (!found) throw new Error(`table ${definition.logicalId} is not part of ${this.node.path}`);
    return found;
  }
}

function attribute(key: KeyDefinition): Attribute {
  return { name: key.name, type: key.type === 'S' ? AttributeType.STRING : AttributeType.NUMBER };
}
