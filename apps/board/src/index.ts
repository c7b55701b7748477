export { boardCommand } from './board-command.js';
export { startBoard, type StartBoardOptions, type RunningBoard } from './board-server.js';
export { resolveBoardAccess, type BoardAccess } from './board-access.js';
export { OPERATOR_ACTIONS } from './operator-actions.js';
