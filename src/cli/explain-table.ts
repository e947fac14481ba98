/** The text form of `explain`: the verdict, then one row per grant of the user and what it did. */
import type { ApiExplanation } from '../policy/explain-api.js';
import type { Explanation, ExplainedGrant } from '../policy/explain.js';
import { printable } from './io.js';

function pad(rows: string[][]): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  ').trimEnd());
}

function notes(entry: ExplainedGrant): string {
  const list: string[] = [];
  if (entry.decisive) list.push('decisive');
  if (entry.overriddenBy !== undefined) list.push(`overridden by DENY ${entry.overriddenBy.code}`);
  if (entry.condition !== undefined) list.push(`condition #${entry.condition.index} ${entry.condition.result === false ? 'false' : 'unevaluable'}`);
  if (entry.effectAssumed === true) list.push('effect missing: read as DENY');
  if (entry.conditionsMalformed === true) list.push('condition malformed');
  if (entry.conditionKeyUnknown === true) list.push('conditions under an unknown key');
  if (entry.fieldSpeltTwice === true) list.push('a field spelt twice: ALLOW dropped');
  if (entry.actionsUnreadable === true) list.push('actions unreadable');
  if (entry.apiIdentifierUnreadable === true) list.push('apiIdentifier unreadable');
  if (entry.codeUnreadable === true) list.push('resourceCode unreadable: covers every code');
  if (entry.widened === true) list.push('pattern widened');
  return list.join('; ');
}

/** Lines of the explain table; GenAuth's values (codes, actions, apiIdentifiers) escaped by {@link printable}. */
export function explainTable(explanation: Explanation | ApiExplanation): string[] {
  const verdict = explanation.allowed ? 'ALLOWED' : 'DENIED';
  const head =
    'method' in explanation
      ? `${verdict} (${explanation.reason}): ${explanation.method} ${explanation.path || '(invalid target)'}${explanation.action === null ? '' : ` needs ${explanation.action}`}`
      : `${verdict} (${explanation.reason}): ${explanation.resource} needs ${explanation.mode === 'anyOf' ? 'any of' : 'all of'} ${explanation.actions.join(', ')}`;
  const lines = [printable(head)];
  if (explanation.grant !== undefined) lines.push(printable(`decided by: ${explanation.grant.effect} ${explanation.grant.code}`));
  if (explanation.grants.length === 0) return [...lines, 'the user has no grants'];
  const rows = [['EFFECT', 'CODE', 'TYPE', 'ACTIONS', 'OUTCOME', 'NOTES']];
  for (const entry of explanation.grants) {
    const { grant } = entry;
    const code = grant.apiIdentifier === null ? grant.code : `${grant.code} (${grant.apiIdentifier})`;
    rows.push([grant.effect, code, grant.type ?? '-', grant.actions.join(',') || '-', entry.outcome, notes(entry)].map(printable));
  }
  return [...lines, '', ...pad(rows)];
}
