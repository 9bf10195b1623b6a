// The status bar's short form of who acts: the user or role name of an IAM ARN, a Kubernetes user as is.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { shortPrincipal } from '../../src/extension/environmentFacts';

test('an IAM or STS ARN is shortened to its user or role name; anything else is kept, cut when long', () => {
  assert.equal(shortPrincipal('arn:aws:iam::123456789012:user/alice'), 'alice');
  assert.equal(shortPrincipal('arn:aws:iam::123456789012:user/team/alice'), 'team');
  assert.equal(shortPrincipal('arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Admin_abc/alice@example.com'), 'AWSReservedSSO_Admin_abc');
  assert.equal(shortPrincipal('arn:aws-cn:iam::123456789012:role/deployer'), 'deployer');
  assert.equal(shortPrincipal('arn:aws:iam::123456789012:root'), 'root');
  assert.equal(shortPrincipal('kubernetes-admin'), 'kubernetes-admin');
  assert.equal(shortPrincipal('system:serviceaccount:ci:deployer-with-a-very-long-name-indeed'), 'system:serviceaccount:ci:deployer-with-…');
});
