// `nightjar register`: stores consumer credentials in a profile (fink-client's register), or
// shows a profile without its password.
import type { Command } from 'commander';
import { DEFAULT_PROFILE, credentialsFile, makeCredentials, readCredentials, showCredentials, writeCredentials } from '../client/credentials.ts';
import { UserError } from '../util/errors.ts';

interface RegisterFlags {
  username?: string;
  password?: string;
  groupId?: string;
  topics?: string;
  servers?: string;
  maxTimeout?: string;
  profile: string;
  show?: boolean;
}

export function registerRegisterCommand(program: Command): void {
  program
    .command('register')
    .description('store consumer credentials (user, group id, topics, servers) in a profile for `nightjar consume`; --show prints a profile without its password')
    .option('--username <name>', 'user name (also the SASL user when a password is given)')
    .option('--password <password>', 'SASL password (SCRAM-SHA-512); leave out for a cluster without SASL')
    .option('--group-id <id>', 'consumer group id: the same id resumes where it left off, a new one reads from the start')
    .option('--topics <t1,t2>', 'comma-separated topics to consume')
    .option('--servers <host:port,...>', 'Kafka bootstrap servers')
    .option('--max-timeout <seconds>', 'seconds to wait for an alert before saying none came', '10')
    .option('--profile <name>', 'profile name', DEFAULT_PROFILE)
    .option('--show', 'print the profile (password hidden) and exit')
    .addHelpText('after', `
The profile is written to ~/.nightjar/credentials/<profile>.yaml ($NIGHTJAR_HOME/credentials
when NIGHTJAR_HOME is set), readable by you only (mode 0600), with fink-client's keys:
username, password, group_id, mytopics, servers, maxtimeout.`)
    .action(async (flags: RegisterFlags) => runRegister(flags));
}

async function runRegister(flags: RegisterFlags): Promise<void> {
  if (flags.show) {
    const credentials = await readCredentials(flags.profile);
    if (credentials === undefined) throw new UserError(`no profile "${flags.profile}": ${credentialsFile(flags.profile)} does not exist (create it with nightjar register)`);
    process.stdout.write(`# ${credentialsFile(flags.profile)}\n${showCredentials(credentials)}`);
    return;
  }
  const missing = (['username', 'groupId', 'topics', 'servers'] as const).filter((k) => flags[k] === undefined);
  if (missing.length > 0) {
    const names = missing.map((k) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`);
    throw new UserError(`nightjar register needs ${names.join(', ')}`);
  }
  const credentials = makeCredentials({
    username: flags.username as string,
    password: flags.password,
    groupId: flags.groupId as string,
    topics: flags.topics as string,
    servers: flags.servers as string,
    maxTimeout: flags.maxTimeout,
  });
  const file = await writeCredentials(flags.profile, credentials);
  process.stdout.write(`credentials of profile "${flags.profile}" written to ${file}\n`);
}
