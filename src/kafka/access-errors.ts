// One-line explanations of the refusals of a secure cluster: a wrong password, a topic the user
// may not read (another account's private stream), a consumer group outside the user's prefix.
// The client reports them as nested protocol errors with numeric codes ("Topic authorization
// failed." three levels down), or, for a failed sign-in, as a network error around them.
import { UserError } from '../util/errors.ts';
import type { KafkaSettings } from './connection.ts';
import { hasKafkaErrorCode } from './errors.ts';

/** Kafka error codes of refusals (the protocol's error table). */
export const KAFKA_ACCESS_ERRORS = {
  TOPIC_AUTHORIZATION_FAILED: 29,
  GROUP_AUTHORIZATION_FAILED: 30,
  CLUSTER_AUTHORIZATION_FAILED: 31,
  UNSUPPORTED_SASL_MECHANISM: 33,
  SASL_AUTHENTICATION_FAILED: 58,
} as const;

export interface AccessContext {
  /** The topics the request was about. */
  topics?: readonly string[];
  /** The consumer group it used. */
  groupId?: string;
}

/** A clear one-line UserError when err is a sign-in or authorisation refusal; undefined for anything else. */
export function accessError(settings: KafkaSettings, err: unknown, context: AccessContext = {}): UserError | undefined {
  const where = settings.bootstrap.join(',');
  const user = settings.sasl === undefined ? 'an anonymous client' : `user ${settings.sasl.username}`;
  const codes = KAFKA_ACCESS_ERRORS;
  if (hasKafkaErrorCode(err, codes.SASL_AUTHENTICATION_FAILED)) {
    const mechanism = settings.sasl?.mechanism ?? 'SASL';
    return new UserError(`Kafka at ${where} refused ${user}: wrong username or password (${mechanism} authentication failed)`);
  }
  if (hasKafkaErrorCode(err, codes.UNSUPPORTED_SASL_MECHANISM)) {
    return new UserError(`Kafka at ${where} does not accept the SASL mechanism ${settings.sasl?.mechanism ?? '(none)'}; try SCRAM-SHA-512 or SCRAM-SHA-256`);
  }
  if (hasKafkaErrorCode(err, codes.TOPIC_AUTHORIZATION_FAILED)) {
    const topics = context.topics === undefined || context.topics.length === 0 ? 'the topic' : context.topics.length === 1 ? `topic ${context.topics[0]}` : `one of the topics ${context.topics.join(', ')}`;
    return new UserError(`Kafka at ${where}: ${user} is not allowed to read ${topics} (topic authorization failed): it is another account's private stream, or not a stream at all`);
  }
  if (hasKafkaErrorCode(err, codes.GROUP_AUTHORIZATION_FAILED)) {
    const prefix = settings.sasl === undefined ? '' : `: use a group id starting with "${settings.sasl.username}-"`;
    return new UserError(`Kafka at ${where}: ${user} may not use consumer group ${context.groupId ?? '(this one)'} (group authorization failed)${prefix}`);
  }
  if (hasKafkaErrorCode(err, codes.CLUSTER_AUTHORIZATION_FAILED)) {
    return new UserError(`Kafka at ${where}: ${user} is not allowed to do this (cluster authorization failed); it needs the broker's admin account`);
  }
  return undefined;
}
