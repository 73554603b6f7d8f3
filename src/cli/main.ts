// The single `nightjar` command. Each subcommand lives in its own module and registers itself here.
import { Command } from 'commander';
import { UserError } from '../util/errors.ts';
import { registerCommands } from './commands.ts';

const program = new Command('nightjar')
  .description('Nightjar: an alert broker for time-domain astronomy')
  .showHelpAfterError()
  .configureOutput({ outputError: (str, write) => write(str) });

registerCommands(program);

// `nightjar decode big.avro | head` closes our stdout early: that is a normal end, not a crash.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof UserError) {
    process.stderr.write(`nightjar: ${err.message}\n`);
    process.exit(err.exitCode);
  }
  throw err;
}
