/**
 * The notifier's configuration (OPS-10), parsed once like the main configuration. Channel
 * secrets (bot token, webhook URL) come from one Secrets Manager secret on AWS
 * (`TW_NOTIFIER_SECRET_ARN`, JSON) and from the environment locally; a channel without its
 * settings is simply not configured.
 */
import * as z from '../domain/zod-mini.js';
import { ConfigError } from '../domain/errors.js';
import { NOTIFIER_ENV } from './notifier-env.js';

export { NOTIFIER_ENV };

const url = z.url({ protocol: /^https?$/ });

const schema = z
  .object({
    telegramBotToken: z.optional(z.string().check(z.regex(/^\d{1,20}:[A-Za-z0-9_-]{10,100}$/, 'must look like 123456:ABC...'))),
    telegramChatId: z.optional(z.string().check(z.regex(/^-?\d{1,20}$|^@[A-Za-z0-9_]{5,32}$/, 'must be a numeric chat id or @channel'))),
    telegramWebhookSecret: z.optional(z.string().check(z.regex(/^[A-Za-z0-9_-]{16,256}$/, 'must be 16 to 256 letters, digits, _ or -'))),
    telegramApiUrl: z.optional(url),
    slackWebhookUrl: z.optional(url),
    alarmTopicArn: z.optional(z.string().check(z.regex(/^arn:aws[a-z-]*:sns:/))),
    notifierSecretArn: z.optional(z.string().check(z.minLength(1))),
    rateLimit: z._default(z.coerce.number().check(z.int(), z.minimum(1), z.maximum(1000)), 20),
  })
  .check(
    z.superRefine((c, ctx) => {
      if ((c.telegramBotToken === undefined) !== (c.telegramChatId === undefined)) {
        ctx.addIssue({ code: 'custom', path: [c.telegramBotToken ? 'telegramChatId' : 'telegramBotToken'], message: 'Telegram needs both the bot token and the chat id' });
      }
    }),
  );

export type NotifierConfig = z.infer<typeof schema>;

/** The secret's JSON on AWS: the same fields, by their camelCase names. */
export const NotifierSecretSchema = z.strictObject({
  telegramBotToken: z.optional(z.string()),
  telegramChatId: z.optional(z.string()),
  telegramWebhookSecret: z.optional(z.string()),
  slackWebhookUrl: z.optional(z.string()),
});

/**
 * @param secret the parsed notifier secret (AWS), whose fields win over the environment.
 * @throws ConfigError naming each bad setting by its variable; secret values are never echoed.
 */
export function loadNotifierConfig(env: Readonly<Record<string, string | undefined>>, secret: z.infer<typeof NotifierSecretSchema> = {}): NotifierConfig {
  const raw: Record<string, string> = {};
  for (const [key, name] of Object.entries(NOTIFIER_ENV)) {
    const value = (secret as Record<string, string | undefined>)[key] ?? env[name];
    if (value !== undefined && value !== '') raw[key] = value;
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${NOTIFIER_ENV[i.path[0] as keyof typeof NOTIFIER_ENV] ?? i.path.join('.')}: ${i.message}`));
  }
  return parsed.data;
}

/**
 * The notifier's configuration from the process environment and its secret (Telegram bot token,
 * chat id, webhook secret, Slack webhook URL), read once at cold start and never logged.
 * @throws ConfigError for a bad setting or a secret that is not the expected JSON.
 */
export async function notifierConfigFromEnvironment(region: string): Promise<NotifierConfig> {
  const arn = process.env[NOTIFIER_ENV.notifierSecretArn];
  return loadNotifierConfig(process.env, arn ? await readNotifierSecret(arn, region) : {});
}

async function readNotifierSecret(arn: string, region: string): Promise<z.infer<typeof NotifierSecretSchema>> {
  const { GetSecretValueCommand, SecretsManagerClient } = await import('@aws-sdk/client-secrets-manager');
  const client = new SecretsManagerClient({ region });
  let out;
  try {
    out = await client.send(new GetSecretValueCommand({ SecretId: arn }));
  } catch (error) {
    // The stack only references the secret: the operator creates it (README, "Notifications").
    if (error instanceof Error && error.name === 'ResourceNotFoundException') {
      throw new ConfigError([`${NOTIFIER_ENV.notifierSecretArn}: no secret ${arn}; create it (aws secretsmanager create-secret --name ${arn} --secret-string '{}' for email only)`]);
    }
    throw error;
  } finally {
    client.destroy();
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(out.SecretString ?? '{}');
  } catch {
    throw new ConfigError([`${NOTIFIER_ENV.notifierSecretArn}: the secret is not JSON`]);
  }
  const secret = NotifierSecretSchema.safeParse(parsed);
  if (!secret.success) throw new ConfigError([`${NOTIFIER_ENV.notifierSecretArn}: the secret has unknown or non-string fields`]);
  return secret.data;
}
