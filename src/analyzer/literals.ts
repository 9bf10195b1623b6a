// Decoding of the object literals Encore reads resource configuration from (its `litparser`), with its messages.
import { ts } from 'ts-morph';

export interface Problem {
  node: ts.Node;
  message: string;
}

/** Collects problems while a configuration is decoded; decoding goes on after a problem, as Encore's does. */
export class Problems {
  readonly list: Problem[] = [];
  add(node: ts.Node, message: string): void {
    this.list.push({ node, message });
  }
}

/** Strips parentheses and type assertions (`x as const`, `x satisfies T`, `x!`), which do not change a literal. */
export function unwrap(node: ts.Expression): ts.Expression {
  let current = node;
  for (;;) {
    if (ts.isParenthesizedExpression(current) || ts.isAsExpression(current) || ts.isSatisfiesExpression(current)) {
      current = current.expression;
    } else if (ts.isNonNullExpression(current) || ts.isTypeAssertionExpression(current)) {
      current = current.expression;
    } else {
      return current;
    }
  }
}

function propertyName(name: ts.PropertyName): string | null {
  if (ts.isIdentifier(name) || ts.isStringLiteral(name) || ts.isNumericLiteral(name) || ts.isPrivateIdentifier(name)) return name.text;
  return null;
}

export interface ObjectFields {
  node: ts.ObjectLiteralExpression;
  fields: Map<string, ts.Expression>;
  keys: Map<string, ts.Node>;
}

/**
 * Reads an object literal's fields. Spread, shorthand, methods, accessors, computed keys, unknown and repeated keys are
 * problems; so is a missing required key.
 */
export function objectLiteral(
  node: ts.Expression,
  allowed: readonly string[],
  required: readonly string[],
  problems: Problems,
): ObjectFields | null {
  const expr = unwrap(node);
  if (!ts.isObjectLiteralExpression(expr)) {
    problems.add(node, 'expected object literal');
    return null;
  }
  const fields = new Map<string, ts.Expression>();
  const keys = new Map<string, ts.Node>();
  for (const prop of expr.properties) {
    if (ts.isSpreadAssignment(prop)) {
      problems.add(prop, 'spread operator unsupported');
      continue;
    }
    if (ts.isShorthandPropertyAssignment(prop)) {
      problems.add(prop, `prop type shorthand property not supported: write "${prop.name.text}: ${prop.name.text}"`);
      continue;
    }
    if (!ts.isPropertyAssignment(prop)) {
      problems.add(prop, `prop type ${ts.isMethodDeclaration(prop) ? 'method' : 'accessor'} not supported`);
      continue;
    }
    const key = propertyName(prop.name);
    if (key === null) {
      problems.add(prop.name, 'computed property names are not supported');
      continue;
    }
    if (!allowed.includes(key)) {
      problems.add(prop.name, `unexpected field "${key}"`);
      continue;
    }
    if (fields.has(key)) {
      problems.add(prop.name, `field ${key} set twice`);
      continue;
    }
    fields.set(key, prop.initializer);
    keys.set(key, prop.name);
  }
  for (const key of required) {
    if (!fields.has(key)) problems.add(expr, `field ${key} is required but is missing`);
  }
  return { node: expr, fields, keys };
}

export function stringLiteral(node: ts.Expression, problems: Problems): string | null {
  const expr = unwrap(node);
  if (ts.isStringLiteral(expr)) return expr.text;
  problems.add(node, 'expected string literal');
  return null;
}

export function booleanLiteral(node: ts.Expression, problems: Problems): boolean | null {
  const expr = unwrap(node);
  if (expr.kind === ts.SyntaxKind.TrueKeyword) return true;
  if (expr.kind === ts.SyntaxKind.FalseKeyword) return false;
  problems.add(node, 'expected boolean literal');
  return null;
}

/** Integer literals, with unary +/- and + - * / % over literals, as Encore allows (`6 * 1024 * 1024`). */
export function integerLiteral(node: ts.Expression, problems: Problems): number | null {
  const value = evaluate(unwrap(node));
  if (typeof value === 'string') {
    problems.add(node, value);
    return null;
  }
  return value;
}

function evaluate(expr: ts.Expression): number | string {
  if (ts.isNumericLiteral(expr)) {
    const n = Number(expr.text.replace(/_/g, ''));
    return Number.isInteger(n) ? n : 'expected integer literal';
  }
  if (ts.isPrefixUnaryExpression(expr) && (expr.operator === ts.SyntaxKind.MinusToken || expr.operator === ts.SyntaxKind.PlusToken)) {
    const v = evaluate(unwrap(expr.operand));
    return typeof v === 'string' ? v : expr.operator === ts.SyntaxKind.MinusToken ? -v : v;
  }
  if (ts.isBinaryExpression(expr)) {
    const l = evaluate(unwrap(expr.left));
    const r = evaluate(unwrap(expr.right));
    if (typeof l === 'string') return l;
    if (typeof r === 'string') return r;
    switch (expr.operatorToken.kind) {
      case ts.SyntaxKind.PlusToken:
        return l + r;
      case ts.SyntaxKind.MinusToken:
        return l - r;
      case ts.SyntaxKind.AsteriskToken:
        return l * r;
      case ts.SyntaxKind.SlashToken:
        return r !== 0 && l % r === 0 ? l / r : 'inexact division';
      case ts.SyntaxKind.PercentToken:
        return r !== 0 ? l % r : 'division by zero';
    }
  }
  return 'expected integer literal';
}

/** A string array literal (`["a", "b"]`); each element must be a string literal. */
export function stringArray(node: ts.Expression, problems: Problems): string[] | null {
  const expr = unwrap(node);
  if (!ts.isArrayLiteralExpression(expr)) {
    problems.add(node, 'expected array literal');
    return null;
  }
  const out: string[] = [];
  for (const el of expr.elements) {
    const s = stringLiteral(el, problems);
    if (s === null) return null;
    out.push(s);
  }
  return out;
}

/**
 * A local relative path, as Encore's literal parser takes one (`migrations`, a static `dir`, `notFound`): every part is
 * a name or `.`, so "./migrations", "." and "./" are accepted; a `..` part, an absolute path and an empty string are
 * not. Returns it normalised, without `.` parts: "" stands for the module's own directory.
 */
export function relativePath(node: ts.Expression, problems: Problems): string | null {
  const text = stringLiteral(node, problems);
  if (text === null) return null;
  const parts = text.split('/');
  if (text === '' || text.startsWith('/') || parts.includes('..')) {
    problems.add(node, `invalid path "${text}": expected a local relative path (not empty, no ".." and not absolute)`);
    return null;
  }
  return parts.filter((p) => p !== '' && p !== '.').join('/');
}
