import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cronProblem, nameProblem, parseApiPath, parseDuration } from '../../src/analyzer/validate';

test('kebab-case names, as Encore\'s parseutil tests accept and reject them', () => {
  for (const ok of ['a', 'profile-pictures', 'bucket2', 'a-b-c-1']) assert.equal(nameProblem(ok, 'kebab'), null, ok);
  assert.equal(nameProblem('', 'kebab'), 'name must be between 1 and 63 characters long (got 0)');
  assert.equal(nameProblem('Bucket', 'kebab'), "name must start with a lowercase letter (got 'B')");
  assert.equal(nameProblem('1bucket', 'kebab'), "name must start with a lowercase letter (got '1')");
  assert.equal(nameProblem('bucket-', 'kebab'), "name must end with a lowercase letter or digit (got '-')");
  assert.equal(nameProblem('my_bucket', 'kebab'), "name must only contain lowercase letters, numbers, and dashes (got '_' at position 2)");
  assert.equal(nameProblem('a/b', 'kebab'), "name must only contain lowercase letters, numbers, and dashes (got '/' at position 1)");
  assert.equal(nameProblem('x'.repeat(64), 'kebab'), 'name must be between 1 and 63 characters long (got 64)');
});

test('snake_case names', () => {
  assert.equal(nameProblem('orders_placed', 'snake'), null);
  assert.equal(nameProblem('my-metric', 'snake'), "name must only contain lowercase letters, numbers, and underscores (got '-' at position 2)");
  assert.equal(nameProblem('My_metric', 'snake'), "name must start with a lowercase letter (got 'M')");
  assert.equal(nameProblem('_count', 'snake'), "name must start with a lowercase letter (got '_')");
  assert.equal(nameProblem('count_', 'snake'), "name must end with a lowercase letter or digit (got '_')");
  assert.equal(nameProblem('e_x', 'snake'), "name must not start with reserved prefix 'e_' (got 'e_x')");
});

test('durations', () => {
  assert.equal(parseDuration('10s'), 10_000);
  assert.equal(parseDuration('500ms'), 500);
  assert.equal(parseDuration('1h30m'), 5_400_000);
  assert.equal(parseDuration('1h 30m'), 5_400_000);
  assert.equal(parseDuration('7d'), null);
  assert.equal(parseDuration(''), null);
  assert.equal(parseDuration('10'), null);
});

test('cron expressions', () => {
  for (const ok of ['* * * * *', '0 8 * * *', '*/15 0-6 1,15 jan-jun mon-fri', '0 0 * * 7']) assert.equal(cronProblem(ok), null, ok);
  assert.match(cronProblem('* * * *') ?? '', /must have exactly 5 fields/);
  assert.equal(cronProblem('61 * * * *'), "invalid cron expression: minute value '61' is out of range 0-59");
  assert.equal(cronProblem('* 24 * * *'), "invalid cron expression: hour value '24' is out of range 0-23");
  assert.equal(cronProblem('*/0 * * * *'), "invalid cron expression: step must be positive in '*/0'");
});

test('API paths: every error Encore reports', () => {
  assert.deepEqual(parseApiPath('/a/:id/*rest'), {
    segments: [{ type: 'literal', value: 'a' }, { type: 'param', value: 'id' }, { type: 'wildcard', value: 'rest' }],
  });
  const cases: Record<string, string> = {
    '': 'empty path',
    'a/b': "path must start with '/'",
    '/a/': 'path cannot contain empty path segment',
    '/a//b': 'path cannot contain empty path segment',
    '/a/:': 'path parameters must have a name',
    '/*x/a': 'wildcard segment must be at the end of the path',
    '/!x/a': 'fallback segment must be at the end of the path',
    '/a?b=1': "path cannot contain query parameters (the '?' character)",
    '/a#b': "path cannot contain url fragment (the '#' character)",
    'https://example.com/a': 'path cannot contain url scheme / authority / hostname',
  };
  for (const [p, error] of Object.entries(cases)) assert.deepEqual(parseApiPath(p), { error }, p);
});
