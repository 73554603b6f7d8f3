import type { Command } from 'commander';
import { registerKafkaCommand } from './kafka-command.ts';
import { registerGenerateCommand } from './generate-command.ts';
import { registerDecodeCommand } from './decode-command.ts';
import { registerDemoCommand } from './demo-command.ts';
import { registerPrintCommand } from './print-command.ts';
import { registerMonitorCommand } from './monitor-command.ts';
import { registerFilterStreamCommand } from './filter-stream-command.ts';
import { registerSimulateCommand } from './simulate-command.ts';
import { registerRegistryCommand } from './registry-command.ts';
import { registerFilterCommand } from './filter-command.ts';
import { registerBrokerCommand } from './broker-command.ts';
import { registerRegisterCommand } from './register-command.ts';
import { registerConsumeCommand } from './consume-command.ts';
import { registerViewCommand } from './view-command.ts';
import { registerExportCommand } from './export-command.ts';
import { registerWebCommand } from './web-command.ts';
import { registerPostgresCommand } from './postgres-command.ts';

/** Adds every subcommand to the program. One line per command module. */
export function registerCommands(program: Command): void {
  registerKafkaCommand(program);
  registerGenerateCommand(program);
  registerDecodeCommand(program);
  registerDemoCommand(program);
  registerPrintCommand(program);
  registerMonitorCommand(program);
  registerFilterStreamCommand(program);
  registerSimulateCommand(program);
  registerRegistryCommand(program);
  registerFilterCommand(program);
  registerBrokerCommand(program);
  registerRegisterCommand(program);
  registerConsumeCommand(program);
  registerViewCommand(program);
  registerExportCommand(program);
  registerWebCommand(program);
  registerPostgresCommand(program);
}
