import type { Command } from 'commander';
import { bashScript } from './bash.js';
import { fishScript } from './fish.js';
import { completionTree } from './model.js';
import { zshScript } from './zsh.js';

/** The completion script for `shell`, from the tree under `program` as it is now. */
export function completionScript(program: Command, shell: 'bash' | 'zsh' | 'fish'): string {
  const tree = completionTree(program);
  if (shell === 'bash') return bashScript(tree);
  if (shell === 'zsh') return zshScript(tree);
  return fishScript(tree);
}
