import { Policy } from 'aws-cdk-lib/aws-iam';
import type { IConstruct } from 'constructs';
/** `scanner` -> `Scanner`: job names as parts of construct ids and alarm names. */
export function pascalCase(name: string): string {
  return name.charAt(0).toUpperCase() + name.slice(1);
}

/**
 * The policies attached to a role construct (its default policy and any policy construct under
 * it): what a resource that uses the role must wait for. Not the role itself: a reference to the
 * role's ARN already orders that.
 */
export function policiesOf(scope: IConstruct): IConstruct[] {
  return scope.node.findAll().filter((c) => c instanceof Policy);
}
