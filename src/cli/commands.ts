import type { Command } from 'commander';
import { registerKafkaCommand } from './kafka-command.ts';
import { registerGenerateCommand } from './generate-command.ts';
import { registerDecodeCommand } from './decode-command.ts';
import { registerDemoCommand } from './demo-command.ts';

/** Adds every subcommand to the program. One line per command module. */
export function registerCommands(program: Command): void {
  registerKafkaCommand(program);
  registerGenerateCommand(program);
  registerDecodeCommand(program);
  registerDemoCommand(program);
}
