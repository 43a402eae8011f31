/**
 * Typed confirmation of a destructive operator command (`emergency-stop --all`): the operator
 * types a phrase on the terminal. Without a terminal (a pipe, CI) nothing can be typed, so it is
 * never confirmed there: `--yes` is the only way.
 */
import { createInterface } from 'node:readline/promises';

/** Asks the operator to type `phrase`; resolves whether they did. */
export type Confirm = (question: string, phrase: string) => Promise<boolean>;

/** The phrase `emergency-stop --all` asks for. */
export const CANCEL_ALL_PHRASE = 'cancel all';

export const confirmOnTerminal: Confirm = async (question, phrase) => {
  if (!process.stdin.isTTY || !process.stdout.isTTY) return false;
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    return (await rl.question(`${question}\nType "${phrase}" to confirm: `)).trim() === phrase;
  } finally {
    rl.close();
  }
};
