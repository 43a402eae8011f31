import { describe, expect, it } from 'vitest';
import { alarmMetricCount, monitoringCost } from '../../infra/monitoring-cost.js';

const alarm = (properties: Record<string, unknown>) => ({ Type: 'AWS::CloudWatch::Alarm', Properties: properties });

describe('Function: monitoringCost', () => {
  it('bills a single-metric alarm once and a metric-math alarm once per metric it reads, not per expression', () => {
    expect(alarmMetricCount({ MetricName: 'Errors', Namespace: 'AWS/Lambda' })).toBe(1);
    expect(alarmMetricCount({ Metrics: [{ Id: 'e', Expression: 'a + b' }, { Id: 'a', MetricStat: {} }, { Id: 'b', MetricStat: {} }] })).toBe(2);
  });

  it('adds alarms, dashboards beyond the free three and custom metrics at list prices', () => {
    const template = {
      Resources: {
        A: alarm({ MetricName: 'Errors' }),
        B: alarm({ Metrics: [{ Id: 'x', Expression: 'a' }, { Id: 'a', MetricStat: {} }, { Id: 'b', MetricStat: {} }, { Id: 'c', MetricStat: {} }] }),
        D: { Type: 'AWS::CloudWatch::Dashboard' },
      },
    };
    expect(monitoringCost(template, 10)).toEqual({
      alarms: 2,
      alarmMetrics: 4,
      dashboards: 1,
      customMetrics: 10,
      usdPerMonth: { alarms: 0.4, dashboards: 0, customMetrics: 3, total: 3.4 },
    });
    // With three dashboards elsewhere in the account, this one is paid.
    expect(monitoringCost(template, 10, 3).usdPerMonth).toEqual({ alarms: 0.4, dashboards: 3, customMetrics: 3, total: 6.4 });
  });
});
